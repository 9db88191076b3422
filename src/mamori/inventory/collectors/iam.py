"""IAM: users, groups, roles and managed policies as `get-account-authorization-details` gives
them, each user's keys, MFA devices and console password, the credential report, the password
policy, the account summary, virtual MFA devices and server certificates.

`users`, `groups`, `roles` and `policies` are GAAD's UserDetailList, GroupDetailList,
RoleDetailList and Policies, item for item, so that
`{"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles,
"Policies": policies}` is a valid GAAD document for identity analysis. Collectors' own keys
start with `_`; users also carry "AccessKeys", "MFADevices" and "LoginProfile".
"""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Callable
from typing import Any

from mamori.inventory.framework import CollectContext, classify, collector
from mamori.inventory.snapshot import CollectionError, is_unavailable, unavailable

_NO_ENTITY = ("NoSuchEntity",)
# AWS managed policies are left out of GAAD (there are over a thousand, nearly all unused in
# any one account) and fetched one by one for those actually attached or used as boundaries.
_GAAD_FILTER = ["User", "Role", "Group", "LocalManagedPolicy"]
_GAAD_LISTS = {
    "users": "UserDetailList",
    "groups": "GroupDetailList",
    "roles": "RoleDetailList",
    "policies": "Policies",
}
_NAME_KEYS = {
    "users": "UserName",
    "groups": "GroupName",
    "roles": "RoleName",
    "policies": "PolicyName",
}
# AWS usually finishes a report within seconds; a scan must not hang on a stuck one.
_REPORT_DEADLINE_S = 60.0
_REPORT_FIRST_POLL_S = 0.2


@collector(
    "iam",
    scope="global",
    calls=[
        "iam.get_account_authorization_details",
        "iam.get_policy",
        "iam.get_policy_version",
        "iam.generate_credential_report",
        "iam.get_credential_report",
        "iam.get_account_password_policy",
        "iam.get_account_summary",
        "iam.list_virtual_mfa_devices",
        "iam.list_access_keys",
        "iam.get_access_key_last_used",
        "iam.list_mfa_devices",
        "iam.get_login_profile",
        "iam.list_server_certificates",
    ],
)
def collect_iam(ctx: CollectContext) -> None:
    report = _credential_report(ctx)
    ctx.put("credential_report", report)
    _authorization_details(ctx, _rows_by_user(report))
    ctx.put(
        "password_policy",
        ctx.call("iam", "get_account_password_policy", absent=_NO_ENTITY, pick="PasswordPolicy"),
    )
    ctx.put("account_summary", ctx.call("iam", "get_account_summary", pick="SummaryMap"))
    ctx.put(
        "virtual_mfa_devices", ctx.paginate("iam", "list_virtual_mfa_devices", "VirtualMFADevices")
    )
    certs = ctx.paginate("iam", "list_server_certificates", "ServerCertificateMetadataList")
    ctx.put(
        "server_certificates",
        certs
        if is_unavailable(certs)
        else [
            {**c, "_arn": c["Arn"], "_name": c.get("ServerCertificateName", c["Arn"])}
            for c in certs
        ],
    )


def _rows_by_user(report: Any) -> dict[str, dict[str, str]]:
    if not isinstance(report, list):
        return {}
    return {row["user"]: row for row in report if isinstance(row, dict) and "user" in row}


def _authorization_details(ctx: CollectContext, report: dict[str, dict[str, str]]) -> None:
    details = _gaad(ctx)
    if is_unavailable(details):
        for key in _GAAD_LISTS:
            ctx.put(key, details)
        return
    users, groups, roles, policies = (details[k] for k in _GAAD_LISTS.values())
    policies = list(policies) + ctx.map(
        lambda arn: _aws_managed_policy(ctx, arn),
        sorted(_aws_policies_in_use(users, groups, roles)),
    )
    once = OncePerOperation(ctx)
    ctx.put(
        "users",
        ctx.map(
            lambda u: _with_credentials(once, _marked(u, "users"), report.get(u["UserName"])),
            users,
        ),
    )
    ctx.put("groups", [_marked(g, "groups") for g in groups])
    ctx.put("roles", [_marked(r, "roles") for r in roles])
    ctx.put("policies", [_marked(p, "policies") for p in policies])


def _gaad(ctx: CollectContext) -> Any:
    """GAAD's four lists, each joined across pages (paginate() joins only one key)."""
    merged: dict[str, list[Any]] = {k: [] for k in _GAAD_LISTS.values()}
    params: dict[str, Any] = {"Filter": _GAAD_FILTER}
    while True:
        page = ctx.call("iam", "get_account_authorization_details", **params)
        if is_unavailable(page):
            return page
        for key, items in merged.items():
            items.extend(page.get(key, []))
        if not page.get("IsTruncated") or not page.get("Marker"):
            return merged
        params["Marker"] = page["Marker"]


def _is_aws_managed(arn: str) -> bool:
    return ":iam::aws:policy/" in arn


def _aws_policies_in_use(*entity_lists: list[dict[str, Any]]) -> set[str]:
    arns: set[str] = set()
    for entities in entity_lists:
        for entity in entities:
            for attached in entity.get("AttachedManagedPolicies") or []:
                arns.add(attached.get("PolicyArn", ""))
            boundary = entity.get("PermissionsBoundary") or {}
            arns.add(boundary.get("PermissionsBoundaryArn", ""))
    return {a for a in arns if _is_aws_managed(a)}


