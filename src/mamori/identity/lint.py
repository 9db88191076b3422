"""Policy lints, in the spirit of IAM Access Analyzer's policy validation.

`lint_policy` checks one document; `lint_model` checks every identity, boundary and trust policy
and every SCP of an identity model and turns the lints into findings
("identity.policy-lint.<code>", one per policy owner and code).

Each lint has a class as Access Analyzer names them; the finding's severity follows from it:
ERROR -> HIGH, SECURITY_WARNING -> HIGH or MEDIUM (per code), WARNING -> LOW,
SUGGESTION -> INFORMATIONAL.

| code | class | flags |
| --- | --- | --- |
| malformed-policy | ERROR | a document that does not parse or breaks the policy grammar |
| unknown-service | ERROR | an action whose service prefix is not in the IAM catalogue |
| unknown-action | ERROR | an action, or action pattern, that names no known action |
| pass-role-star-resource | SECURITY_WARNING | Allow iam:PassRole on "*", on any role or with |
| | | NotResource, without an iam:PassedToService condition |
| allow-not-principal | SECURITY_WARNING | Allow with NotPrincipal (everyone else, anonymous too) |
| allow-not-action | SECURITY_WARNING | Allow with NotAction (every other action, new ones too) |
| allow-not-resource | SECURITY_WARNING | Allow with NotResource (every other resource) |
| allow-star-star | SECURITY_WARNING | Allow "*" on "*", except in AWS managed policies |
| allow-iam-star | SECURITY_WARNING | Allow "iam:*" or "sts:*" on "*", except in AWS managed ones |
| trust-any-principal | SECURITY_WARNING | a trust policy letting Principal "*" assume the role |
| | | with no Condition |
| forallvalues-single-valued-key | SECURITY_WARNING | ForAllValues on a single-valued key |
| | | (true when the key is absent) |
| foranyvalue-single-valued-key | WARNING | ForAnyValue on a single-valued key (no use) |
| unknown-condition-key | WARNING | an aws: or service key AWS does not document (typo) |
| condition-type-mismatch | WARNING | an operator of another type than its key |
| | | (StringEquals on aws:SourceIp, Date... on a non-date key) |
| version-variables | WARNING | ${...} in a policy without Version 2012-10-17: literal text |
| missing-version | WARNING | no Version element: the 2008-10-17 language applies |
| duplicate-statement | SUGGESTION | a statement identical to an earlier one (Sid aside) |

Grant lints (Allow with Not*, wildcards, PassRole) apply to policies that grant: identity,
session, resource and trust policies, not to SCPs, RCPs or permissions boundaries, which only
set a ceiling. Key types come from `mamori.identity.catalog`; a key whose type is not known is
not checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mamori.core import (
    Finding,
    InputError,
    Remediation,
    Resource,
    Severity,
    SeverityLabel,
)
from mamori.identity.catalog import BOOL, DATE, IP, NUMERIC, catalog
from mamori.identity.context import EMPTY
from mamori.identity.errors import PolicyError
from mamori.identity.lint_codes import (
    CODES,
    ERROR,
    SECURITY_WARNING,
    SUGGESTION,
    WARNING,
    LintClass,
)
from mamori.identity.model import (
    Group,
    IamAccount,
    IdentityModel,
    PolicyDoc,
    Role,
    User,
    is_aws_managed_arn,
)
from mamori.identity.policy import VERSION_2008, CompiledPolicy, Statement, compile_policy
from mamori.identity.reporting import Place, identity_finding, not_available

KINDS = frozenset({"identity", "boundary", "session", "scp", "rcp", "resource", "trust"})
GRANT_KINDS = frozenset({"identity", "session", "resource", "trust"})
_ANY_ROLE = "arn:aws:iam::000000000000:role/mamori-lint-any-role"
_SET_ANY, _SET_ALL = "ForAnyValue", "ForAllValues"


@dataclass(frozen=True, slots=True)
class Lint:
    code: str
    severity: LintClass
    message: str
    statement: int | None = None  # 0-based index in the Statement list; None: the whole policy
    sid: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "statement": self.statement,
            "sid": self.sid,
        }


# Which key types each operator family is for (a key of another type is a mismatch).
_OPERATOR_TYPES: dict[str, frozenset[str]] = {
    "numeric": frozenset({NUMERIC}),
    "date": frozenset({DATE}),
    "bool": frozenset({BOOL}),
    "ip": frozenset({IP}),
}
_NOT_FOR_STRING = frozenset({NUMERIC, DATE, IP})
_NOT_FOR_ARN = frozenset({NUMERIC, DATE, IP, BOOL})
# aws:EpochTime is documented as Date or Numeric.
_DATE_OR_NUMBER = "aws:epochtime"


def _family(operator: str) -> str | None:
    base = operator.removesuffix("IfExists")
    for prefix, family in (
        ("Numeric", "numeric"),
        ("Date", "date"),
        ("String", "string"),
        ("Arn", "arn"),
    ):
        if base.startswith(prefix):
            return family
    return {"Bool": "bool", "IpAddress": "ip", "NotIpAddress": "ip"}.get(base)


class _Linter:
    def __init__(self, policy: CompiledPolicy, aws_managed: bool) -> None:
        self.policy = policy
        self.aws_managed = aws_managed
        self.grants = policy.kind in GRANT_KINDS
        self.out: list[Lint] = []

    def add(self, code: str, message: str, st: Statement | None = None) -> None:
        spec = CODES[code]
        index = st.ref.index if st is not None else None
        sid = st.ref.sid if st is not None else None
        self.out.append(Lint(code, spec.severity, message, index, sid))

    def run(self) -> list[Lint]:
        self._version()
        seen: dict[str, int] = {}
        for st in self.policy.statements:
            self._actions(st)
            self._conditions(st)
            if st.allow:
                self._allow(st)
            fingerprint = _fingerprint(st.raw)
            if fingerprint in seen:
                self.add(
                    "duplicate-statement",
                    f"statement {st.ref.index} repeats statement {seen[fingerprint]}",
                    st,
                )
            else:
                seen[fingerprint] = st.ref.index
        return self.out

    def _version(self) -> None:
        document = self.policy.document
        has_variables = "${" in json.dumps(document.get("Statement"), default=str)
        if "Version" not in document:
            if has_variables:
                self.add(
                    "version-variables",
                    "no Version element, so the 2008-10-17 language "
                    "applies and ${...} is matched literally",
                )
            else:
                self.add(
                    "missing-version",
                    "no Version element: the 2008-10-17 language applies (no policy variables)",
                )
        elif document["Version"] == VERSION_2008 and has_variables:
            self.add(
                "version-variables",
                "Version 2008-10-17 has no policy variables: ${...} is matched literally",
            )

    def _actions(self, st: Statement) -> None:
        known = catalog()
        element = "NotAction" if "NotAction" in st.raw else "Action"
        for entry in _listed(st.raw.get(element)):
            text = entry.strip()
            if text == "*":
                continue
            service, _, name = text.partition(":")
            wild_service = "*" in service or "?" in service
            if not wild_service and not known.has_service(service):
                self.add(
                    "unknown-service",
                    f"{element} {entry!r}: no service has the prefix {service!r}",
                    st,
                )
            elif "*" in name or "?" in name or wild_service:
                if not known.matching(text):
                    self.add("unknown-action", f"{element} {entry!r} matches no known action", st)
            elif not known.has_action(text):
                self.add(
                    "unknown-action", f"{element} {entry!r}: {service} has no action {name!r}", st
                )

    def _conditions(self, st: Statement) -> None:
        known = catalog()
        for operator, key in _condition_entries(st.raw.get("Condition")):
            set_mode, _, base = operator.rpartition(":")
            if known.knows_key(key) is False:
                self.add("unknown-condition-key", f"{operator} on {key}: no such key", st)
                continue
            kind = known.key_type(key)
            if kind is None:
                continue
            if set_mode and not kind.multivalued:
                code = (
                    "forallvalues-single-valued-key"
                    if set_mode == _SET_ALL
                    else "foranyvalue-single-valued-key"
                )
                self.add(code, f"{operator} on {key}, which is single-valued", st)
            family = _family(base)
            if family is not None and _mismatch(family, kind.base, key):
                self.add(
                    "condition-type-mismatch",
                    f"{operator} on {key}, whose values are {kind.name}",
                    st,
                )

    def _allow(self, st: Statement) -> None:
        raw = st.raw
        if "NotPrincipal" in raw:
            self.add(
                "allow-not-principal",
                "Allow with NotPrincipal grants every principal "
                "not listed, anonymous ones included",
                st,
            )
        if (
            self.policy.kind == "trust"
            and st.principals is not None
            and st.principals.any
            and not st.not_principal
            and st.condition is None
        ):
            self.add(
                "trust-any-principal",
                'Principal "*" may assume this role and no Condition restricts who',
                st,
            )
        if not self.grants:
            return
        if "NotAction" in raw:
            self.add(
                "allow-not-action",
                "Allow with NotAction grants every action not "
                "listed, including actions AWS adds later",
                st,
            )
        if "NotResource" in raw:
            self.add(
                "allow-not-resource",
                "Allow with NotResource grants on every resource not listed",
                st,
            )
        self._pass_role(st)
        if self.aws_managed:
            return
        on_everything = st.resources_everything or st.resources is None
        if on_everything and st.actions.all and not st.actions.negated:
            self.add("allow-star-star", 'Allow "*" on "*": full administrator access', st)
        elif on_everything:
            broad = sorted(
                {e.strip().lower() for e in _listed(raw.get("Action"))} & {"iam:*", "sts:*"}
            )
            if broad:
                self.add("allow-iam-star", f'Allow {", ".join(broad)} on "*"', st)

    def _pass_role(self, st: Statement) -> None:
        if not st.actions.matches("iam", "passrole", "iam:passrole"):
            return
        if st.condition is not None and "iam:passedtoservice" in st.condition.keys:
            return
        if st.not_resource:
            where = "NotResource"
        elif st.resources is None or any(p.match(_ANY_ROLE, EMPTY) for p in st.resources):
            where = "every role"
        else:
            return
        self.add(
            "pass-role-star-resource",
            f"iam:PassRole is allowed on {where}: the "
            "principal can hand any of those roles to a service",
            st,
        )


def _mismatch(family: str, base: str, key: str) -> bool:
    if key.lower() == _DATE_OR_NUMBER and family in ("date", "numeric"):
        return False
    if family == "string":
        return base in _NOT_FOR_STRING
    if family == "arn":
        return base in _NOT_FOR_ARN or (base == "String" and key.lower().startswith("aws:"))
    return base not in _OPERATOR_TYPES[family]


def _listed(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, str)]


def _condition_entries(raw: Any) -> Iterator[tuple[str, str]]:
    if not isinstance(raw, dict):
        return
    for operator, block in raw.items():
        if isinstance(operator, str) and isinstance(block, dict):
            for key in block:
                if isinstance(key, str):
                    yield operator, key


def _fingerprint(raw: dict[str, Any]) -> str:
    """A statement's content, Sid aside, with single values and lists in any order alike."""

    def norm(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): norm(v) for k, v in value.items()}
        items = value if isinstance(value, list) else [value]
        return sorted(
            json.dumps(norm(i) if isinstance(i, dict) else i, sort_keys=True, default=str)
            for i in items
        )

    body = {k: norm(v) for k, v in raw.items() if k != "Sid"}
    return json.dumps(body, sort_keys=True, default=str)


