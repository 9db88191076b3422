"""The IAM decision: AWS's documented policy evaluation logic, for one request.

Order (IAM User Guide, "Policy evaluation logic" and "Cross-account policy evaluation logic"):

1. An explicit Deny in any applicable policy (SCP, RCP, resource-based, identity-based,
   permissions boundary, session policy) decides: ExplicitDeny.
2. SCPs apply to principals of member accounts (not the management account, not service-linked
   roles); every level from the root down to the account must have an Allow.
3. RCPs apply to resources of member accounts (not the management account) and not to
   service-linked roles; every level must have an Allow.
4. Within one account a resource-based policy and identity-based policies are a union, but how
   the resource policy names the caller matters: naming the exact user or role session grants
   without regard to permissions boundaries and session policies; naming the role grants
   within the boundary and session policy; naming the account delegates to identity policies.
   Role trust policies and KMS key policies must themselves allow: identity policies alone do
   not grant sts:AssumeRole or use of a key.
5. Across accounts both sides must allow: the resource policy must name the caller (or its
   role or account) and the caller's own policies must allow.
6. Identity-based policies, a permissions boundary and session policies intersect.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mamori.identity.context import RequestContext
from mamori.identity.policy import CompiledPolicy, Statement, StatementRef
from mamori.identity.principals import ACCOUNT, ANY, DIRECT, ROLE, SERVICE, Caller

DecisionName = Literal["Allow", "ImplicitDeny", "ExplicitDeny"]
ALLOW: DecisionName = "Allow"
IMPLICIT_DENY: DecisionName = "ImplicitDeny"
EXPLICIT_DENY: DecisionName = "ExplicitDeny"

# Strength of a resource policy's grant, strongest first (see rule 4 above).
_GRANT_ORDER = {DIRECT: 0, ANY: 0, SERVICE: 0, ROLE: 1, ACCOUNT: 2}
_TRUST_ACTIONS = frozenset(
    {
        "sts:assumerole",
        "sts:assumerolewithsaml",
        "sts:assumerolewithwebidentity",
        "sts:tagsession",
        "sts:setsourceidentity",
        "sts:setcontext",
    }
)


@dataclass(frozen=True, slots=True)
class Reason:
    """An implicit deny has no statement to point at; this says which allow was missing."""

    kind: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.kind}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Decision:
    decision: DecisionName
    decided_by: tuple[StatementRef | Reason, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.decision == ALLOW

    def to_json(self) -> list[dict[str, Any]]:
        return [d.to_json() for d in self.decided_by]


@dataclass(slots=True)
class PolicySet:
    """Every policy that can take part in a decision for one caller and resource."""

    identity: Sequence[CompiledPolicy] = ()
    boundary: CompiledPolicy | None = None
    session: Sequence[CompiledPolicy] | None = None
    scps: Sequence[Sequence[CompiledPolicy]] | None = None
    rcps: Sequence[Sequence[CompiledPolicy]] | None = None
    resource: CompiledPolicy | None = None
    resource_account: str | None = None
    resource_in_management_account: bool = False


@dataclass(frozen=True, slots=True)
class Request:
    action: str
    resource: str
    context: RequestContext = field(default_factory=lambda: RequestContext({}))


def needs_resource_policy(action: str, resource: str) -> bool:
    """Requests that the resource's own policy must allow (a role's trust policy, a KMS key's
    key policy): identity-based policies alone never grant them."""
    lowered = action.lower()
    if lowered in _TRUST_ACTIONS:
        return True
    return lowered.startswith("kms:") and ":key/" in resource


def _applies_to(st: Statement, caller: Caller, has_boundary: bool) -> str | None:
    """For resource-based statements: how the Principal names the caller (None: not at all)."""
    if st.principals is None:
        return ANY
    if st.not_principal:
        # AWS: a Deny with NotPrincipal always denies principals that have a permissions
        # boundary, whatever NotPrincipal lists (NotPrincipal documentation, key points).
        if has_boundary and not st.allow:
            return ANY
        return None if st.principals.exempts(caller) else ANY
    return st.principals.match(caller)


def caller_grants(
    policy: CompiledPolicy, action: str, caller: Caller, has_boundary: bool
) -> tuple[str | None, ...]:
    """How each statement of resource-based `policy` on `action` names `caller` (None: not at
    all). It is all that policy's part in a decision reads of the caller besides its type and
    account; callers equal in those get equal decisions from equal other inputs."""
    return tuple(_applies_to(st, caller, has_boundary) for st in policy.for_action(action))


def _scan(
    statements: Sequence[Statement],
    request: Request,
    caller: Caller | None,
    has_boundary: bool,
    denies: list[StatementRef],
    allows: list[tuple[Statement, str]],
) -> None:
    """Add the statements that apply to `request`: denies by reference, allows with how they
    name the caller."""
    resource = request.resource
    ctx = request.context
    for st in statements:
        grant = ANY if caller is None else _applies_to(st, caller, has_boundary)
        if grant is None:
            continue
        if not st.matches_resource(resource, ctx):
            continue
        condition = st.condition
        if condition is not None and not condition.matches(ctx):
            continue
        if st.allow:
            allows.append((st, grant))
        else:
            denies.append(st.ref)


class _Evaluation:
    """Gathers matches across policies once; the decision is then pure bookkeeping."""

    __slots__ = ("action", "denies")

    def __init__(self, action: str) -> None:
        self.denies: list[StatementRef] = []
        self.action = action.lower()  # lowered once, not once per policy

    def allows_in(
        self,
        policies: Sequence[CompiledPolicy],
        request: Request,
        caller: Caller | None,
        has_boundary: bool,
    ) -> list[tuple[Statement, str]]:
        found: list[tuple[Statement, str]] = []
        for policy in policies:
            statements = policy.for_lowered_action(self.action)
            if statements:  # most policies say nothing about a given action
                _scan(statements, request, caller, has_boundary, self.denies, found)
        return found


def _levels_allow(
    ev: _Evaluation,
    levels: Sequence[Sequence[CompiledPolicy]],
    request: Request,
    caller: Caller | None,
    has_boundary: bool,
    kind: str,
) -> Reason | None:
    """The reason the first level without an Allow denies, or None when every level allows."""
    missing: Reason | None = None
    for depth, level in enumerate(levels):
        allows = ev.allows_in(level, request, caller, has_boundary)
        if not allows and missing is None:
            where = "the root" if depth == 0 else f"level {depth}"
            missing = Reason(kind, f"no {kind.upper()} at {where} allows {request.action}")
    return missing


def evaluate(caller: Caller, policies: PolicySet, request: Request) -> Decision:
    """AWS's decision for `caller` doing `request` under `policies`."""
    ev = _Evaluation(request.action)
    boundary = policies.boundary
    has_boundary = boundary is not None
    is_aws = caller.is_aws_principal

    scp_missing = None
    if (
        policies.scps is not None
        and is_aws
        and not caller.in_management_account
        and not caller.is_service_linked_role
    ):
        scp_missing = _levels_allow(ev, policies.scps, request, None, has_boundary, "scp")
    rcp_missing = None
    if (
        policies.rcps is not None
        and not policies.resource_in_management_account
        and not caller.is_service_linked_role
    ):
        rcp_missing = _levels_allow(ev, policies.rcps, request, caller, has_boundary, "rcp")

    resource_allows: list[tuple[Statement, str]] = []
    if policies.resource is not None:
        resource_allows = ev.allows_in((policies.resource,), request, caller, has_boundary)

    identity_allows: list[tuple[Statement, str]] = []
    boundary_allows: list[tuple[Statement, str]] = []
    session_allows: list[tuple[Statement, str]] = []
    if is_aws and caller.type != "Root":
        identity_allows = ev.allows_in(policies.identity, request, None, has_boundary)
        if boundary is not None:
            boundary_allows = ev.allows_in((boundary,), request, None, has_boundary)
        if policies.session is not None:
            session_allows = ev.allows_in(policies.session, request, None, has_boundary)

    if ev.denies:
        return Decision(EXPLICIT_DENY, tuple(dict.fromkeys(ev.denies)))
    if scp_missing is not None:
        return Decision(IMPLICIT_DENY, (scp_missing,))
    if rcp_missing is not None:
        return Decision(IMPLICIT_DENY, (rcp_missing,))
    return _combine(
        caller, policies, request, resource_allows, identity_allows, boundary_allows, session_allows
    )


