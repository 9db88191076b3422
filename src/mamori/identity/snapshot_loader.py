"""Loading the identity model from a Mamori Snapshot: each account's IAM (GAAD's lists plus the
users' credentials), the workloads that run with a role, and the organisation's SCPs and RCPs.

Collectors are read defensively: a service that was not collected at all is skipped; a key
that is missing or holds an unavailable marker is recorded in `errors`, never read as "none".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mamori.core import InputError
from mamori.identity.loaders import (
    IamLoader,
    Raw,
    decode_policy_document,
    dig,
    object_list,
    opt_text_field,
    text_field,
    timestamp,
    why_unavailable,
)
from mamori.identity.model import (
    AccessKey,
    IamAccount,
    IdentityModel,
    OrgAccount,
    Organization,
    OrgPolicyKind,
    PolicyDoc,
    Workload,
    WorkloadKind,
)
from mamori.inventory import GLOBAL, Snapshot, is_unavailable

# The IAM collector stores GAAD's four lists under these keys, item for item.
_SNAPSHOT_LISTS = {
    "users": "UserDetailList",
    "groups": "GroupDetailList",
    "roles": "RoleDetailList",
    "policies": "Policies",
}
_NAMES_SHOWN = 5


def model_from_snapshot(snapshot: Snapshot) -> IdentityModel:
    model = IdentityModel(partition=snapshot.partition)
    for account_id, body in sorted(snapshot.accounts.items()):
        services = dig(body, "services")
        services = services if isinstance(services, dict) else {}
        name = dig(body, "name")
        account = IamAccount(account_id, name if isinstance(name, str) else "")
        profiles = _load_iam(account, services)
        _Workloads(account, profiles, snapshot.partition).load(services)
        model.accounts[account_id] = account
    model.organization = _load_organization(snapshot)
    return model


# -- IAM -----------------------------------------------------------------------------------------


def _load_iam(account: IamAccount, services: Mapping[str, Any]) -> dict[str, str]:
    """Loads the account's IAM block into `account`; returns its instance profile index."""
    block = dig(services, "iam", GLOBAL)
    if not isinstance(block, dict):
        account.errors.append("iam: not collected for this account")
        return {}
    lists: dict[str, list[Any]] = {}
    for key, gaad_key in _SNAPSHOT_LISTS.items():
        value = block.get(key)
        if isinstance(value, list):
            lists[gaad_key] = value
        else:
            account.errors.append(_unreadable(f"iam.{key}", value))
    report = block.get("credential_report")
    if is_unavailable(report):
        account.errors.append(_unreadable("iam.credential_report", report))
    credentials = _Credentials(report)
    loader = IamLoader(home=account, credentials=credentials)
    loader.load(lists)
    account.errors.extend(credentials.messages())
    return loader.profiles


def _unreadable(what: str, value: Any) -> str:
    if is_unavailable(value):
        return f"{what} could not be read ({why_unavailable(value)})"
    if value is None:
        return f"{what} is not in the snapshot"
    return f"{what} is not a list"


class _Credentials:
    """A snapshot user's keys, password and MFA: from the collector's per-user reads and, where
    those failed, from the credential report. Failures are summed up per cause, not per user: a
    denied call fails for every user alike."""

    def __init__(self, report: Any) -> None:
        rows = report if isinstance(report, list) else []
        self.rows: dict[str, Raw] = {
            r["user"]: r for r in rows if isinstance(r, dict) and isinstance(r.get("user"), str)
        }
        self.gaps: dict[tuple[str, str], list[str]] = {}

    def __call__(self, raw: Raw, name: str) -> dict[str, Any]:
        row = self.rows.get(name, {})
        devices = self._read(raw, "MFADevices", name)
        profile = self._read(raw, "LoginProfile", name)
        if isinstance(profile, dict):
            has_password: bool | None = True
        elif "LoginProfile" in raw and raw["LoginProfile"] is None:
            has_password = False  # the collector's answer to NoSuchEntity
        else:
            has_password = _flag(row.get("password_enabled"))
        return {
            "access_keys": self._keys(raw, name),
            "has_password": has_password,
            "password_last_used": timestamp(row.get("password_last_used")),
            "mfa_active": (
                bool(devices) if isinstance(devices, list) else _flag(row.get("mfa_active"))
            ),
        }

    def _read(self, raw: Raw, key: str, name: str) -> Any:
        value = raw.get(key)
        if is_unavailable(value):
            self.gaps.setdefault((key, why_unavailable(value)), []).append(name)
            return None
        return value

    def _keys(self, raw: Raw, name: str) -> list[AccessKey] | None:
        items = self._read(raw, "AccessKeys", name)
        if not isinstance(items, list):
            return None
        keys: list[AccessKey] = []
        for item in items:
            key_id = dig(item, "AccessKeyId")
            if not isinstance(key_id, str):
                self.gaps.setdefault(("AccessKeys", "Malformed"), []).append(name)
                continue
            status = item.get("Status")
            keys.append(
                AccessKey(
                    id=key_id,
                    status=status if isinstance(status, str) else "",
                    created=timestamp(item.get("CreateDate")),
                    last_used=timestamp(dig(self._read(item, "LastUsed", name), "LastUsedDate")),
                )
            )
        return keys

    def messages(self) -> list[str]:
        out = []
        for (what, why), names in sorted(self.gaps.items()):
            shown = ", ".join(names[:_NAMES_SHOWN]) + (", ..." if len(names) > _NAMES_SHOWN else "")
            out.append(
                f"iam.users {what} could not be read for {len(names)} user(s) ({why}): {shown}"
            )
        return out