def lint_policy(
    doc: Any, kind: str = "identity", *, name: str = "policy", aws_managed: bool = False
) -> list[Lint]:
    """Lints of one policy document (object or JSON text). Never raises for a bad document:
    that is a malformed-policy ERROR lint naming the policy."""
    if kind not in KINDS:
        raise InputError(f"policy kind {kind!r}: expected one of {', '.join(sorted(KINDS))}")
    try:
        policy = compile_policy(doc, name=name, kind=kind)
    except PolicyError as exc:
        return [Lint("malformed-policy", ERROR, str(exc))]
    except TypeError as exc:
        # compile_policy lets a non-string Version (a list, an object) through to a set lookup;
        # such a document is malformed all the same.
        return [Lint("malformed-policy", ERROR, f"policy {name}: could not be read ({exc})")]
    return _Linter(policy, aws_managed).run()


# --- the model -------------------------------------------------------------------------------

AA_CHECKS_URL = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html"
)
_TYPES = ["Software and Configuration Checks/AWS Security Best Practices"]
_LABELS = {
    ERROR: SeverityLabel.HIGH,
    SECURITY_WARNING: SeverityLabel.MEDIUM,
    WARNING: SeverityLabel.LOW,
    SUGGESTION: SeverityLabel.INFORMATIONAL,
}
UNAVAILABLE = "identity.policy-lint.unavailable"


