"""The emulated AWS that `mamori demo` and the integration tests run against.

moto's server runs in this process on 127.0.0.1 and a free port, and is talked to over HTTP
with boto3, exactly as real AWS would be. Everything that talks to it is built from an
isolated botocore session: no profile, region, credential, endpoint or proxy of the user's
real AWS configuration can leak into the demo (nor demo traffic leave this machine).

A few settings have no AWS API at all (an access key's creation date, the root user's MFA
and access keys). The functions at the end of this module set them in moto's in-process
state, which is why the server must run in this process.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import threading
import urllib.request
from datetime import timedelta
from types import TracebackType
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

from mamori.core import utcnow

MANAGEMENT_ACCOUNT = "123456789012"  # moto maps its default credentials to this account
FAKE_KEY = "testing"
HOME_REGION = "us-east-1"
ORG_ACCESS_ROLE = "OrganizationAccountAccessRole"
# Read by moto when it creates an account's backends (lazily, on the first request for that
# account), so they must stay set for as long as the server runs.
_MOTO_ENV = {
    # AdministratorAccess, AWSSupportAccess... must exist to be attached.
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
    # Otherwise ~1,300 public AMIs and their snapshots appear as every account's own.
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
}
_PARTITION = "aws"
# moto builds ~1,600 managed-policy objects per account and partition, and the demo's three
# accounts make hundreds of thousands of long-lived objects; with the default thresholds the
# cyclic collector rescans them over and over (measured: seeding 33 s -> 20 s with this).
_GC_THRESHOLDS = (10_000, 10, 10)


class EmulatedAws:
    """moto in server mode, as a context manager: `with EmulatedAws() as aws: aws.url`."""

    def __init__(self, host: str = "127.0.0.1", *, quiet: bool = True) -> None:
        self._host = host
        self._quiet = quiet
        self._server: Any = None
        self._url: str | None = None
        self._saved_env: dict[str, str | None] = {}
        self._saved_log_level: int | None = None
        self._saved_gc: tuple[int, int, int] | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> EmulatedAws:
        if self._server is not None:
            return self
        self._saved_env = {k: os.environ.get(k) for k in _MOTO_ENV}
        os.environ.update(_MOTO_ENV)
        self._saved_gc = gc.get_threshold()
        gc.set_threshold(*_GC_THRESHOLDS)
        if self._quiet:
            # werkzeug logs every request to stderr, and its errors too (a service moto lacks
            # already reaches the client as an error); the demo's output is the scan.
            werkzeug_log = logging.getLogger("werkzeug")
            self._saved_log_level = werkzeug_log.level
            werkzeug_log.setLevel(logging.CRITICAL)
        try:
            self._serve()
            # moto's state is per process, not per server: start from nothing even if an
            # earlier server or mock in this process left accounts behind.
            self.reset()
        except BaseException:
            self.stop()
            raise
        return self

    def _serve(self) -> None:
        from moto.server import ThreadedMotoServer  # heavy: imported only to serve

        # Port 0: the OS picks a free port at bind time, so two servers never race for one.
        server = ThreadedMotoServer(ip_address=self._host, port=0, verbose=False)
        server.start()
        self._server = server
        inner = server._server  # the werkzeug server moto started
        if inner is None:
            raise RuntimeError("moto's server did not start")
        inner.app = _NotEmulated(inner.app)
        host, port = server.get_host_and_port()
        self._url = f"http://{host}:{port}"

    def stop(self) -> None:
        server, self._server, self._url = self._server, None, None
        if server is not None:
            server.stop()
            # ThreadedMotoServer.stop() ends serve_forever but leaves the socket bound.
            inner = getattr(server, "_server", None)
            if inner is not None:
                inner.server_close()
        self._restore()

    def _restore(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = {}
        if self._saved_log_level is not None:
            logging.getLogger("werkzeug").setLevel(self._saved_log_level)
            self._saved_log_level = None
        if self._saved_gc is not None:
            gc.set_threshold(*self._saved_gc)
            self._saved_gc = None

    def reset(self) -> None:
        """Forget every account and resource (moto's documented reset endpoint)."""
        # S310: the URL is this object's own http://127.0.0.1 server, never user input.
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")  # noqa: S310
        # No proxy: a user's HTTP_PROXY must not see (or break) traffic to 127.0.0.1.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=30) as answer:
            answer.read()

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the emulated AWS is not running; call start() first")
        return self._url

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> EmulatedAws:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def connect(self) -> DemoConnection:
        return DemoConnection(self.url)


class _NotEmulated:
    """In front of moto's dispatcher: a request for a service that moto does not emulate at
    all (Access Analyzer, for one) gets AWS's NotImplemented error, which a scan records as
    "not available". Without this, moto print()s to the user's terminal and crashes on it."""

    def __init__(self, dispatcher: Any) -> None:
        self._dispatcher = dispatcher
        self._known: dict[str, bool] = {}

    def _emulated(self, host: str) -> bool:
        known = self._known.get(host)
        if known is None:
            # moto's own routing rule: its url patterns (the fallback by module name only
            # ever matches hosts that are not AWS host names).
            known = "amazonaws.com" not in host or any(
                p.match(f"http://{host}") for _, p in self._dispatcher.backend_url_patterns
            )
            self._known[host] = known
        return known

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(("/moto-api", "/latest/")):
            host = self._dispatcher.infer_service_region_host(environ, path)
            if host and not self._emulated(host):
                service = host.split(".")[0]
                body = json.dumps(
                    {"__type": "NotImplemented", "message": f"{service} is not emulated"}
                ).encode()
                start_response(
                    "501 Not Implemented",
                    [
                        ("Content-Type", "application/json"),
                        ("x-amzn-ErrorType", "NotImplemented"),
                        ("Content-Length", str(len(body))),
                    ],
                )
                return [body]
        return self._dispatcher(environ, start_response)


# -- talking to it ---------------------------------------------------------------------------


def isolated_session(region: str = HOME_REGION) -> boto3.Session:
    """A boto3 session with the fake credentials that reads nothing from the environment or
    ~/.aws (AWS_PROFILE, AWS_ENDPOINT_URL_*, a config file's region or role...)."""
    no_lookup = {
        name: (None, None, default, convert)
        for name, (_, _, default, convert) in botocore.session.Session.SESSION_VARIABLES.items()
    }
    no_lookup["config_file"] = (None, None, os.devnull, None)
    no_lookup["credentials_file"] = (None, None, os.devnull, None)
    core = botocore.session.Session(session_vars=no_lookup)
    core.set_credentials(FAKE_KEY, FAKE_KEY)
    return boto3.Session(botocore_session=core, region_name=region)


def client_config(url: str, service: str) -> Config:
    extra: dict[str, Any] = {}
    if service == "s3":
        extra["s3"] = {"addressing_style": "path"}
    # S3 Control puts the account id into the host name (<account>.127.0.0.1), which does not
    # resolve; sent through the server as a plain-HTTP proxy, the request reaches moto intact.
    # Everything else must bypass any proxy of the environment.
    proxies = {"http": url} if service == "s3control" else {}
    return Config(
        retries={"max_attempts": 3, "mode": "standard"},
        proxies=proxies,
        connect_timeout=5,
        read_timeout=60,
        max_pool_connections=16,
        **extra,
    )


class DemoConnection:
    """boto3 clients for every account of the emulated organisation, over HTTP.

    One botocore session serves all accounts (clients get each account's credentials), so
    service models are loaded once rather than once per account."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._session = isolated_session()
        self._credentials: dict[str, dict[str, str]] = {
            MANAGEMENT_ACCOUNT: {"aws_access_key_id": FAKE_KEY, "aws_secret_access_key": FAKE_KEY}
        }
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.Lock()

    def client(
        self, service: str, account: str = MANAGEMENT_ACCOUNT, region: str = HOME_REGION
    ) -> Any:
        key = (service, account, region)
        with self._lock:  # creating clients from one session is not thread-safe
            cached = self._clients.get(key)
            if cached is None:
                cached = self._session.client(
                    service,
                    region_name=region,
                    endpoint_url=self.url,  # type: ignore[call-overload]
                    config=client_config(self.url, service),
                    **self._credentials[account],
                )
                self._clients[key] = cached
            return cached

    def assume(self, account: str, role_name: str = ORG_ACCESS_ROLE) -> str:
        """Reach a member account as the organisation would; returns the verified account."""
        answer = self.client("sts").assume_role(
            RoleArn=f"arn:{_PARTITION}:iam::{account}:role/{role_name}",
            RoleSessionName="mamori-demo-seed",
        )["Credentials"]
        with self._lock:
            self._credentials[account] = {
                "aws_access_key_id": answer["AccessKeyId"],
                "aws_secret_access_key": answer["SecretAccessKey"],
                "aws_session_token": answer["SessionToken"],
            }
        actual = str(self.client("sts", account).get_caller_identity()["Account"])
        if actual != account:
            raise RuntimeError(f"assumed {role_name} in {account} but acting in {actual}")
        return actual


# -- state no AWS API can set (in-process only) ----------------------------------------------


def _iam_backend(account: str) -> Any:
    from moto.iam.models import iam_backends

    if account not in iam_backends:
        raise RuntimeError(
            f"account {account} has no IAM state in this process: the emulated "
            "AWS must run in-process for this setting"
        )
    return iam_backends[account][_PARTITION]


def backdate_access_key(account: str, user_name: str, key_id: str, days: int) -> None:
    """Make an access key look `days` old (AWS only ever creates keys dated now)."""
    user = _iam_backend(account).get_user(user_name)
    for key in user.access_keys:
        if key.access_key_id == key_id:
            key.create_date = utcnow() - timedelta(days=days)
            return
    raise RuntimeError(f"access key {key_id} of {user_name} not found in account {account}")


def set_root_credentials(account: str, *, mfa_enabled: bool, access_keys: bool) -> None:
    """Root MFA and root access keys are set by signing in as root, which no API does; they
    show in GetAccountSummary (AccountMFAEnabled, AccountAccessKeysPresent)."""
    summary = _iam_backend(account).account_summary
    # moto keeps these as private attributes with no setter.
    summary._account_mfa_enabled = int(mfa_enabled)
    summary._account_access_keys_present = int(access_keys)