def _flag(value: Any) -> bool | None:
    """The credential report's "true"/"false"; anything else ("not_supported") is unknown."""
    return {"true": True, "false": False}.get(value) if isinstance(value, str) else None


# -- workloads -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """Where one kind of workload is in the snapshot and how its role is named."""

    kind: WorkloadKind
    service: str
    key: str
    role: Callable[[_Workloads, Raw], str | None]
    arn_keys: tuple[str, ...] = ()  # tried after the collector's own "_arn"
    name_keys: tuple[str, ...] = ()
    details: Mapping[str, str] = field(default_factory=dict)  # detail -> "Dotted.Path"
    arn_resource: str = ""  # for items that carry no ARN: the resource part, "{}" the name


def _role_of(key: str) -> Callable[[_Workloads, Raw], str | None]:
    return lambda loader, item: loader.role(loader.read(item, key))


_SOURCES = (
    _Source(
        "lambda",
        "lambda",
        "functions",
        _role_of("Role"),
        arn_keys=("FunctionArn",),
        name_keys=("FunctionName",),
        details={"Runtime": "Runtime"},
    ),
    _Source(
        "ec2",
        "ec2",
        "instances",
        lambda loader, item: loader.profile(loader.read(item, "IamInstanceProfile")),
        name_keys=("InstanceId",),
        details={
            "State": "State.Name",
            "InstanceProfileArn": "IamInstanceProfile.Arn",
            "HttpTokens": "MetadataOptions.HttpTokens",
            "PublicIpAddress": "PublicIpAddress",
        },
    ),
    # Before autoscaling, whose groups name their launch template.
    _Source(
        "launch-template",
        "ec2",
        "launch_templates",
        lambda loader, item: loader.template(item),
        name_keys=("LaunchTemplateName",),
        details={"LaunchTemplateId": "LaunchTemplateId"},
    ),
    _Source(
        "cloudformation",
        "cloudformation",
        "stacks",
        _role_of("RoleARN"),
        arn_keys=("StackId",),
        name_keys=("StackName",),
        details={"StackStatus": "StackStatus"},
    ),
    _Source(
        "codebuild",
        "codebuild",
        "projects",
        _role_of("serviceRole"),
        arn_keys=("arn",),
        name_keys=("name",),
    ),
    _Source(
        "glue-dev-endpoint",
        "glue",
        "dev_endpoints",
        _role_of("RoleArn"),
        name_keys=("EndpointName",),
        details={"Status": "Status"},
        arn_resource="devEndpoint/{}",
    ),
    _Source(
        "glue-job", "glue", "jobs", _role_of("Role"), name_keys=("Name",), arn_resource="job/{}"
    ),
    _Source(
        "sagemaker-notebook",
        "sagemaker",
        "notebook_instances",
        _role_of("RoleArn"),
        arn_keys=("NotebookInstanceArn",),
        name_keys=("NotebookInstanceName",),
        details={"DirectInternetAccess": "DirectInternetAccess", "RootAccess": "RootAccess"},
    ),
    _Source(
        "ecs-task",
        "ecs",
        "task_definitions",
        _role_of("taskRoleArn"),
        arn_keys=("taskDefinitionArn",),
        details={"executionRoleArn": "executionRoleArn"},
    ),
    _Source(
        "autoscaling",
        "autoscaling",
        "groups",
        lambda loader, item: loader.group_role(item),
        arn_keys=("AutoScalingGroupARN",),
        name_keys=("AutoScalingGroupName",),
        details={"LaunchConfigurationName": "LaunchConfigurationName"},
    ),
)

# Where a launch template's instance profile may be: the collector keeps the default version's
# IamInstanceProfile, on the item itself or under the version's data.
_TEMPLATE_PROFILE_PATHS = (
    ("IamInstanceProfile",),
    ("LaunchTemplateData", "IamInstanceProfile"),
    ("DefaultVersion", "LaunchTemplateData", "IamInstanceProfile"),
)