@dataclass(frozen=True, slots=True)
class _Target:
    """A policy to lint and the resource its findings are about."""

    doc: PolicyDoc
    kind: str
    account: str
    resource_type: str
    resource_id: str
    aws_managed: bool = False


@dataclass(frozen=True, slots=True)
class _Missing:
    account: str
    resource_type: str
    resource_id: str
    reason: str


def _account_targets(account: IamAccount) -> Iterator[_Target | _Missing]:
    acct = account.account_id
    attached: set[str] = set()
    boundaries: set[str] = set()
    owners: list[tuple[str, User | Group | Role]] = [
        *(("AwsIamUser", u) for u in account.users.values()),
        *(("AwsIamGroup", g) for g in account.groups.values()),
        *(("AwsIamRole", r) for r in account.roles.values()),
    ]
    for resource_type, owner in owners:
        attached.update(owner.managed_arns)
        if not isinstance(owner, Group) and owner.boundary_arn:
            boundaries.add(owner.boundary_arn)
        for doc in owner.inline:
            yield _Target(doc, "identity", acct, resource_type, owner.arn)
        # A service-linked role's trust policy is AWS's, not something the user can change.
        if isinstance(owner, Role) and not owner.is_service_linked:
            yield _Target(owner.trust_doc, "trust", acct, resource_type, owner.arn)
    for policy in account.policies.values():
        used = policy.arn in attached or policy.arn in boundaries
        if policy.is_aws_managed and not used and not (policy.attachment_count or 0):
            continue  # AWS's own catalogue: only what the account uses is worth a lint
        managed = policy.doc()
        if managed is None:
            continue  # listed in unresolved_policies
        kind = "boundary" if policy.arn in boundaries and policy.arn not in attached else "identity"
        yield _Target(managed, kind, acct, "AwsIamPolicy", policy.arn, policy.is_aws_managed)
    for arn in sorted(account.unresolved_policies):
        yield _Missing(acct, "AwsIamPolicy", arn, "its document is not in the input")


