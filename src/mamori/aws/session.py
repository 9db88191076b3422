"""boto3 sessions for one or many accounts, through the standard credential chain."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from mamori.aws.errors import aws_error_text
from mamori.core import AwsAccessError

# The role Mamori assumes in member accounts unless told otherwise; its permissions are what
# `mamori permissions` prints (read-only).
DEFAULT_AUDIT_ROLE = "MamoriAuditRole"
DEFAULT_HOME_REGION = "us-east-1"


@dataclass(frozen=True)
class AwsOptions:
    profile: str | None = None
    endpoint_url: str | None = None
    max_attempts: int = 5
    retry_mode: str = "adaptive"
    home_region: str | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 30.0


class CallCounter:
    """Counts the API calls made through every session it is attached to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total = 0
        self.by_operation: dict[str, int] = {}

    def __call__(self, model: Any = None, **_: Any) -> None:
        name = f"{model.service_model.service_name}:{model.name}" if model is not None else "?"
        with self._lock:
            self.total += 1
            self.by_operation[name] = self.by_operation.get(name, 0) + 1


@dataclass
class AccountSession:
    """A boto3 session acting in one AWS account, with a thread-safe client cache."""

    account_id: str
    session: boto3.Session
    options: AwsOptions
    name: str = ""
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        # boto3 sessions are not thread-safe when creating clients; clients themselves are.
        with self._lock:
            cached = self._clients.get(key)
            if cached is None:
                cached = make_client(self.session, service, region, self.options)
                self._clients[key] = cached
            return cached

    @property
    def partition(self) -> str:
        return self.session.get_partition_for_region(
            self.options.home_region or DEFAULT_HOME_REGION
        )


def _config(service: str, options: AwsOptions) -> Config:
    extra: dict[str, Any] = {}
    if service == "s3":
        # Emulated and compatible endpoints rarely resolve bucket subdomains.
        extra["s3"] = {"addressing_style": "path"} if options.endpoint_url else {}
    if (
        service == "s3control"
        and options.endpoint_url
        and options.endpoint_url.startswith("http://")
    ):
        # S3 Control puts the account id into the host name (<account>.<endpoint host>), which
        # does not resolve for a single local endpoint; sent through that endpoint as a
        # plain-HTTP proxy, the absolute-form request still reaches it intact.
        extra["proxies"] = {"http": options.endpoint_url}
    return Config(
        retries={"max_attempts": options.max_attempts, "mode": options.retry_mode},  # type: ignore[arg-type]
        connect_timeout=options.connect_timeout,
        read_timeout=options.read_timeout,
        max_pool_connections=32,
        **extra,
    )


def make_client(session: boto3.Session, service: str, region: str, options: AwsOptions) -> Any:
    kwargs: dict[str, Any] = {"region_name": region, "config": _config(service, options)}
    if options.endpoint_url:
        kwargs["endpoint_url"] = options.endpoint_url
    return session.client(service, **kwargs)  # type: ignore[call-overload]


def base_session(options: AwsOptions, counter: CallCounter | None = None) -> boto3.Session:
    try:
        session = boto3.Session(profile_name=options.profile)
    except BotoCoreError as exc:
        raise AwsAccessError(f"AWS profile {options.profile!r}: {exc}") from exc
    if counter is not None:
        session.events.register("before-call", counter)
    return session


def caller_account(session: boto3.Session, options: AwsOptions) -> str:
    region = options.home_region or session.region_name or DEFAULT_HOME_REGION
    try:
        ident = make_client(session, "sts", region, options).get_caller_identity()
    except NoCredentialsError as exc:
        raise AwsAccessError(
            "no AWS credentials found (profile, environment or instance role); see `aws configure`"
        ) from exc
    except ClientError as exc:
        raise AwsAccessError(f"credentials rejected by STS: {aws_error_text(exc)}") from exc
    except BotoCoreError as exc:
        raise AwsAccessError(f"cannot reach STS: {exc}") from exc
    return str(ident["Account"])


def assume_role_session(
    base: boto3.Session,
    role_arn: str,
    options: AwsOptions,
    *,
    external_id: str | None = None,
    counter: CallCounter | None = None,
    session_name: str = "mamori-audit",
) -> boto3.Session:
    """A session whose credentials renew themselves before they expire (long org scans)."""
    region = options.home_region or base.region_name or DEFAULT_HOME_REGION
    sts = make_client(base, "sts", region, options)

    def fetch() -> dict[str, str]:
        kwargs: dict[str, Any] = {
            "RoleArn": role_arn,
            "RoleSessionName": session_name,
            "DurationSeconds": 3600,
        }
        if external_id:
            kwargs["ExternalId"] = external_id
        creds = sts.assume_role(**kwargs)["Credentials"]
        expiry = creds["Expiration"]
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": (expiry if isinstance(expiry, str) else expiry.isoformat()),
        }

    try:
        credentials = RefreshableCredentials.create_from_metadata(
            metadata=fetch(), refresh_using=fetch, method="sts-assume-role"
        )
    except ClientError as exc:
        err = exc.response.get("Error", {})
        raise AwsAccessError(
            f"cannot assume {role_arn}: {err.get('Code')}: {err.get('Message')}"
        ) from exc
    core = botocore.session.get_session()
    # boto3's documented way to hand a session refreshable credentials.
    core._credentials = credentials  # type: ignore[attr-defined]
    core.set_config_variable("region", region)
    session = boto3.Session(botocore_session=core)
    if counter is not None:
        session.events.register("before-call", counter)
    return session


def enabled_regions(session: AccountSession) -> list[str]:
    region = session.options.home_region or session.session.region_name or DEFAULT_HOME_REGION
    try:
        answer = session.client("ec2", region).describe_regions()
    except (ClientError, BotoCoreError) as exc:
        raise AwsAccessError(
            f"cannot list enabled regions in account {session.account_id}: {exc}"
        ) from exc
    return sorted(r["RegionName"] for r in answer.get("Regions", []))