class _Workloads:
    def __init__(self, account: IamAccount, profiles: dict[str, str], partition: str) -> None:
        self.account = account
        self.profiles = profiles
        self.partition = partition
        self.region = ""
        self.block: Raw = {}
        self.templates: dict[tuple[str, str], str | None] = {}  # (region, id or name) -> role
        self.where = ""  # the workload being read, for errors

    def load(self, services: Mapping[str, Any]) -> None:
        for source in _SOURCES:
            per_region = services.get(source.service)
            if per_region is None:
                continue  # not collected at all
            if not isinstance(per_region, dict):
                self.account.errors.append(f"{source.service}: not an object of regions")
                continue
            for region, block in sorted(per_region.items()):
                self.region, self.block = region, block if isinstance(block, dict) else {}
                items = self.block.get(source.key)
                what = f"{source.service}.{source.key} in {region}"
                if not isinstance(items, list):
                    self.account.errors.append(_unreadable(what, items))
                    continue
                for index, item in enumerate(items):
                    try:
                        self.account.workloads.append(self._workload(source, item, what, index))
                    except InputError as exc:
                        self.account.errors.append(f"{what}: {exc}; skipped")

    def _workload(self, source: _Source, item: Any, what: str, index: int) -> Workload:
        if is_unavailable(item):
            raise InputError(f"[{index}] could not be read ({why_unavailable(item)})")
        if not isinstance(item, dict):
            raise InputError(f"[{index}] is not an object")
        name = next((item[k] for k in source.name_keys if isinstance(item.get(k), str)), None)
        arn = next(
            (item[k] for k in ("_arn", *source.arn_keys) if isinstance(item.get(k), str)), None
        )
        if arn is None and source.arn_resource and name:
            resource = source.arn_resource.format(name)
            arn = f"arn:{self.partition}:{source.service}:{self.region}:"
            arn += f"{self.account.account_id}:{resource}"
        if not arn:
            raise InputError(f"[{index}] has no ARN")
        details = {
            label: value
            for label, path in source.details.items()
            if isinstance(value := dig(item, *path.split(".")), str | bool | int | float)
        }
        fallback = item.get("_name") if isinstance(item.get("_name"), str) else None
        name = name or fallback or arn.rsplit("/", 1)[-1]
        self.where = f"{what}: {name}"
        return Workload(
            kind=source.kind,
            arn=arn,
            name=name,
            account=self.account.account_id,
            region=self.region,
            role_arn=source.role(self, item),
            details=details,
        )

    def read(self, item: Any, *path: str) -> Any:
        """A field that names the role; one that could not be read is an error, and the
        workload's role is then unknown (None), not "no role"."""
        value = item
        for depth, key in enumerate(path, 1):
            value = value.get(key) if isinstance(value, dict) else None
            if is_unavailable(value):
                field_name = ".".join(path[:depth])
                self.account.errors.append(
                    f"{self.where}: {field_name} could not be read ({why_unavailable(value)})"
                )
                return None
        return value

    def role(self, ref: Any) -> str | None:
        """A role given by ARN or (Glue jobs) by name."""
        if not isinstance(ref, str) or not ref:
            return None
        if ref.startswith("arn:"):
            return ref
        known = self.account.role_by_name(ref)
        if known is not None:
            return known.arn
        return f"arn:{self.partition}:iam::{self.account.account_id}:role/{ref}"

    def profile(self, ref: Any) -> str | None:
        """The role in an instance profile given as {Arn} / {Name}, an ARN or a name."""
        if isinstance(ref, dict):
            ref = ref.get("Arn") or ref.get("Name")
        if not isinstance(ref, str) or not ref:
            return None
        if ref.startswith("arn:"):
            return self.profiles.get(ref)
        return self.profiles.get(f"{self.account.account_id}/{ref}")

    def template(self, item: Raw) -> str | None:
        spec = next((p for path in _TEMPLATE_PROFILE_PATHS if (p := self.read(item, *path))), None)
        role = self.profile(spec)
        for key in ("LaunchTemplateId", "LaunchTemplateName"):
            if isinstance(item.get(key), str):
                self.templates[(self.region, item[key])] = role
        return role

    def group_role(self, item: Raw) -> str | None:
        """An auto scaling group's role: its launch template's (the default version's: the
        version a group uses is not resolved) or its launch configuration's."""
        spec = item.get("LaunchTemplate") or dig(
            item, "MixedInstancesPolicy", "LaunchTemplate", "LaunchTemplateSpecification"
        )
        if isinstance(spec, dict):
            for key in ("LaunchTemplateId", "LaunchTemplateName"):
                ref = spec.get(key)
                if isinstance(ref, str) and (self.region, ref) in self.templates:
                    return self.templates[(self.region, ref)]
            return None
        wanted = item.get("LaunchConfigurationName")
        if not isinstance(wanted, str):
            return None
        configs = self.read(self.block, "launch_configurations")
        if configs is None and "launch_configurations" not in self.block:
            self.account.errors.append(f"{self.where}: launch configurations were not collected")
        for config in configs if isinstance(configs, list) else []:
            if dig(config, "LaunchConfigurationName") == wanted:
                return self.profile(config.get("IamInstanceProfile"))
        return None