def _org_targets(model: IdentityModel) -> Iterator[_Target | _Missing]:
    org = model.organization
    if org is None or not org.management_account:
        return
    base = f"arn:{model.partition}:organizations::{org.management_account}"
    if "scp" in org.unavailable:
        reason = f"the SCPs could not be read: {org.unavailable['scp']}"
        yield _Missing(org.management_account, "Other", f"{base}:organization/{org.id}", reason)
    docs = {d.key: d for docs in org.scps_by_target.values() for d in docs}
    for doc in docs.values():
        arn = doc.arn or f"{base}:policy/{org.id}/service_control_policy/{doc.name}"
        yield _Target(
            doc,
            "scp",
            org.management_account,
            "Other",
            arn,
            bool(doc.arn) and is_aws_managed_arn(doc.arn or ""),
        )


def lint_model(model: IdentityModel) -> list[Finding]:
    """Findings for every lint of the model's identity, boundary, trust and SCP policies: one
    per (policy owner, lint code), plus NOT_AVAILABLE ones for policies that could not be read."""
    cache: dict[tuple[str, str, bool], list[Lint]] = {}
    groups: dict[tuple[str, str, str], tuple[_Target, list[dict[str, Any]]]] = {}
    missing: list[_Missing] = []
    targets: list[_Target | _Missing] = []
    for account in model.accounts.values():
        targets.extend(_account_targets(account))
    targets.extend(_org_targets(model))
    for target in targets:
        if isinstance(target, _Missing):
            missing.append(target)
            continue
        key = (target.doc.key, target.kind, target.aws_managed)
        if key not in cache:
            cache[key] = lint_policy(
                target.doc.document,
                target.kind,
                name=target.doc.arn or target.doc.name,
                aws_managed=target.aws_managed,
            )
        by_code: dict[str, list[Lint]] = {}
        for lint in cache[key]:
            by_code.setdefault(lint.code, []).append(lint)
        for code, lints in by_code.items():
            _, entries = groups.setdefault((code, target.resource_id, target.account), (target, []))
            entries.append(
                {
                    "policy": target.doc.name,
                    "policy_arn": target.doc.arn,
                    "kind": target.kind,
                    "lints": [lint.to_json() for lint in lints],
                }
            )
    findings = [
        _lint_finding(code, target, entries, model.partition)
        for (code, _, _), (target, entries) in sorted(groups.items(), key=lambda kv: kv[0])
    ]
    findings.extend(_missing_finding(m, model.partition) for m in missing)
    return findings


