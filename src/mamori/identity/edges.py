"""Turn the technique table into graph edges, checking every hop with the evaluator.

Principals whose policies are the same (same compiled documents, boundary and SCPs, and no
policy variables or principal-specific conditions) get the same answers, so edges are worked
out once per such group ("signature") and shared: an account of 10,000 users in a few dozen
permission sets costs a few dozen evaluations per target, not 10,000. Beyond that, the Checker
(checker.py) shares each answer between principals whose policies on that action are the same
and skips targets no statement can allow, so principals with a personal policy cost little more.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TypeVar

from mamori.identity.admin import FULL_ACCESS, FULL_BOUNDARY, is_admin
from mamori.identity.checker import GLOBAL_REGION, Checker
from mamori.identity.context import ContextValue, RequestContext
from mamori.identity.evaluate import PolicySet, Request, evaluate
from mamori.identity.model import IamAccount, Role, User, Workload
from mamori.identity.policy import CompiledPolicy
from mamori.identity.principals import Caller
from mamori.identity.resolve import Resolver, Subject
from mamori.identity.techniques import ACTS_AS, ADMIN_POLICY_ARN, TECHNIQUES, Technique

SELF = "(self)"
T = TypeVar("T", User, Role)


@dataclass(frozen=True, slots=True)
class Edge:
    technique: str
    target: str  # principal ARN, or SELF for "the source itself"
    grants: str  # acts_as | elevate
    via: str | None  # the policy, group or workload the technique goes through
    statements: tuple[str, ...]


@dataclass(slots=True)
class Graph:
    subjects: dict[str, Subject]
    admins: set[str]
    signature_of: dict[str, int]  # principal ARN -> signature number
    members: dict[int, list[str]]  # signature number -> principal ARNs
    edges: dict[int, list[Edge]]  # signature number -> edges (SELF resolved per member)
    personal: dict[str, list[Edge]] = field(default_factory=dict)  # edges of one principal
    evaluations: int = 0

    def out_edges(self, arn: str) -> Iterator[Edge]:
        yield from self.edges.get(self.signature_of[arn], ())
        yield from self.personal.get(arn, ())


class EdgeBuilder:
    """Builds the escalation graph of a model."""

    def __init__(self, resolver: Resolver, techniques: Iterable[Technique] = TECHNIQUES) -> None:
        self.resolver = resolver
        self.techniques = tuple(techniques)
        self.check = Checker(resolver)
        self.subjects: dict[str, Subject] = {}
        self._trust_cache: dict[str, CompiledPolicy | None] = {}
        self._service_roles: dict[tuple[str, str], list[Role]] = {}
        self._attached: dict[str, dict[str, list[str]]] = {}
        self._admin_memo: dict[tuple[str, int, int, object], bool] = {}
        self._members: dict[str, dict[str, list[str]]] = {}
        self._unblockable: dict[tuple[str, str], list[tuple[str, CompiledPolicy | None]]] = {}
        self._trusting: dict[str, list[Role]] | None = None
        self._order: dict[int, dict[str, int]] = {}
        self._workload_memo: dict[tuple[object, ...], list[tuple[str, str, tuple[str, ...]]]] = {}

    # -- indexes over the model ------------------------------------------------------------

    def trust_of(self, role: Role, subject: Subject | None = None) -> CompiledPolicy | None:
        if role.arn not in self._trust_cache:
            problems: list[str] = []
            self._trust_cache[role.arn] = self.resolver.compile(role.trust_doc, problems)
        return self._trust_cache[role.arn]

    def service_roles(self, account: IamAccount, service: str) -> list[Role]:
        """Roles of the account whose trust policy lets `service` assume them."""
        key = (account.account_id, service)
        if key not in self._service_roles:
            caller = Caller(service, "Service", "")
            found = []
            for role in account.roles.values():
                trust = self.trust_of(role)
                if trust is None or role.is_service_linked:
                    continue
                decision = evaluate(
                    caller,
                    PolicySet(resource=trust, resource_account=account.account_id),
                    Request("sts:AssumeRole", role.arn, RequestContext({})),
                )
                if decision.allowed:
                    found.append(role)
            self._service_roles[key] = found
        return self._service_roles[key]

    def attached(self, account: IamAccount) -> dict[str, list[str]]:
        """Customer managed policy ARN -> principals it applies to (directly or by group)."""
        if account.account_id not in self._attached:
            index: dict[str, list[str]] = defaultdict(list)
            for user in account.users.values():
                arns = list(user.managed_arns)
                for group in user.groups:
                    if group in account.groups:
                        arns.extend(account.groups[group].managed_arns)
                for arn in dict.fromkeys(arns):
                    index[arn].append(user.arn)
            for role in account.roles.values():
                for arn in role.managed_arns:
                    index[arn].append(role.arn)
            self._attached[account.account_id] = {
                k: v
                for k, v in index.items()
                if k in account.policies and not account.policies[k].is_aws_managed
            }
        return self._attached[account.account_id]

    def members(self, account: IamAccount) -> dict[str, list[str]]:
        if account.account_id not in self._members:
            index: dict[str, list[str]] = defaultdict(list)
            for user in account.users.values():
                for group in user.groups:
                    index[group].append(user.arn)
            self._members[account.account_id] = dict(index)
        return self._members[account.account_id]

    # -- building ----------------------------------------------------------------------------

    def build(self) -> Graph:
        signatures: dict[tuple[object, ...], int] = {}
        graph = Graph({}, set(), {}, {}, {})
        for arn in self.resolver.principal_arns():
            subject = self.resolver.subject(arn)
            self.subjects[arn] = subject
            sig = signatures.setdefault(subject.signature, len(signatures))
            graph.signature_of[arn] = sig
            graph.members.setdefault(sig, []).append(arn)
        graph.subjects = self.subjects
        admin_by_sig: dict[int, bool] = {}
        for sig, arns in graph.members.items():
            rep = self.subjects[arns[0]]
            admin_by_sig[sig] = is_admin(
                rep.caller, rep.identity, rep.boundary, rep.scps, rep.context
            )
            if admin_by_sig[sig]:
                graph.admins.update(arns)
                continue
            graph.edges[sig] = [*self._edges(sig, rep), *self._shared_assume_edges(sig, rep)]
            for arn in arns:
                own = list(self._personal_edges(sig, self.subjects[arn]))
                if own:
                    graph.personal[arn] = own
        graph.evaluations = self.check.evaluations
        return graph

    def _edges(self, sig: int, s: Subject) -> Iterator[Edge]:
        for tech in self.techniques:
            if tech.target in ("admin-group",) or tech.id == "sts-assume-role":
                continue  # these depend on the member itself: see _personal_edges
            if not all(self.check.may(sig, s, a) for a in tech.actions):
                continue
            if tech.needs_pass_role and not self.check.may(sig, s, "iam:PassRole"):
                continue
            yield from self._technique_edges(tech, s)

    def _personal_edges(self, sig: int, s: Subject) -> Iterator[Edge]:
        """Edges that depend on who the source is: roles whose trust policy names the
        principal itself or reads principal-specific keys, and adding oneself to an
        administrators' group."""
        for role, personal in self._assumable(sig, s):
            if personal:
                yield from self._assume(s, role)
        if isinstance(s.entity, User) and self.check.may(sig, s, "iam:AddUserToGroup"):
            yield from self._add_to_group(s)

    def _shared_assume_edges(self, sig: int, s: Subject) -> Iterator[Edge]:
        for role, personal in self._assumable(sig, s):
            if not personal:
                yield from self._assume(s, role)

    def _assume(self, s: Subject, role: Role) -> Iterator[Edge]:
        trust = self.trust_of(role)
        if trust is None or role.arn == s.arn:
            return
        found = self.check.allowed(
            s, "sts:AssumeRole", role.arn, resource_policy=trust, resource_account=role.account
        )
        if found is not None:
            yield Edge("sts-assume-role", role.arn, ACTS_AS, None, found)

    def trusting(self) -> dict[str, list[Role]]:
        """Principal name in trust policies ("*", account root or principal ARN) -> roles."""
        if self._trusting is None:
            index: dict[str, list[Role]] = defaultdict(list)
            for account in self.resolver.model.accounts.values():
                for role in account.roles.values():
                    trust = None if role.is_service_linked else self.trust_of(role)
                    if trust is None:
                        continue
                    for name in _trusted_names(trust):
                        index[name].append(role)
            self._trusting = dict(index)
        return self._trusting

    def _assumable(self, sig: int, s: Subject) -> Iterator[tuple[Role, bool]]:
        """Candidate roles, each with whether the answer is particular to this principal."""
        index = self.trusting()
        seen: set[str] = set()
        shared_sig = s.signature[-1] is None
        names = [s.arn, "*"]
        if self.check.may(sig, s, "sts:AssumeRole"):
            names.append(s.caller.account_root)
        for name in names:
            for role in index.get(name, ()):
                if role.arn in seen:
                    continue
                seen.add(role.arn)
                trust = self.trust_of(role)
                reads = trust is not None and trust.reads_principal
                yield role, name == s.arn or reads or not shared_sig

    def _add_to_group(self, s: Subject) -> Iterator[Edge]:
        account = s.account
        for group in account.groups.values():
            problems: list[str] = []
            extra = [
                c
                for d in account.policy_docs_of_group(group)
                if (c := self.resolver.compile(d, problems)) is not None
            ]
            if not extra or group.name in getattr(s.entity, "groups", []):
                continue
            if not is_admin(s.caller, [*s.identity, *extra], s.boundary, s.scps, s.context):
                continue
            found = self.check.allowed(s, "iam:AddUserToGroup", group.arn)
            if found is not None:
                yield Edge("iam-add-user-to-group", SELF, "elevate", group.arn, found)

    def _technique_edges(self, tech: Technique, s: Subject) -> Iterator[Edge]:
        kind = tech.target
        account = s.account
        if kind in ("user", "user-without-password", "user-with-password"):
            for user in self._targets(tech, s, account.users):
                if kind == "user-without-password" and user.has_password is True:
                    continue
                if kind == "user-with-password" and user.has_password is False:
                    continue
                if tech.grants == ACTS_AS and user.arn == s.arn:
                    continue
                full = bool(tech.when_full) and len(user.access_keys or ()) >= 2
                yield from self._simple(
                    tech, s, user.arn, user.arn, None, full, _target_context(tech, user)
                )
        elif kind == "role":
            for role in self._targets(tech, s, account.roles):
                if role.is_service_linked or (tech.grants == ACTS_AS and role.arn == s.arn):
                    continue
                yield from self._simple(
                    tech, s, role.arn, role.arn, None, False, _target_context(tech, role)
                )
        elif kind == "group":
            for group in account.groups.values():
                members = self.members(account).get(group.name, [])
                if not members:
                    continue
                # a member whose boundary or Deny outlasts the new policy gains nothing
                members = [m for m in members if self._would_be_admin(m)]
                if not members:
                    continue
                found = self._all(tech, s, group.arn, _attach_context(tech))
                if found is not None:
                    for member in members:
                        yield Edge(tech.id, member, tech.grants, group.arn, found)
        elif kind == "attached-policy":
            yield from self._policy_edges(tech, s)
        elif kind in ("bounded-user", "bounded-role", "denied-user", "denied-role"):
            yield from self._unblock_edges(tech, s)
        elif kind.startswith("service-role:"):
            yield from self._new_workload_edges(tech, s)
        elif kind.startswith("workload:"):
            yield from self._workload_edges(tech, s, kind.split(":", 1)[1])

    def _targets(self, tech: Technique, s: Subject, entities: dict[str, T]) -> Iterable[T]:
        """The users or roles (by ARN, in model order) that `s` may name in the technique's
        first request; those its policies cannot allow it on are left out unasked."""
        exact = self.check.exact_resources(s, tech.actions[0], _attach_context(tech))
        if exact is None:
            return entities.values()
        order = self._order.get(id(entities))
        if order is None:
            order = self._order[id(entities)] = {arn: i for i, arn in enumerate(entities)}
        return [entities[arn] for arn in sorted(exact & entities.keys(), key=order.__getitem__)]

    def _all(
        self,
        tech: Technique,
        s: Subject,
        resource: str,
        extra: Mapping[str, ContextValue] | None = None,
        actions: tuple[str, ...] = (),
        region: str = GLOBAL_REGION,
    ) -> tuple[str, ...] | None:
        statements: list[str] = []
        for action in actions or tech.actions:
            found = self.check.allowed(s, action, resource, extra=extra, region=region)
            if found is None:
                return None
            statements.extend(found)
        return tuple(dict.fromkeys(statements))

    def _simple(
        self,
        tech: Technique,
        s: Subject,
        resource: str,
        target: str,
        via: str | None,
        full: bool,
        extra: Mapping[str, ContextValue] | None = None,
    ) -> Iterator[Edge]:
        if tech.grants != ACTS_AS and not self._would_be_admin(target):
            return
        actions = tech.actions + (tech.when_full if full else ())
        found = self._all(tech, s, resource, extra, actions)
        if found is not None:
            yield Edge(tech.id, SELF if target == s.arn else target, tech.grants, via, found)

    def _would_be_admin(
        self,
        arn: str,
        *,
        drop: CompiledPolicy | None = None,
        add: CompiledPolicy | None = FULL_ACCESS,
        boundary: CompiledPolicy | bool | None = True,
    ) -> bool:
        """Whether the principal would be an administrator after the change."""
        key = (arn, id(drop), id(add), id(boundary) if boundary is not True else True)
        hit = self._admin_memo.get(key)
        if hit is None:
            t = self.subjects.get(arn)
            if t is None:
                return False
            identity = [p for p in t.identity if p is not drop] + ([add] if add else [])
            bound = t.boundary if boundary is True else (boundary or None)
            hit = is_admin(t.caller, identity, bound, t.scps, t.context)
            self._admin_memo[key] = hit
        return hit

    def _policy_edges(self, tech: Technique, s: Subject) -> Iterator[Edge]:
        account = s.account
        for policy_arn, principals in self.attached(account).items():
            policy = account.policies[policy_arn]
            full = bool(tech.when_full) and len(policy.versions) >= 5
            if tech.id == "iam-set-default-policy-version":
                versions = [v for v in policy.versions if not v.is_default]
                if not versions:
                    continue
                gainers = [
                    p for p in principals if self._older_version_admin(p, policy_arn, versions)
                ]
            else:
                gainers = [p for p in principals if self._would_be_admin(p)]
            if not gainers:
                continue
            found = self._all(
                tech, s, policy_arn, actions=tech.actions + (tech.when_full if full else ())
            )
            if found is not None:
                for p in gainers:
                    yield Edge(tech.id, SELF if p == s.arn else p, tech.grants, policy_arn, found)

    def _older_version_admin(self, principal: str, policy_arn: str, versions: list) -> bool:
        t = self.subjects.get(principal)
        if t is None:
            return False
        current = next((p for p in t.identity if p.name == policy_arn), None)
        for version in versions:
            problems: list[str] = []
            from mamori.identity.model import PolicyDoc

            doc = PolicyDoc(
                f"{policy_arn}:{version.version_id}",
                policy_arn,
                policy_arn,
                "managed",
                version.document,
            )
            compiled = self.resolver.compile(doc, problems)
            if compiled is not None and self._would_be_admin(principal, drop=current, add=compiled):
                return True
        return False

    def _unblock_edges(self, tech: Technique, s: Subject) -> Iterator[Edge]:
        for arn, policy in self.unblockable(s.account, tech):
            if policy is None:  # a permissions boundary to delete or replace
                replace = "put" in tech.id
                extra = {"iam:PermissionsBoundary": (ADMIN_POLICY_ARN,)} if replace else None
                found = self._all(tech, s, arn, extra)
                via = None
            else:
                managed = "detach" in tech.id
                extra = {"iam:PolicyARN": (policy.name,)} if managed else None
                found = self._all(tech, s, arn, extra)
                via = policy.name
            if found is not None:
                yield Edge(tech.id, SELF if arn == s.arn else arn, tech.grants, via, found)

    def unblockable(
        self, account: IamAccount, tech: Technique
    ) -> list[tuple[str, CompiledPolicy | None]]:
        """(principal, the policy to remove, or None for its boundary) of the account whose
        removal would make the principal an administrator."""
        key = (account.account_id, tech.id)
        if key in self._unblockable:
            return self._unblockable[key]
        want_user = tech.target.endswith("user")
        found: list[tuple[str, CompiledPolicy | None]] = []
        for arn, t in self.subjects.items():
            if t.account is not account or isinstance(t.entity, User) != want_user:
                continue
            if tech.target.startswith("bounded"):
                replace = FULL_BOUNDARY if "put" in tech.id else None
                if t.boundary is not None and self._would_be_admin(
                    arn, add=None, boundary=replace or False
                ):
                    found.append((arn, None))
                continue
            own = self._own_policies(t, managed="detach" in tech.id)
            for policy in t.identity:
                if id(policy) not in own or all(st.allow for st in policy.statements):
                    continue
                if self._would_be_admin(arn, drop=policy, add=None):
                    found.append((arn, policy))
        self._unblockable[key] = found
        return found

    def _own_policies(self, t: Subject, *, managed: bool) -> set[int]:
        """ids of the principal's own managed (or inline) policies: DetachUserPolicy and
        DeleteUserPolicy cannot remove what it has through a group."""
        entity = t.entity
        if managed:
            found = (t.account.policies.get(arn) for arn in entity.managed_arns)
            docs = [p.doc() for p in found if p is not None]
        else:
            docs = list(entity.inline)
        problems: list[str] = []
        return {
            id(c)
            for d in docs
            if d is not None and (c := self.resolver.compile(d, problems)) is not None
        }

    def _new_workload_edges(self, tech: Technique, s: Subject) -> Iterator[Edge]:
        account = s.account
        assert tech.service is not None
        roles = self.service_roles(account, tech.service)
        if not roles:
            return
        creation: list[str] = []
        for action in tech.actions:
            service = action.split(":", 1)[0]
            prefix = (
                f"arn:{self.resolver.model.partition}:{service}:{GLOBAL_REGION}:"
                f"{account.account_id}:"
            )
            found = self.check.new_resource(s, action, prefix)
            if found is None:
                return
            creation.extend(found)
        passed = {"iam:PassedToService": (tech.passed_to or tech.service,)}
        for role in roles:
            if role.arn == s.arn:
                continue
            if tech.service == "ec2.amazonaws.com" and not role.instance_profile_arns:
                continue
            found = self.check.allowed(s, "iam:PassRole", role.arn, extra=passed)
            if found is not None:
                yield Edge(
                    tech.id, role.arn, ACTS_AS, None, tuple(dict.fromkeys([*found, *creation]))
                )

    def _workload_edges(self, tech: Technique, s: Subject, kind: str) -> Iterator[Edge]:
        for role_arn, workload_arn, found in self._workload_answers(tech, s, kind):
            if role_arn != s.arn:
                yield Edge(tech.id, role_arn, ACTS_AS, workload_arn, found)

    def _workload_answers(
        self, tech: Technique, s: Subject, kind: str
    ) -> list[tuple[str, str, tuple[str, ...]]]:
        """(role, workload, allowing statements) of the workloads of `kind` the technique's
        requests are allowed on, shared by every source whose decisions on those actions are
        the same (see Checker.decision_key)."""
        key = (
            tech.id,
            s.account.account_id,
            *(self.check.decision_key(s, a) for a in tech.actions),
        )
        hit = self._workload_memo.get(key)
        if hit is None:
            hit = []
            for workload in s.account.workloads:
                if workload.kind != kind or not workload.role_arn:
                    continue
                found = self._all(tech, s, _workload_resource(workload), region=workload.region)
                if found is not None:
                    hit.append((workload.role_arn, workload.arn, found))
            self._workload_memo[key] = hit
        return hit


