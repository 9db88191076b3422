"""SCP guardrails: what the organisation's SCPs leave possible in each member account, and
which AWS Control Tower preventive controls they enforce there.

The ceiling. For every action the IAM catalogue knows, the evaluator decides a request on
Resource "*" by a plain IAM user of the account whose own policy allows everything, under the
account's SCP levels only, with an empty request context. An action is *never allowed* when it is
denied and no condition can change that: an unconditional Deny matches it, or some level has no
Allow for it at all. It is *conditionally denied* when a statement with a Condition (a Deny, or
the only Allows of a level) takes part and the evaluator denies it with the empty context or with
one of the context probes derived from those conditions (each key set, alone, to each value the
policies name and to one value they do not, e.g. aws:RequestedRegion outside the allowed list).
Actions whose SCP statements are the same objects get the same decision for the same request, so
each such group is evaluated once.

The controls. Each Control Tower control is checked by probes, never by policy names: the
requests the control exists to stop, made by a plain IAM user or by the root user with the
context AWS would supply (principal keys and a Region the SCPs allow). A control is present when
every probe is denied. A Deny that exempts principals through aws:PrincipalArn (Control Tower's
own controls exempt AWSControlTowerExecution) still counts; the evidence names the exempted
patterns and whether a probe as such a principal is indeed allowed.

SCPs do not apply to the management account; its report says so and its controls are
NOT_AVAILABLE. An account whose SCPs could not be read or parsed gets NOT_AVAILABLE too, never a
pass: a missing policy could hide a Deny as well as an Allow.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from mamori.core import (
    Compliance,
    ComplianceStatus,
    Finding,
    Remediation,
    Resource,
    Severity,
    SeverityLabel,
)
from mamori.identity.catalog import catalog
from mamori.identity.context import EMPTY, RequestContext
from mamori.identity.evaluate import Decision, PolicySet, Request, evaluate
from mamori.identity.guardrail_controls import CONTROLS, KNOWN_REGIONS, Control
from mamori.identity.model import IdentityModel
from mamori.identity.policy import CompiledPolicy, Statement, StatementRef, compile_policy
from mamori.identity.principals import Caller
from mamori.identity.reporting import identity_finding
from mamori.identity.resolve import Resolver

PROBE_USER = "mamori-guardrail-probe"
_ALLOW_ALL = compile_policy(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    name="mamori:allow-everything",
    kind="identity",
)
_REGION_KEY = "aws:RequestedRegion"
_PRINCIPAL_ARN = "aws:principalarn"
# Operators under which a listed aws:PrincipalArn escapes a Deny.
_EXEMPTING = (
    "ArnNotLike",
    "ArnNotEquals",
    "StringNotLike",
    "StringNotEquals",
    "StringNotEqualsIgnoreCase",
)
_MAX_VALUES_PER_KEY = 12
Levels = Sequence[Sequence[CompiledPolicy]]


class ConditionalDeny(NamedTuple):
    action: str
    keys: tuple[str, ...]  # condition keys of the statements involved, as the policies spell them


class ControlResult(NamedTuple):
    control_id: str
    title: str
    present: bool
    evidence: dict[str, Any]


@dataclass(slots=True)
class AccountGuardrails:
    """The SCP ceiling and Control Tower controls of one account."""

    account: str
    name: str = ""
    partition: str = "aws"
    scps_apply: bool = True  # False for the management account
    error: str | None = None  # why the SCPs could not be read; then nothing below is known
    never_allowed: dict[str, list[str]] = field(default_factory=dict)  # by service prefix
    conditionally_denied: list[ConditionalDeny] = field(default_factory=list)
    controls: list[ControlResult] = field(default_factory=list)
    home_region: str | None = None  # the Region the probes ran in

    @property
    def available(self) -> bool:
        return self.scps_apply and self.error is None

    def never_allowed_counts(self) -> dict[str, int]:
        return {service: len(actions) for service, actions in self.never_allowed.items()}

    def conditionally_denied_by_service(self) -> dict[str, list[ConditionalDeny]]:
        out: dict[str, list[ConditionalDeny]] = {}
        for entry in self.conditionally_denied:
            out.setdefault(entry.action.partition(":")[0].lower(), []).append(entry)
        return out


# --- evaluation helpers ------------------------------------------------------------------


def _decide(
    caller: Caller, levels: Levels, action: str, resource: str, ctx: RequestContext
) -> Decision:
    policies = PolicySet(identity=[_ALLOW_ALL], scps=levels)
    return evaluate(caller, policies, Request(action, resource, ctx))


def _statements(levels: Levels) -> dict[StatementRef, Statement]:
    return {st.ref: st for level in levels for policy in level for st in policy.statements}


def _conditions(st: Statement) -> Iterable[tuple[str, str, list[str]]]:
    """(operator, key, values) of a compiled statement's Condition, as written."""
    raw = st.raw.get("Condition")
    if not isinstance(raw, dict):
        return
    for operator, block in raw.items():
        if not isinstance(block, dict):
            continue
        for key, values in block.items():
            items = values if isinstance(values, list) else [values]
            yield (
                str(operator),
                str(key),
                [str(v).lower() if isinstance(v, bool) else str(v) for v in items],
            )