def _lint_finding(
    code: str, target: _Target, entries: list[dict[str, Any]], partition: str
) -> Finding:
    spec = CODES[code]
    label = SeverityLabel.HIGH if spec.high else _LABELS[spec.severity]
    names = ", ".join(dict.fromkeys(str(e["policy"]) for e in entries))
    messages = [f"{e['policy']}: {lint['message']}" for e in entries for lint in e["lints"]]
    types = list(_TYPES)
    if code == "trust-any-principal":
        types.append("Effects/Data Exposure")
    return identity_finding(
        generator_id=f"identity.policy-lint.{code}",
        **_place(target, partition, {"policies": [e["policy"] for e in entries]}),
        types=types,
        severity=Severity.of(label),
        title=f"{spec.title}: {names}"[:250],
        description="; ".join(messages)[:4000],
        remediation=Remediation(text=spec.remediation, url=AA_CHECKS_URL),
        evidence={"lint_class": spec.severity, "policies": entries},
    )


def _place(
    target: _Target | _Missing, partition: str, details: dict[str, Any] | None = None
) -> Place:
    """IAM policies are global: one finding per policied resource of an account."""
    resource = Resource(
        type=target.resource_type,
        id=target.resource_id,
        partition=partition,
        region="global",
        details=details or {},
    )
    return Place(
        key=target.resource_id, resources=[resource], account_id=target.account, region="global"
    )


def _missing_finding(missing: _Missing, partition: str) -> Finding:
    return not_available(
        generator_id=UNAVAILABLE,
        **_place(missing, partition),
        types=list(_TYPES),
        title="Policy could not be linted",
        reason=f"{missing.resource_id}: {missing.reason}; it was not linted",
        remediation=Remediation(
            text="Collect the policy document (iam:GetPolicyVersion, "
            "organizations:DescribePolicy) and lint again."
        ),
    )