def _attach_context(tech: Technique) -> dict[str, ContextValue] | None:
    """iam:PolicyARN of the policy attached: only Attach*Policy requests carry the key (the
    Service Authorization Reference lists it for them, not for Put*Policy)."""
    if any(a.lower().startswith("iam:attach") for a in tech.actions):
        return {"iam:PolicyARN": (ADMIN_POLICY_ARN,)}
    return None


def _target_context(tech: Technique, target: User | Role) -> dict[str, ContextValue] | None:
    """The request context of a call on a user or role: iam:PolicyARN for Attach*, and the
    target's permissions boundary in iam:PermissionsBoundary for the calls that carry it (the
    delegated-administration pattern allows them only for principals with a given boundary)."""
    extra = dict(_attach_context(tech) or {})
    if target.boundary_arn and all(_carries_boundary(a) for a in tech.actions):
        extra["iam:PermissionsBoundary"] = (target.boundary_arn,)
    return extra or None


@cache
def _carries_boundary(action: str) -> bool:
    from mamori.identity.catalog import catalog

    service, _, name = action.partition(":")
    keys = catalog().condition_keys(service, name)
    return "iam:permissionsboundary" in keys


def _workload_resource(workload: Workload) -> str:
    return workload.arn


def _trusted_names(trust: CompiledPolicy) -> set[str]:
    names: set[str] = set()
    for st in trust.statements:
        if not st.allow or st.principals is None:
            continue
        if st.principals.any:
            names.add("*")
        names.update(st.principals.aws)
    return names