@functools.lru_cache(maxsize=4096)
def _missing_reasons(
    action: str, identity: bool, boundary: bool, session: bool
) -> tuple[Reason, ...]:
    """The Reasons an implicit deny names, in a fixed order; shared, as they are immutable."""
    missing: list[Reason] = []
    if identity:
        missing.append(Reason("identity", f"no identity-based policy allows {action}"))
    if boundary:
        missing.append(Reason("boundary", f"the permissions boundary does not allow {action}"))
    if session:
        missing.append(Reason("session", f"no session policy allows {action}"))
    return tuple(missing)


def _combine(
    caller: Caller,
    policies: PolicySet,
    request: Request,
    resource_allows: list[tuple[Statement, str]],
    identity_allows: list[tuple[Statement, str]],
    boundary_allows: list[tuple[Statement, str]],
    session_allows: list[tuple[Statement, str]],
) -> Decision:
    grant: str | None = None
    resource_refs: tuple[StatementRef, ...] = ()
    if resource_allows:
        grant = min((g for _, g in resource_allows), key=_GRANT_ORDER.__getitem__)
        resource_refs = tuple(st.ref for st, g in resource_allows if g == grant)
    identity_lacks = not identity_allows and caller.type != "Root"
    boundary_lacks = policies.boundary is not None and not boundary_allows
    session_lacks = policies.session is not None and not session_allows
    lacking = identity_lacks or boundary_lacks or session_lacks

    if not caller.is_aws_principal:
        # AWS services and anonymous callers have no policies of their own.
        if grant is not None:
            return Decision(ALLOW, resource_refs)
        return Decision(
            IMPLICIT_DENY, (Reason("resource", "no resource-based policy allows this caller"),)
        )
    same_account = (policies.resource_account or caller.account) == caller.account
    if not same_account:
        if grant is None:
            return Decision(
                IMPLICIT_DENY,
                (
                    Reason(
                        "resource",
                        "cross-account: the resource's policy does not allow this caller",
                    ),
                ),
            )
        if lacking:
            return Decision(
                IMPLICIT_DENY,
                _missing_reasons(request.action, identity_lacks, boundary_lacks, session_lacks),
            )
        return Decision(
            ALLOW, resource_refs + _caller_side(identity_allows, boundary_allows, session_allows)
        )

    if grant in (DIRECT, ANY, SERVICE):
        return Decision(ALLOW, resource_refs)
    if grant == ROLE:
        if boundary_lacks or session_lacks:
            return Decision(
                IMPLICIT_DENY,
                _missing_reasons(request.action, False, boundary_lacks, session_lacks),
            )
        return Decision(
            ALLOW, resource_refs + _caller_side(identity_allows, boundary_allows, session_allows)
        )
    if grant is None and needs_resource_policy(request.action, request.resource):
        what = "trust policy" if request.action.lower().startswith("sts:") else "key policy"
        return Decision(
            IMPLICIT_DENY, (Reason("resource", f"the {what} does not allow this caller"),)
        )
    if lacking:
        return Decision(
            IMPLICIT_DENY,
            _missing_reasons(request.action, identity_lacks, boundary_lacks, session_lacks),
        )
    caller_side = _caller_side(identity_allows, boundary_allows, session_allows)
    return Decision(ALLOW, (resource_refs + caller_side) if grant == ACCOUNT else caller_side)


def _caller_side(*groups: list[tuple[Statement, str]]) -> tuple[StatementRef, ...]:
    return tuple(st.ref for group in groups for st, _ in group)
