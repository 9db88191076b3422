"""From the identity model to evaluator inputs: a principal's Caller, its compiled policies,
its organisation's SCP levels, and the request-context keys AWS always supplies for it."""

from __future__ import annotations

from dataclasses import dataclass, field

from mamori.core import DataUnavailable
from mamori.identity.context import ContextValue
from mamori.identity.errors import PolicyError
from mamori.identity.evaluate import PolicySet
from mamori.identity.model import IamAccount, IdentityModel, PolicyDoc, Role, User
from mamori.identity.policy import CompiledPolicy, PolicyCache
from mamori.identity.principals import Caller

SIMULATED_SESSION = "mamori-simulated"


@dataclass(slots=True)
class Subject:
    """A user or role of the model with everything needed to evaluate its requests."""

    arn: str  # the IAM user or role ARN
    entity: User | Role
    account: IamAccount
    caller: Caller
    identity: list[CompiledPolicy]
    boundary: CompiledPolicy | None
    scps: list[list[CompiledPolicy]] | None
    context: dict[str, ContextValue]
    # Why the analysis of this principal is incomplete (unreadable or malformed policies).
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.problems

    def policies(
        self,
        resource: CompiledPolicy | None = None,
        resource_account: str | None = None,
        rcps: list[list[CompiledPolicy]] | None = None,
    ) -> PolicySet:
        return PolicySet(
            identity=self.identity,
            boundary=self.boundary,
            scps=self.scps,
            rcps=rcps,
            resource=resource,
            resource_account=resource_account or self.account.account_id,
        )

    @property
    def signature(self) -> tuple[object, ...]:
        """Principals with equal signatures get equal decisions for the same request, except
        where policies use variables or principal-specific context (then the ARN is part)."""
        personal = (
            any(p.reads_principal for p in self.identity)
            or (self.boundary is not None and self.boundary.reads_principal)
            or any(p.reads_principal for level in self.scps or () for p in level)
        )
        return (
            tuple(id(p) for p in self.identity),
            id(self.boundary),
            id(self.scps),
            self.caller.type,
            self.arn if personal else None,
        )


class Resolver:
    """Compiles each distinct policy document of the model once and builds Subjects."""

    def __init__(self, model: IdentityModel) -> None:
        self.model = model
        self.cache = PolicyCache()
        self._scps: dict[str, tuple[list[list[CompiledPolicy]] | None, str | None]] = {}
        self._by_arn: dict[str, tuple[IamAccount, User | Role]] = {}
        for account in model.accounts.values():
            for user in account.users.values():
                self._by_arn[user.arn] = (account, user)
            for role in account.roles.values():
                self._by_arn[role.arn] = (account, role)

    def principal_arns(self) -> list[str]:
        return list(self._by_arn)

    def compile(self, doc: PolicyDoc, problems: list[str]) -> CompiledPolicy | None:
        try:
            return self.cache.get(doc.key, doc.document, name=doc.arn or doc.key, kind=_kind(doc))
        except PolicyError as exc:
            problems.append(str(exc))
            return None

    def scp_levels(self, account_id: str) -> tuple[list[list[CompiledPolicy]] | None, str | None]:
        """(levels, problem): levels None when SCPs do not apply or are unknown."""
        hit = self._scps.get(account_id)
        if hit is not None:
            return hit
        org = self.model.organization
        result: tuple[list[list[CompiledPolicy]] | None, str | None] = (None, None)
        if org is not None:
            try:
                levels = org.levels(account_id, "scp")
            except DataUnavailable as exc:
                result = (None, f"SCPs unknown: {exc}")
            else:
                if levels is not None:
                    problems: list[str] = []
                    compiled = [
                        [c for d in level if (c := self.compile(d, problems)) is not None]
                        for level in levels
                    ]
                    result = (compiled, "; ".join(problems) or None)
        self._scps[account_id] = result
        return result

    def in_management_account(self, account_id: str) -> bool:
        org = self.model.organization
        return org is not None and org.management_account == account_id

    def subject(self, arn: str) -> Subject:
        found = self._by_arn.get(arn)
        if found is None:
            raise KeyError(arn)
        account, entity = found
        problems: list[str] = []
        if isinstance(entity, User):
            docs = account.policy_docs_of_user(entity)
        else:
            docs = account.policy_docs_of_role(entity)
        identity = [c for d in docs if (c := self.compile(d, problems)) is not None]
        boundary = None
        if entity.boundary_arn:
            bdoc = account.boundary_doc(entity.boundary_arn)
            boundary = self.compile(bdoc, problems) if bdoc is not None else None
        problems.extend(
            f"policy {arn_} is attached but its document is not in the input"
            for arn_ in account.unresolved_for(entity)
        )
        scps, scp_problem = self.scp_levels(account.account_id)
        if scp_problem:
            problems.append(scp_problem)
        caller = caller_for(
            entity, self.in_management_account(account.account_id), self.model.partition
        )
        return Subject(
            entity.arn,
            entity,
            account,
            caller,
            identity,
            boundary,
            scps,
            base_context(entity, caller, self.model),
            problems,
        )

    def subjects(self) -> list[Subject]:
        return [self.subject(arn) for arn in self._by_arn]


def _kind(doc: PolicyDoc) -> str:
    if doc.kind in ("inline", "managed", "aws-managed"):
        return "identity"
    return doc.kind


def caller_for(entity: User | Role, in_management: bool, partition: str = "aws") -> Caller:
    if isinstance(entity, User):
        return Caller(
            entity.arn,
            "IAMUser",
            entity.account,
            in_management_account=in_management,
            partition=partition,
            tags=dict(entity.tags),
        )
    session = (
        f"arn:{partition}:sts::{entity.account}:assumed-role/{entity.name}/{SIMULATED_SESSION}"
    )
    return Caller(
        session,
        "AssumedRole",
        entity.account,
        role_arn=entity.arn,
        is_service_linked_role=entity.is_service_linked,
        in_management_account=in_management,
        partition=partition,
        tags=dict(entity.tags),
    )


def base_context(
    entity: User | Role, caller: Caller, model: IdentityModel
) -> dict[str, ContextValue]:
    """Keys AWS puts in every request of this principal (global condition keys)."""
    ctx: dict[str, ContextValue] = {
        "aws:PrincipalArn": (entity.arn,),
        "aws:PrincipalAccount": (entity.account,),
        "aws:PrincipalIsAWSService": ("false",),
    }
    if isinstance(entity, User):
        ctx["aws:username"] = (entity.name,)
        ctx["aws:userid"] = (entity.id,)
        ctx["aws:PrincipalType"] = ("User",)
    else:
        ctx["aws:userid"] = (f"{entity.id}:{SIMULATED_SESSION}",)
        ctx["aws:PrincipalType"] = ("AssumedRole",)
    for key, value in entity.tags.items():
        ctx[f"aws:PrincipalTag/{key}"] = (value,)
    org = model.organization
    if org is not None and org.id and entity.account in org.accounts:
        ctx["aws:PrincipalOrgID"] = (org.id,)
        member = org.accounts[entity.account]
        if member.parents:
            path = "/".join([org.id, *member.parents]) + "/"
            ctx["aws:PrincipalOrgPaths"] = (path,)
    return ctx
