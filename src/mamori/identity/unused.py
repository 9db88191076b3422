"""Unused access: console passwords, access keys and roles not used within a window, and
services a principal may use but has not (IAM Access Analyzer's unused-access analyzer and IAM
Access Advisor).

Sources: the model's users and roles, and from the Snapshot the IAM collector's per-user reads
(LoginProfile, AccessKeys with LastUsed), the credential report (password_last_used), GAAD's
RoleLastUsed and CreateDate, and the "iam_access" collector's service-last-accessed reports.

A credential or role never used counts as unused only once it is older than the window (a key
created yesterday is not "unused"). Whatever could not be read gives a NOT_AVAILABLE finding
naming the principal, never "unused". Used credentials give PASSED findings, so that a re-scan
resolves an earlier failure under the same finding id. Service-linked roles are left out: AWS
manages them and deletes them with the service that uses them.

IAM reports role and service use for a limited tracking period (400 days at the time of
writing), so "never used" means "not within it".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mamori.core import (
    Compliance,
    ComplianceStatus,
    DataUnavailable,
    Finding,
    InputError,
    Mitre,
    Remediation,
    Resource,
    Severity,
    SeverityLabel,
    age_days,
    as_utc,
    utcnow,
)
from mamori.identity.loaders import timestamp, why_unavailable
from mamori.identity.model import AccessKey, IamAccount, IdentityModel, Role, User
from mamori.identity.reporting import BEST_PRACTICES, Place, identity_finding, not_available
from mamori.inventory import GLOBAL, Snapshot, is_unavailable

UNUSED_ROLE = "identity.unused-role"
UNUSED_PASSWORD = "identity.unused-user-password"  # noqa: S105 - a generator id
UNUSED_KEY = "identity.unused-access-key"
UNUSED_SERVICES = "identity.unused-services"
DEFAULT_WINDOW_DAYS = 90

_CREDENTIALS_DOC = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_finding-unused.html"
)
_ADVISOR_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_last-accessed.html"
_REMEDIATION = {
    UNUSED_PASSWORD: Remediation(
        text="Remove the console password of users who no longer sign in.",
        url=_CREDENTIALS_DOC,
        cli="aws iam delete-login-profile --user-name <user>",
    ),
    UNUSED_KEY: Remediation(
        text="Deactivate access keys that are not used, then delete them.",
        url=_CREDENTIALS_DOC,
        cli="aws iam update-access-key --user-name <user> --access-key-id <key> --status Inactive",
    ),
    UNUSED_ROLE: Remediation(
        text="Delete roles that are no longer used, after checking who may assume them.",
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_manage_delete.html",
        cli="aws iam delete-role --role-name <role>",
    ),
    UNUSED_SERVICES: Remediation(
        text="Remove the permissions for services the principal has not used (IAM Access "
        "Advisor shows them), keeping only what it needs.",
        url=_ADVISOR_DOC,
    ),
}
_TITLES = {
    UNUSED_PASSWORD: "console password",
    UNUSED_KEY: "access key",
    UNUSED_ROLE: "role",
    UNUSED_SERVICES: "service permissions",
}
_SEVERITY = {
    UNUSED_PASSWORD: SeverityLabel.MEDIUM,
    UNUSED_KEY: SeverityLabel.MEDIUM,
    UNUSED_ROLE: SeverityLabel.LOW,
    UNUSED_SERVICES: SeverityLabel.LOW,
}
# The credential report's words for "no date": never used, or no such credential.
_NEVER = frozenset({"no_information", "N/A"})
_VALID_ACCOUNTS = Mitre(
    tactic="TA0003 Persistence",
    technique_id="T1078.004",
    technique="Valid Accounts: Cloud Accounts",
)


def unused_access(
    model: IdentityModel,
    snapshot: Snapshot | None,
    *,
    window_days: float = DEFAULT_WINDOW_DAYS,
    now: datetime | None = None,
) -> list[Finding]:
    """Findings for unused passwords, access keys, roles and services of every account."""
    if (
        isinstance(window_days, bool)
        or not isinstance(window_days, int | float)
        or not math.isfinite(window_days)
        or window_days <= 0
    ):
        raise InputError(f"window_days must be a positive number of days, got {window_days!r}")
    moment = as_utc(now) or utcnow()
    out: list[Finding] = []
    for account in model.accounts.values():
        judge = _Judge(
            account, _Raw(snapshot, account.account_id), window_days, moment, model.partition
        )
        judge.users()
        judge.roles()
        judge.services()
        out.extend(judge.findings)
    return out


class _Raw:
    """The snapshot's own records for one account, where the model keeps less (creation dates,
    why a value is missing)."""

    def __init__(self, snapshot: Snapshot | None, account: str) -> None:
        self.users: dict[str, Mapping[str, Any]] = {}
        self.roles: dict[str, Mapping[str, Any]] = {}
        self.report: dict[str, Mapping[str, Any]] | None = None
        self.report_problem = "the credential report is not in the input"
        self.advisor: dict[str, Mapping[str, Any]] | None = None
        self.advisor_problem = "IAM Access Advisor reports are not in the input"
        self.present = snapshot is not None and snapshot.has(account, "iam")
        if snapshot is None:
            return
        for key, index in (("users", self.users), ("roles", self.roles)):
            try:
                items = snapshot.data(account, "iam", GLOBAL, key)
            except DataUnavailable:
                continue  # the model's own errors already say so; lookups fall back
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and isinstance(item.get("Arn"), str):
                    index[item["Arn"]] = item
        try:
            rows = snapshot.data(account, "iam", GLOBAL, "credential_report")
        except DataUnavailable as exc:
            self.report_problem = f"the credential report could not be read ({exc})"
        else:
            if isinstance(rows, list):
                self.report = {
                    r["user"]: r
                    for r in rows
                    if isinstance(r, dict) and isinstance(r.get("user"), str)
                }
            else:
                self.report_problem = "the credential report is malformed"
        if not snapshot.has(account, "iam_access"):
            self.advisor_problem = (
                "IAM Access Advisor data was not collected (the iam_access collector)"
            )
            return
        try:
            entries = snapshot.data(account, "iam_access", GLOBAL, "last_accessed")
        except DataUnavailable as exc:
            self.advisor_problem = f"IAM Access Advisor data could not be read ({exc})"
            return
        if not isinstance(entries, list):
            self.advisor_problem = "IAM Access Advisor data is malformed"
            return
        self.advisor = {
            e["_arn"]: e for e in entries if isinstance(e, dict) and isinstance(e.get("_arn"), str)
        }


@dataclass(frozen=True, slots=True)
class _Use:
    """When a credential or role was last used, and when it was created (ISO 8601, or None)."""

    last: str | None
    created: str | None


@dataclass(slots=True)
class _Judge:
    account: IamAccount
    raw: _Raw
    window: float
    now: datetime
    partition: str
    findings: list[Finding] = field(default_factory=list)

    # -- users -------------------------------------------------------------------------------

    def users(self) -> None:
        users = sorted(self.account.users.values(), key=lambda u: u.arn)
        if not users:
            return
        if not self.raw.present:
            for generator in (UNUSED_PASSWORD, UNUSED_KEY):
                self._account_gap(
                    generator,
                    "console password and access key use are not in "
                    "the input (a get-account-authorization-details file has none)",
                )
            return
        for user in users:
            self._password(user)
            self._keys(user)

    def _password(self, user: User) -> None:
        subject = _Subject(user.arn, "AwsIamUser", user.name, "user")
        raw = self.raw.users.get(user.arn, {})
        if user.has_password is None:
            profile = raw.get("LoginProfile")
            why = (
                why_unavailable(profile)
                if is_unavailable(profile)
                else "neither the login profile nor the credential report says"
            )
            self._gap(
                UNUSED_PASSWORD, subject, f"whether it has a console password is unknown ({why})"
            )
            return
        if not user.has_password:
            return
        if self.raw.report is None:
            self._gap(UNUSED_PASSWORD, subject, self.raw.report_problem)
            return
        row = self.raw.report.get(user.name)
        if row is None:
            self._gap(
                UNUSED_PASSWORD,
                subject,
                "the user is not in the credential report "
                "(created after the report was generated?)",
            )
            return
        last = timestamp(row.get("password_last_used"))
        if last is None and row.get("password_last_used") not in _NEVER:
            self._gap(
                UNUSED_PASSWORD,
                subject,
                "the credential report's password_last_used is "
                f"unreadable ({row.get('password_last_used')!r})",
            )
            return
        profile = raw.get("LoginProfile")
        created = (
            (timestamp(profile.get("CreateDate")) if isinstance(profile, dict) else None)
            or timestamp(row.get("password_last_changed"))
            or timestamp(row.get("user_creation_time"))
        )
        self._judge(UNUSED_PASSWORD, subject, _Use(last, created))

    def _keys(self, user: User) -> None:
        subject = _Subject(user.arn, "AwsIamUser", user.name, "user")
        raw = self.raw.users.get(user.arn, {})
        if user.access_keys is None:
            keys = raw.get("AccessKeys")
            why = why_unavailable(keys) if is_unavailable(keys) else "not in the input"
            self._gap(UNUSED_KEY, subject, f"its access keys could not be read ({why})")
            return
        raw_keys = raw.get("AccessKeys")
        by_id = (
            {k.get("AccessKeyId"): k for k in raw_keys if isinstance(k, dict)}
            if isinstance(raw_keys, list)
            else {}
        )
        for key in user.access_keys:
            if key.status != "Active":
                continue  # an inactive key cannot be used; nothing to remove in a hurry
            self._key(user, key, by_id.get(key.id))

    def _key(self, user: User, key: AccessKey, raw: Mapping[str, Any] | None) -> None:
        subject = _Subject(
            key.id,
            "AwsIamAccessKey",
            f"{key.id} of user {user.name}",
            "access key",
            extra=[Resource(type="AwsIamUser", id=user.arn, partition=self.partition)],
        )
        last_used = raw.get("LastUsed") if raw is not None else None
        if not isinstance(last_used, dict) or is_unavailable(last_used):
            why = why_unavailable(last_used) if is_unavailable(last_used) else "not in the input"
            self._gap(UNUSED_KEY, subject, f"when it was last used could not be read ({why})")
            return
        self._judge(UNUSED_KEY, subject, _Use(key.last_used, key.created))

    # -- roles -------------------------------------------------------------------------------

    def roles(self) -> None:
        for role in sorted(self.account.roles.values(), key=lambda r: r.arn):
            if role.is_service_linked:
                continue
            subject = _Subject(role.arn, "AwsIamRole", role.name, "role")
            raw = self.raw.roles.get(role.arn)
            if raw is None:
                # Only the model's word: a date is a date, but no date may mean "not read".
                if role.last_used is None:
                    self._gap(
                        UNUSED_ROLE, subject, "its last use and creation date are not in the input"
                    )
                else:
                    self._judge(UNUSED_ROLE, subject, _Use(role.last_used, None))
                continue
            used = raw.get("RoleLastUsed")
            if not isinstance(used, dict) or is_unavailable(used):
                why = why_unavailable(used) if is_unavailable(used) else "not in the input"
                self._gap(UNUSED_ROLE, subject, f"RoleLastUsed could not be read ({why})")
                continue
            self._judge(
                UNUSED_ROLE,
                subject,
                _Use(timestamp(used.get("LastUsedDate")), timestamp(raw.get("CreateDate"))),
            )

    # -- services ----------------------------------------------------------------------------

    def services(self) -> None:
        principals: list[User | Role] = [
            *sorted(self.account.users.values(), key=lambda u: u.arn),
            *sorted(
                (r for r in self.account.roles.values() if not r.is_service_linked),
                key=lambda r: r.arn,
            ),
        ]
        if not principals:
            return
        if self.raw.advisor is None:
            self._account_gap(UNUSED_SERVICES, self.raw.advisor_problem)
            return
        for principal in principals:
            kind = "user" if isinstance(principal, User) else "role"
            subject = _Subject(principal.arn, f"AwsIam{kind.title()}", principal.name, kind)
            entry = self.raw.advisor.get(principal.arn)
            if entry is None:
                self._gap(UNUSED_SERVICES, subject, "no IAM Access Advisor report for it")
                continue
            self._services(subject, entry, self._created(principal))

    def _created(self, principal: User | Role) -> str | None:
        index = self.raw.users if isinstance(principal, User) else self.raw.roles
        raw = index.get(principal.arn)
        return timestamp(raw.get("CreateDate")) if raw is not None else None

    def _services(self, subject: _Subject, entry: Mapping[str, Any], created: str | None) -> None:
        status, services = entry.get("JobStatus"), entry.get("ServicesLastAccessed")
        for value in (status, services):
            if is_unavailable(value):
                self._gap(
                    UNUSED_SERVICES,
                    subject,
                    f"its IAM Access Advisor report could not be read ({why_unavailable(value)})",
                )
                return
        if status != "COMPLETED" or not isinstance(services, list):
            self._gap(
                UNUSED_SERVICES,
                subject,
                f"its IAM Access Advisor report is {status!r}, not COMPLETED",
            )
            return
        old = (age := age_days(created, self.now)) is not None and age > self.window
        unused: list[dict[str, Any]] = []
        uncounted: list[str] = []
        for item in services:
            if not isinstance(item, dict) or not isinstance(item.get("ServiceNamespace"), str):
                continue
            namespace = item["ServiceNamespace"]
            last = timestamp(item.get("LastAuthenticated"))
            days = age_days(last, self.now)
            if days is not None and days > self.window:
                unused.append({"service": namespace, "last_accessed": last, "days": int(days)})
            elif days is None and old:
                unused.append({"service": namespace, "last_accessed": None, "days": None})
            elif days is None and created is None:
                uncounted.append(namespace)
        evidence: dict[str, Any] = {
            "unused_services": unused,
            "window_days": self.window,
            "granted_services": len(services),
        }
        if uncounted:
            evidence["not_counted"] = uncounted
            evidence["not_counted_reason"] = (
                "never accessed, but the principal's creation date is unknown"
            )
        names = ", ".join(u["service"] for u in unused)
        if unused:
            self._add(
                UNUSED_SERVICES,
                subject,
                failed=True,
                reason=f"{len(unused)} of {len(services)} granted services not accessed in "
                f"{self.window:g} days: {names}",
                evidence=evidence,
            )
        else:
            self._add(
                UNUSED_SERVICES,
                subject,
                failed=False,
                reason=f"every granted service was accessed within {self.window:g} days",
                evidence=evidence,
            )

    # -- judging and reporting ---------------------------------------------------------------

    def _judge(self, generator: str, subject: _Subject, use: _Use) -> None:
        evidence: dict[str, Any] = {
            "last_used": use.last,
            "created": use.created,
            "window_days": self.window,
        }
        what = (
            f"the {subject.kind} {subject.name}"
            if generator == UNUSED_ROLE
            else f"{_TITLES[generator]} of {subject.kind} {subject.name}"
        )
        if use.last is not None:
            days = age_days(use.last, self.now) or 0.0
            evidence["days_unused"] = int(days)
            unused = days > self.window
            reason = f"{what} was last used {int(days)} days ago"
        else:
            days_old = age_days(use.created, self.now)
            if days_old is None:
                self._gap(
                    generator,
                    subject,
                    "it was never used and its creation date is "
                    "unknown, so whether it is older than the window cannot be told",
                )
                return
            evidence["days_since_creation"] = int(days_old)
            unused = days_old > self.window
            reason = f"{what} was never used; it was created {int(days_old)} days ago"
        self._add(generator, subject, failed=unused, reason=reason, evidence=evidence)

    def _add(
        self,
        generator: str,
        subject: _Subject,
        *,
        failed: bool,
        reason: str,
        evidence: dict[str, Any],
    ) -> None:
        label = _SEVERITY[generator] if failed else SeverityLabel.INFORMATIONAL
        state = "unused" if failed else "in use"
        title = f"{_TITLES[generator].capitalize()} of {subject.kind} {subject.name} {state}"
        if generator == UNUSED_ROLE:
            title = f"Role {subject.name} {state}"
        self.findings.append(
            identity_finding(
                generator_id=generator,
                **self._place(subject),
                types=[BEST_PRACTICES],
                severity=Severity.of(label),
                title=title,
                description=f"{reason} (window: {self.window:g} days).",
                remediation=_REMEDIATION[generator],
                compliance=Compliance(
                    status=ComplianceStatus.FAILED if failed else ComplianceStatus.PASSED,
                    status_reasons=[reason[:1000]],
                ),
                evidence=evidence,
                mitre=[_VALID_ACCOUNTS] if failed and generator != UNUSED_SERVICES else [],
                first_observed_at=self.now,
                last_observed_at=self.now,
            )
        )

    def _place(self, subject: _Subject) -> Place:
        return {
            "key": subject.id,
            "resources": subject.resources(self.partition),
            "account_id": self.account.account_id,
            "region": GLOBAL,
        }

    def _gap(self, generator: str, subject: _Subject, reason: str) -> None:
        self.findings.append(
            not_available(
                generator_id=generator,
                **self._place(subject),
                title=f"Use of the {_TITLES[generator]} of {subject.kind} {subject.name} "
                "is unknown",
                reason=f"{subject.kind} {subject.name}: {reason}",
                remediation=_REMEDIATION[generator],
            )
        )

    def _account_gap(self, generator: str, reason: str) -> None:
        account = self.account.account_id
        subject = _Subject(f"AWS::::Account:{account}", "AwsAccount", account, "account")
        self.findings.append(
            not_available(
                generator_id=generator,
                **self._place(subject),
                title=f"Unused {_TITLES[generator]} of account {account} cannot be judged",
                reason=f"account {account}: {reason}",
                remediation=_REMEDIATION[generator],
            )
        )


@dataclass(frozen=True, slots=True)
class _Subject:
    id: str  # the ARN, or the access key id
    type: str  # ASFF resource type
    name: str
    kind: str  # user | role | access key | account
    extra: list[Resource] = field(default_factory=list)

    def resources(self, partition: str) -> list[Resource]:
        return [Resource(type=self.type, id=self.id, partition=partition), *self.extra]