# -- the organisation ---------------------------------------------------------------------------


def _load_organization(snapshot: Snapshot) -> Organization | None:
    """From the management account's data; member accounts see only the organisation's id."""
    blocks = {
        acct: block
        for acct in sorted(snapshot.accounts)
        if (block := dig(snapshot.accounts[acct], "services", "organizations", GLOBAL)) is not None
    }
    seen: Raw | None = None
    problems: list[str] = []
    for acct, block in blocks.items():
        org = dig(block, "organization")
        if isinstance(org, dict) and not is_unavailable(org):
            if org.get("MasterAccountId") == acct:
                return _full_organization(acct, org, block)
            seen = seen or org
        elif org is not None:
            problems.append(f"account {acct}: {_unreadable('organizations.organization', org)}")
    if seen is None and not problems:
        return None  # no scanned account is in an organisation
    org_id, management = (
        (str(seen.get("Id") or ""), str(seen.get("MasterAccountId") or "")) if seen else ("", "")
    )
    reason = (
        f"the management account {management} was not scanned"
        if seen
        else "the organisation could not be read"
    )
    return Organization(
        org_id, management, errors=problems, unavailable={"scp": reason, "rcp": reason}
    )


def _full_organization(management: str, org: Raw, block: Raw) -> Organization:
    out = Organization(str(org.get("Id") or ""), management)
    if not out.id:
        out.errors.append("organizations.organization has no Id")
    accounts = block.get("accounts")
    if isinstance(accounts, list):
        for index, raw in enumerate(accounts):
            _org_account(out, raw, index)
    else:
        out.errors.append(_unreadable("organizations.accounts", accounts))
        out.unavailable["accounts"] = out.errors[-1]
    out.scps_by_target = _org_policies(out, block, "scp") or {}
    rcps = _org_policies(out, block, "rcp")
    out.rcps_by_target = None if "rcp" in out.unavailable else rcps
    return out


def _org_account(out: Organization, raw: Any, index: int) -> None:
    where = f"organizations.accounts[{index}]"
    account_id = dig(raw, "Id")
    try:
        if not isinstance(raw, dict):
            raise InputError(f"{where}: not an object")
        account_id = text_field(raw, "Id", where)
        where = f"organization account {account_id}"
        parents = object_list(raw, "Parents", where)
        if not parents or parents[-1].get("Type") != "ROOT":
            raise InputError(f"{where}: Parents does not end at the root")
        chain = [text_field(p, "Id", where) for p in reversed(parents)]
    except InputError as exc:
        out.errors.append(f"{exc}; skipped")
        if isinstance(account_id, str):
            out.unavailable[account_id] = str(exc)
        return
    name = raw.get("Name")
    out.accounts[account_id] = OrgAccount(
        account_id,
        name if isinstance(name, str) else "",
        chain,
        is_management=account_id == out.management_account,
    )


def _org_policies(
    out: Organization, block: Raw, kind: OrgPolicyKind
) -> dict[str, list[PolicyDoc]] | None:
    """Policies of `kind` by target id; None when they are unavailable. A policy that cannot be
    read makes the whole kind unavailable: without it, levels would allow too much."""
    key = f"{kind}s"
    listing = block.get(key)
    if not isinstance(listing, list):
        reason = _unreadable(f"organizations.{key}", listing)
        if listing is not None or kind == "scp":  # RCPs may simply not be collected yet
            out.errors.append(reason)
        out.unavailable[kind] = reason
        return None
    by_target: dict[str, list[PolicyDoc]] = {}
    label = kind.upper()
    for index, raw in enumerate(listing):
        where = f"{label} organizations.{key}[{index}]"
        try:
            if not isinstance(raw, dict) or is_unavailable(raw):
                raise InputError(f"{where}: not an object")
            where = f"{label} {raw.get('Name') or raw.get('Id') or index}"
            arn = opt_text_field(raw, "Arn", where)
            name = opt_text_field(raw, "Name", where) or opt_text_field(raw, "Id", where) or where
            document = decode_policy_document(raw.get("Content"), where)
            doc = PolicyDoc(arn or f"{kind}:{name}", name, arn, kind, document)
            targets = [text_field(t, "TargetId", where) for t in object_list(raw, "Targets", where)]
        except InputError as exc:
            out.errors.append(str(exc))
            out.unavailable[kind] = str(exc)
            continue
        for target in targets:
            by_target.setdefault(target, []).append(doc)
    return by_target