def _aws_managed_policy(ctx: CollectContext, arn: str) -> dict[str, Any]:
    """One AWS managed policy in GAAD's Policies shape (default version only)."""
    policy = ctx.call("iam", "get_policy", pick="Policy", PolicyArn=arn)
    if is_unavailable(policy) or policy is None:
        return {
            "Arn": arn,
            "PolicyName": arn.rsplit("/", 1)[-1],
            "PolicyVersionList": policy or unavailable("Missing", "no such policy"),
        }
    version = ctx.call(
        "iam",
        "get_policy_version",
        pick="PolicyVersion",
        PolicyArn=arn,
        VersionId=policy.get("DefaultVersionId", "v1"),
    )
    entry = {k: v for k, v in policy.items() if k != "Tags"}
    entry["PolicyVersionList"] = (
        version if is_unavailable(version) else [{**version, "IsDefaultVersion": True}]
    )
    return entry


def _marked(item: dict[str, Any], kind: str) -> dict[str, Any]:
    arn = item["Arn"]
    # moto's GAAD omits PolicyName; the ARN's last segment is the name in every partition.
    out = {**item, "_arn": arn, "_name": item.get(_NAME_KEYS[kind]) or arn.rsplit("/", 1)[-1]}
    if isinstance(item.get("Tags"), list):
        out["_tags"] = {t["Key"]: t.get("Value", "") for t in item["Tags"]}
    return out


class OncePerOperation:
    """Per-user calls that stop once AWS denies the operation.

    An audit role denied e.g. iam:ListMFADevices is denied it for every user; asking again per
    user would only spend IAM's low request rate and log the same denial thousands of times.
    Other failures (a user deleted mid-scan) stay per user. Users are collected on several
    threads, so the first call of each operation is made alone: the others wait for its answer
    instead of all being denied at once."""

    def __init__(self, ctx: CollectContext) -> None:
        self.ctx = ctx
        self.denied: dict[str, Any] = {}
        self._probed: set[str] = set()
        self._lock = threading.Lock()

    def run(self, method: str, fetch: Callable[[], Any]) -> Any:
        with self._lock:
            if method in self.denied:
                return self.denied[method]
            if method not in self._probed:
                answer = fetch()
                self._probed.add(method)
                if _denied(answer):
                    self.denied[method] = answer
                return answer
        answer = fetch()
        if _denied(answer):
            with self._lock:
                self.denied.setdefault(method, answer)
        return answer

    def call(self, method: str, **kwargs: Any) -> Any:
        return self.run(method, lambda: self.ctx.call("iam", method, **kwargs))

    def paginate(self, method: str, key: str, **kwargs: Any) -> Any:
        return self.run(method, lambda: self.ctx.paginate("iam", method, key, **kwargs))


def _denied(answer: Any) -> bool:
    # The marker's documented form is {"__unavailable__": {"code": ..., "message": ...}}.
    return (
        is_unavailable(answer)
        and classify(str(answer["__unavailable__"].get("code"))) == "AccessDenied"
    )


def _with_credentials(
    once: OncePerOperation, user: dict[str, Any], row: dict[str, str] | None
) -> dict[str, Any]:
    name = user["UserName"]
    keys = once.paginate("list_access_keys", "AccessKeyMetadata", UserName=name)
    if not is_unavailable(keys):
        keys = [
            {
                **k,
                "LastUsed": once.call(
                    "get_access_key_last_used",
                    pick="AccessKeyLastUsed",
                    AccessKeyId=k["AccessKeyId"],
                ),
            }
            for k in keys
        ]
    user["AccessKeys"] = keys
    # Most IAM users are programmatic. When the credential report (regenerated once it is
    # four hours old) says a user has no console password and no MFA, two per-user calls
    # would only confirm it; users missing from the report, or with either, are asked.
    no_password = row is not None and row.get("password_enabled") == "false"
    if no_password and row is not None and row.get("mfa_active") == "false":
        user["MFADevices"] = []
    else:
        user["MFADevices"] = once.paginate("list_mfa_devices", "MFADevices", UserName=name)
    if no_password:
        user["LoginProfile"] = None
    else:
        user["LoginProfile"] = once.call(
            "get_login_profile", absent=_NO_ENTITY, pick="LoginProfile", UserName=name
        )
    return user


def _credential_report(ctx: CollectContext) -> Any:
    """The report's rows as dicts of AWS's own column names and text values."""
    ready = _wait_for_report(ctx)
    if ready is not None:
        return ready
    report = ctx.call("iam", "get_credential_report")
    if is_unavailable(report):
        return report
    content = report.get("Content", b"")
    text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
    if not isinstance(text, str) or not text.startswith("user,"):
        return not_ready(
            ctx,
            "get_credential_report",
            "UnparseableResponse",
            "the credential report is not the documented CSV",
        )
    return list(csv.DictReader(io.StringIO(text)))


def _wait_for_report(ctx: CollectContext) -> Any:
    """None once the report is COMPLETE; otherwise the marker to store in its place."""
    deadline = time.monotonic() + _REPORT_DEADLINE_S
    delay = _REPORT_FIRST_POLL_S
    while True:
        state = ctx.call("iam", "generate_credential_report", pick="State")
        if is_unavailable(state) or state == "COMPLETE":
            return state if is_unavailable(state) else None
        if time.monotonic() + delay > deadline:
            return not_ready(
                ctx,
                "generate_credential_report",
                "ReportNotReady",
                f"still {state} after {_REPORT_DEADLINE_S:.0f}s",
            )
        time.sleep(delay)
        delay = min(delay * 2, 5.0)


def not_ready(ctx: CollectContext, method: str, code: str, message: str) -> dict[str, Any]:
    ctx.snapshot.record_error(
        CollectionError(
            account=ctx.account_id,
            region=ctx.region,
            service=ctx.spec.service,
            operation=f"iam:{method}",
            code=code,
            message=message,
        )
    )
    return unavailable(code, message)