def _operator_base(operator: str) -> str:
    """The operator without a set prefix or IfExists: "ForAnyValue:StringLikeIfExists" ->
    "StringLike"."""
    return operator.rpartition(":")[2].removesuffix("IfExists")


def _keys_of(statements: Iterable[Statement]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for st in statements:
        for _, key, _ in _conditions(st):
            seen.setdefault(key.lower(), key)
    return tuple(sorted(seen.values(), key=str.lower))


def _concrete(value: str) -> str | None:
    """A value a pattern matches, or None when it holds a policy variable."""
    if "${" in value:
        return None
    return value.replace("*", "mamori").replace("?", "x")


class _Account:
    """One member account's probing state: its SCP levels, callers and base contexts."""

    def __init__(self, account: str, partition: str, org_id: str, levels: Levels) -> None:
        self.account = account
        self.partition = partition
        self.levels = levels
        self.by_ref = _statements(levels)
        self.user = Caller(
            f"arn:{partition}:iam::{account}:user/{PROBE_USER}",
            "IAMUser",
            account,
            partition=partition,
        )
        self.root = Caller(
            f"arn:{partition}:iam::{account}:root", "Root", account, partition=partition
        )
        self.org_id = org_id
        region_values = self._region_values()
        self.home_region, self.home_allowed = self._pick_home(region_values)
        self.outside_region = next(
            (
                r
                for r in KNOWN_REGIONS
                if r != self.home_region
                and not any(fnmatch.fnmatchcase(r, v.lower()) for v in region_values)
            ),
            "mamori-unlisted-1",
        )

    # contexts ---------------------------------------------------------------------------

    def principal_context(self, caller: Caller, region: str | None) -> RequestContext:
        values: dict[str, tuple[str, ...]] = {
            "aws:PrincipalArn": (
                caller.arn if caller.type != "AssumedRole" else caller.role_arn or caller.arn,
            ),
            "aws:PrincipalAccount": (self.account,),
            "aws:PrincipalIsAWSService": ("false",),
        }
        if caller.type == "Root":
            values["aws:PrincipalType"] = ("Account",)
        elif caller.type == "IAMUser":
            values["aws:PrincipalType"] = ("User",)
            values["aws:username"] = (caller.arn.rsplit("/", 1)[-1],)
        else:
            values["aws:PrincipalType"] = ("AssumedRole",)
        if self.org_id:
            values["aws:PrincipalOrgID"] = (self.org_id,)
        if region:
            values[_REGION_KEY] = (region,)
        return RequestContext(values)

    def _region_values(self) -> list[str]:
        out: dict[str, None] = {}
        for st in self.by_ref.values():
            for _, key, values in _conditions(st):
                if key.lower() == _REGION_KEY.lower():
                    out.update(dict.fromkeys(v for v in values if "${" not in v))
        return list(out)

    def _pick_home(self, region_values: list[str]) -> tuple[str, bool]:
        """The first Region (those the SCPs name first) where a plain user may launch an
        instance, and whether there is one: probes run there, so that a Region deny does not
        pass for another control."""
        literal = sorted(v for v in region_values if "*" not in v and "?" not in v)
        candidates = list(dict.fromkeys([*literal, *KNOWN_REGIONS]))
        for region in candidates:
            resource = f"arn:{self.partition}:ec2:{region}:{self.account}:instance/*"
            ctx = self.principal_context(self.user, region)
            if _decide(self.user, self.levels, "ec2:RunInstances", resource, ctx).allowed:
                return region, True
        return candidates[0], False

    # the ceiling ------------------------------------------------------------------------

    def ceiling(self, actions: Sequence[str]) -> tuple[dict[str, list[str]], list[ConditionalDeny]]:
        groups: dict[tuple[int, ...], list[str]] = {}
        for action in actions:
            signature = tuple(
                id(st)
                for level in self.levels
                for policy in level
                for st in policy.for_action(action)
            )
            groups.setdefault(signature, []).append(action)
        never: dict[str, list[str]] = {}
        conditional: list[ConditionalDeny] = []
        for members in groups.values():
            verdict = self._classify(members[0])
            if verdict is True:
                for action in members:
                    never.setdefault(action.partition(":")[0].lower(), []).append(action)
            elif verdict:
                conditional.extend(ConditionalDeny(a, verdict) for a in members)
        for service_actions in never.values():
            service_actions.sort()
        conditional.sort()
        return dict(sorted(never.items())), conditional

    def _classify(self, action: str) -> bool | tuple[str, ...]:
        """True: never allowed; condition keys: conditionally denied; (): not denied."""
        per_level = [
            [
                st
                for policy in level
                for st in policy.for_action(action)
                if st.matches_resource("*", EMPTY)
            ]
            for level in self.levels
        ]
        first = _decide(self.user, self.levels, action, "*", EMPTY)
        if not first.allowed:
            unconditional = any(
                isinstance(ref, StatementRef)
                and (st := self.by_ref.get(ref)) is not None
                and not st.allow
                and st.condition is None
                for ref in first.decided_by
            )
            no_allow = any(not any(st.allow for st in level) for level in per_level)
            if unconditional or no_allow:
                return True
        involved = [
            st
            for level in per_level
            for st in level
            if st.condition is not None
            and (not st.allow or not any(o.allow and o.condition is None for o in level))
        ]
        if not involved:
            return ()
        if not first.allowed:
            return _keys_of(involved)
        for probe in self._probes(involved):
            if not _decide(self.user, self.levels, action, "*", probe).allowed:
                return _keys_of(involved)
        return ()

    def _probes(self, statements: Sequence[Statement]) -> Iterable[RequestContext]:
        """Contexts with one key set: to each value the conditions name, and to one they
        do not."""
        values: dict[str, dict[str, None]] = {}
        for st in statements:
            for _, key, listed in _conditions(st):
                bucket = values.setdefault(key, {})
                for value in listed:
                    concrete = _concrete(value)
                    if concrete is not None:
                        bucket[concrete] = None
        for key, bucket in values.items():
            candidates = [*list(bucket)[:_MAX_VALUES_PER_KEY], *self._outside_values(key)]
            for value in dict.fromkeys(candidates):
                yield RequestContext({key: (value,)})

    def _outside_values(self, key: str) -> list[str]:
        if key.lower() == _REGION_KEY.lower():
            return [self.outside_region]
        kind = catalog().key_type(key)
        base = kind.base if kind is not None else "String"
        return {
            "Bool": ["true", "false"],
            "Numeric": ["0", "1000000000"],
            "Date": ["1970-01-01T00:00:00Z", "2999-12-31T00:00:00Z"],
            "IPAddress": ["192.0.2.10"],
            "ARN": [self.user.arn],
        }.get(base, ["mamori-probe-value"])

    # controls ---------------------------------------------------------------------------

    def control(self, spec: Control) -> ControlResult:
        caller = self.root if spec.principal == "root" else self.user
        region = self.outside_region if spec.region == "outside" else self.home_region
        ctx = self.principal_context(caller, region)
        probes: list[dict[str, Any]] = []
        denying: list[Statement] = []
        for action, template in spec.requests:
            resource = template.format(p=self.partition, acct=self.account, region=region)
            decision = _decide(caller, self.levels, action, resource, ctx)
            probes.append(_probe_json(caller, action, resource, region, decision))
            denying.extend(
                st
                for ref in decision.decided_by
                if isinstance(ref, StatementRef)
                and (st := self.by_ref.get(ref)) is not None
                and not st.allow
            )
        present = all(p["decision"] != "Allow" for p in probes)
        evidence: dict[str, Any] = {"probes": probes, "region": region}
        if spec.region == "outside":
            evidence["allowed_region"] = self.home_region if self.home_allowed else None
            evidence["region_probed_outside"] = self.outside_region
            if not self.home_allowed:
                evidence["region_note"] = "ec2:RunInstances is denied in every Region probed"
        if present:
            exempted = self._exemptions(spec, denying, region)
            if exempted:
                evidence["exempted_principals"] = exempted
                evidence["note"] = (
                    "the denying SCP statements exempt the principals above "
                    "through aws:PrincipalArn; the control still counts as "
                    "present"
                )
            if spec.principal == "root":
                evidence["also_denied_for_iam_user"] = self._denied_for_user(spec, region)
        else:
            allowed = [p["action"] for p in probes if p["decision"] == "Allow"]
            evidence["allowed_actions"] = allowed
        return ControlResult(spec.id, spec.title, present, evidence)

    def _allowed(self, caller: Caller, spec: Control, region: str) -> list[bool]:
        """For each request the control exists to stop: whether `caller` may make it."""
        ctx = self.principal_context(caller, region)
        return [
            _decide(
                caller,
                self.levels,
                action,
                template.format(p=self.partition, acct=self.account, region=region),
                ctx,
            ).allowed
            for action, template in spec.requests
        ]

    def _denied_for_user(self, spec: Control, region: str) -> bool:
        return not any(self._allowed(self.user, spec, region))

    def _exemptions(
        self, spec: Control, denying: Sequence[Statement], region: str
    ) -> list[dict[str, Any]]:
        patterns: dict[str, None] = {}
        for st in denying:
            for operator, key, values in _conditions(st):
                if key.lower() == _PRINCIPAL_ARN and _operator_base(operator) in _EXEMPTING:
                    patterns.update(dict.fromkeys(values))
        out = []
        for pattern in patterns:
            caller = self._caller_for(pattern)
            verified = None
            if caller is not None:
                verified = all(self._allowed(caller, spec, region))
            out.append({"pattern": pattern, "probe_allowed": verified})
        return out

    def _caller_for(self, pattern: str) -> Caller | None:
        """A principal of this account whose ARN the pattern matches (None if not a user or
        role pattern)."""
        parts = pattern.split(":", 5)
        if len(parts) != 6 or parts[2].lower() != "iam":
            return None
        parts[1] = self.partition if ("*" in parts[1] or "?" in parts[1]) else parts[1]
        parts[4] = self.account if ("*" in parts[4] or "?" in parts[4]) else parts[4]
        resource = _concrete(parts[5])
        if resource is None or parts[4] != self.account:
            return None
        arn = ":".join([*parts[:5], resource])
        if resource.startswith("role/"):
            name = resource.rsplit("/", 1)[-1]
            session = f"arn:{self.partition}:sts::{self.account}:assumed-role/{name}/probe"
            return Caller(
                session, "AssumedRole", self.account, role_arn=arn, partition=self.partition
            )
        if resource.startswith("user/"):
            return Caller(arn, "IAMUser", self.account, partition=self.partition)
        return None


def _probe_json(
    caller: Caller, action: str, resource: str, region: str, decision: Decision
) -> dict[str, Any]:
    return {
        "principal": caller.arn,
        "action": action,
        "resource": resource,
        "region": region,
        "decision": decision.decision,
        "decided_by": [str(d) for d in decision.decided_by],
    }


# --- public API ------------------------------------------------------------------------------


def guardrails(
    model: IdentityModel,
    *,
    actions: Sequence[str] | None = None,
    controls: Sequence[Control] = CONTROLS,
) -> list[AccountGuardrails]:
    """One report per account of the model's organisation (none without an organisation).

    `actions` defaults to every action in the IAM catalogue."""
    org = model.organization
    if org is None:
        return []
    resolver = Resolver(model)
    names = {a.id: a.name for a in org.accounts.values()}
    names.update({a.account_id: a.name for a in model.accounts.values() if a.name})
    every = catalog().actions() if actions is None else actions
    by_levels: dict[
        tuple[tuple[int, ...], ...], tuple[dict[str, list[str]], list[ConditionalDeny]]
    ] = {}
    reports: list[AccountGuardrails] = []
    for account in sorted({*org.accounts, *model.accounts}):
        report = AccountGuardrails(account, names.get(account, ""), model.partition)
        reports.append(report)
        if account == org.management_account:
            report.scps_apply = False
            continue
        levels, problem = resolver.scp_levels(account)
        if problem or levels is None:
            report.error = problem or "SCPs unknown"
            continue
        probe = _Account(account, model.partition, org.id, levels)
        report.home_region = probe.home_region
        signature = tuple(tuple(id(p) for p in level) for level in levels)
        if signature not in by_levels:
            by_levels[signature] = probe.ceiling(every)
        never, conditional = by_levels[signature]
        report.never_allowed = {s: list(a) for s, a in never.items()}
        report.conditionally_denied = list(conditional)
        report.controls = [probe.control(spec) for spec in controls]
    return reports


# --- findings --------------------------------------------------------------------------------

_TYPES = ["Software and Configuration Checks/AWS Security Best Practices"]
STANDARD = "aws-control-tower"


def guardrail_findings(
    reports: Sequence[AccountGuardrails], controls: Sequence[Control] = CONTROLS
) -> list[Finding]:
    """One finding per account and control: PASSED when the SCPs enforce it, FAILED when not,
    NOT_AVAILABLE when SCPs do not apply (management account) or could not be read."""
    out: list[Finding] = []
    for report in reports:
        found = {c.control_id: c for c in report.controls}
        for spec in controls:
            result = found.get(spec.id)
            if not report.scps_apply:
                reason = (
                    "SCPs do not apply to the organization's management account, so no "
                    "SCP can enforce this control there"
                )
                out.append(_finding(report, spec, ComplianceStatus.NOT_AVAILABLE, reason, {}))
            elif report.error is not None or result is None:
                reason = f"the account's SCPs could not be read: {report.error or 'not probed'}"
                out.append(_finding(report, spec, ComplianceStatus.NOT_AVAILABLE, reason, {}))
            elif result.present:
                reason = _present_reason(result)
                out.append(_finding(report, spec, ComplianceStatus.PASSED, reason, result.evidence))
            else:
                allowed = ", ".join(result.evidence.get("allowed_actions", []))
                reason = f"the account's SCPs allow {allowed}"
                out.append(_finding(report, spec, ComplianceStatus.FAILED, reason, result.evidence))
    return out


def _present_reason(result: ControlResult) -> str:
    exempted = result.evidence.get("exempted_principals") or []
    if exempted:
        names = ", ".join(e["pattern"] for e in exempted)
        return f"the account's SCPs deny every probe (exempting {names})"
    return "the account's SCPs deny every probe"


def _finding(
    report: AccountGuardrails,
    spec: Control,
    status: ComplianceStatus,
    reason: str,
    evidence: dict[str, Any],
) -> Finding:
    failed = status is ComplianceStatus.FAILED
    # Security Hub's convention: only a failed control carries the control's severity.
    label = spec.severity if failed else SeverityLabel.INFORMATIONAL
    controls = {STANDARD: [spec.id]} if spec.id.startswith("AWS-GR_") else {}
    who = f"account {report.account}" + (f" ({report.name})" if report.name else "")
    account_resource = f"AWS::::Account:{report.account}"
    return identity_finding(
        generator_id=spec.generator_id,
        key=account_resource,
        resources=[
            Resource(
                type="AwsAccount",
                id=account_resource,
                partition=report.partition,
                region="global",
                details={"control": spec.id, "guidance": spec.guidance},
            )
        ],
        account_id=report.account,
        region="global",
        types=list(_TYPES),
        severity=Severity.of(label),
        title=f"{spec.title} ({spec.id})",
        description=f"{who}: {reason}.",
        remediation=Remediation(text=spec.remediation, url=spec.url),
        compliance=Compliance(status=status, controls=controls, status_reasons=[reason[:1000]]),
        evidence={"control": spec.id, "guidance": spec.guidance, **evidence},
        mitre=list(spec.mitre) if failed else [],
        references=[spec.url],
    )
