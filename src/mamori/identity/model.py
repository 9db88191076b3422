"""The identity model: IAM principals, managed policies, workloads and the organisation's
policies, as the identity analyses read them.

It is loaded from `get-account-authorization-details` output or from a Mamori Snapshot (by
`mamori.identity.loaders` and `mamori.identity.snapshot_loader`). Policy documents stay
parsed JSON: compiling and evaluating them is the evaluator's job. Whatever could not be read
is recorded in `errors` (per account, per organisation) so that an analysis reports ERROR
instead of concluding from data that is missing; a value that is simply not known (a
password, from a GAAD file) is None.

Frozen records hash by their identifying fields only (containers are `hash=False`), so that
they can be set members and graph nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from mamori.core import DataUnavailable

if TYPE_CHECKING:
    from mamori.inventory import Snapshot

PolicyKind = Literal[
    "inline", "managed", "aws-managed", "trust", "boundary", "scp", "rcp", "resource"
]
WorkloadKind = Literal[
    "lambda",
    "ec2",
    "launch-template",
    "cloudformation",
    "codebuild",
    "glue-dev-endpoint",
    "glue-job",
    "sagemaker-notebook",
    "ecs-task",
    "autoscaling",
]
OrgPolicyKind = Literal["scp", "rcp"]
Document = dict[str, Any]

_AWS_MANAGED_MARK = ":aws:policy/"
_SERVICE_LINKED_PATH = "/aws-service-role/"


def is_aws_managed_arn(arn: str) -> bool:
    return _AWS_MANAGED_MARK in arn


@dataclass(frozen=True, slots=True)
class PolicyDoc:
    """One policy document with where it came from. `key` is stable and unique: the policy ARN
    and version id for a managed policy, `owner_arn#name` for an inline one."""

    key: str
    name: str
    arn: str | None
    kind: PolicyKind
    document: Document = field(hash=False)


class PolicyVersion(NamedTuple):
    version_id: str
    is_default: bool
    document: Document


@dataclass(frozen=True, slots=True)
class ManagedPolicy:
    arn: str
    name: str
    id: str
    path: str
    default_version_id: str | None
    # The default version's document; None when it could not be read (then the policy is
    # listed among the account's unresolved policies).
    document: Document | None = field(hash=False)
    versions: list[PolicyVersion] = field(default_factory=list, hash=False)
    attachment_count: int | None = None

    @property
    def is_aws_managed(self) -> bool:
        return is_aws_managed_arn(self.arn)

    def doc(self, kind: PolicyKind | None = None) -> PolicyDoc | None:
        """The default version as a PolicyDoc (kind "managed"/"aws-managed" unless given)."""
        if self.document is None:
            return None
        default_kind: PolicyKind = "aws-managed" if self.is_aws_managed else "managed"
        return PolicyDoc(
            key=f"{self.arn}:{self.default_version_id or ''}",
            name=self.name,
            arn=self.arn,
            kind=kind or default_kind,
            document=self.document,
        )


@dataclass(frozen=True, slots=True)
class AccessKey:
    id: str
    status: str
    created: str | None
    last_used: str | None  # None: never used, or its last use could not be read (see errors)


@dataclass(frozen=True, slots=True)
class User:
    arn: str
    name: str
    id: str
    account: str
    path: str = "/"
    inline: list[PolicyDoc] = field(default_factory=list, hash=False)
    managed_arns: list[str] = field(default_factory=list, hash=False)
    groups: list[str] = field(default_factory=list, hash=False)  # group names
    boundary_arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict, hash=False)
    # None: not known (a GAAD file has no credentials, or they could not be read).
    access_keys: list[AccessKey] | None = field(default=None, hash=False)
    has_password: bool | None = None
    password_last_used: str | None = None
    mfa_active: bool | None = None


@dataclass(frozen=True, slots=True)
class Group:
    arn: str
    name: str
    id: str
    account: str
    inline: list[PolicyDoc] = field(default_factory=list, hash=False)
    managed_arns: list[str] = field(default_factory=list, hash=False)


@dataclass(frozen=True, slots=True)
class Role:
    arn: str
    name: str
    id: str
    account: str
    path: str = "/"
    trust: Document = field(default_factory=dict, hash=False)
    inline: list[PolicyDoc] = field(default_factory=list, hash=False)
    managed_arns: list[str] = field(default_factory=list, hash=False)
    boundary_arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict, hash=False)
    instance_profile_arns: list[str] = field(default_factory=list, hash=False)
    last_used: str | None = None

    @property
    def is_service_linked(self) -> bool:
        return self.path.startswith(_SERVICE_LINKED_PATH)

    @property
    def trust_doc(self) -> PolicyDoc:
        # "(" cannot occur in an inline policy name, so this key never collides with one.
        return PolicyDoc(f"{self.arn}#(trust)", "trust policy", None, "trust", self.trust)


Principal = User | Group | Role


@dataclass(frozen=True, slots=True)
class Workload:
    """Something that runs with an IAM role: whoever can change or reach it acts as the role."""

    kind: WorkloadKind
    arn: str
    name: str
    account: str
    region: str
    role_arn: str | None
    details: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(slots=True)
class IamAccount:
    account_id: str
    name: str = ""
    users: dict[str, User] = field(default_factory=dict)  # by ARN
    groups: dict[str, Group] = field(default_factory=dict)  # by name
    roles: dict[str, Role] = field(default_factory=dict)  # by ARN
    policies: dict[str, ManagedPolicy] = field(default_factory=dict)  # by ARN
    workloads: list[Workload] = field(default_factory=list)
    # Managed policies attached or used as a boundary whose document is not in the input.
    unresolved_policies: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    _by_name: dict[str, dict[str, Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def user_by_name(self, name: str) -> User | None:
        found = self._index("users", self.users).get(name)
        return found if isinstance(found, User) else None

    def role_by_name(self, name: str) -> Role | None:
        found = self._index("roles", self.roles).get(name)
        if found is None:
            # IAM names are unique regardless of case; a reference may differ in case.
            found = self._index("roles-folded", self.roles, fold=True).get(name.casefold())
        return found if isinstance(found, Role) else None

    def _index(
        self, which: str, entities: dict[str, User] | dict[str, Role], fold: bool = False
    ) -> dict[str, Any]:
        index = self._by_name.get(which)
        if index is None or len(index) != len(entities):
            index = {(e.name.casefold() if fold else e.name): e for e in entities.values()}
            self._by_name[which] = index
        return index

    def policy_docs_of_user(self, user: User) -> list[PolicyDoc]:
        """The user's inline and attached policies, then each group's; unresolved managed
        policies are left out (see `unresolved_for`)."""
        docs = list(user.inline)
        arns = list(user.managed_arns)
        for group in self._groups_of(user):
            docs.extend(group.inline)
            arns.extend(group.managed_arns)
        return docs + self._managed_docs(arns)

    def policy_docs_of_group(self, group: Group) -> list[PolicyDoc]:
        return list(group.inline) + self._managed_docs(group.managed_arns)

    def policy_docs_of_role(self, role: Role) -> list[PolicyDoc]:
        return list(role.inline) + self._managed_docs(role.managed_arns)

    def boundary_doc(self, arn: str | None) -> PolicyDoc | None:
        policy = self.policies.get(arn) if arn else None
        return policy.doc("boundary") if policy is not None else None

    def unresolved_for(self, principal: Principal) -> list[str]:
        """Managed policies that apply to `principal` (through its groups too, and as its
        permissions boundary) but whose documents are not known."""
        arns = list(principal.managed_arns)
        if isinstance(principal, User):
            for group in self._groups_of(principal):
                arns.extend(group.managed_arns)
        if not isinstance(principal, Group) and principal.boundary_arn:
            arns.append(principal.boundary_arn)
        return sorted({a for a in arns if a in self.unresolved_policies})

    def _groups_of(self, user: User) -> list[Group]:
        return [self.groups[name] for name in user.groups if name in self.groups]

    def _managed_docs(self, arns: list[str]) -> list[PolicyDoc]:
        docs: list[PolicyDoc] = []
        for arn in dict.fromkeys(arns):  # attached to a user and one of its groups: once
            policy = self.policies.get(arn)
            doc = policy.doc() if policy is not None else None
            if doc is not None:
                docs.append(doc)
        return docs


@dataclass(frozen=True, slots=True)
class OrgAccount:
    id: str
    name: str
    # The root id, then the OU ids down to the direct parent.
    parents: list[str] = field(default_factory=list, hash=False)
    is_management: bool = False


@dataclass(slots=True)
class Organization:
    id: str
    management_account: str
    accounts: dict[str, OrgAccount] = field(default_factory=dict)
    scps_by_target: dict[str, list[PolicyDoc]] = field(default_factory=dict)
    # None when resource control policies were not collected or could not be read.
    rcps_by_target: dict[str, list[PolicyDoc]] | None = None
    errors: list[str] = field(default_factory=list)
    # What makes levels() unanswerable, and why: "scp", "rcp", "accounts", or an account id.
    # An empty level denies everything, so a policy list that was not fully read must never
    # stand in for one.
    unavailable: dict[str, str] = field(default_factory=dict)

    def levels(self, account_id: str, kind: OrgPolicyKind = "scp") -> list[list[PolicyDoc]] | None:
        """The policies of `kind` at each level from the root down to the account itself
        (root, OUs..., account); None for the management account, where they do not apply.

        Raises DataUnavailable when they cannot be told (not collected, or the account's place
        in the organisation is unknown)."""
        if kind not in ("scp", "rcp"):
            raise ValueError(f"unknown organisation policy kind {kind!r}")
        if account_id == self.management_account:
            return None
        by_target = self.scps_by_target if kind == "scp" else self.rcps_by_target
        for what in (kind, "accounts", account_id):
            if what in self.unavailable:
                raise DataUnavailable(f"organization {what}", "Unavailable", self.unavailable[what])
        if by_target is None:
            raise DataUnavailable(f"organization {kind}", "NotCollected", "not collected")
        member = self.accounts.get(account_id)
        if member is None:
            raise DataUnavailable(
                f"organization account {account_id}", "Missing", "not among its accounts"
            )
        levels = [list(by_target.get(target, [])) for target in [*member.parents, account_id]]
        if kind == "rcp":
            # AWS attaches RCPFullAWSAccess to every root, OU and account once RCPs are on, and
            # it cannot be detached: a level without listed RCPs allows all, and none at all
            # means RCPs are not enabled.
            levels = [level for level in levels if level]
            return levels or None
        return levels


@dataclass(slots=True)
class IdentityModel:
    accounts: dict[str, IamAccount] = field(default_factory=dict)
    organization: Organization | None = None
    partition: str = "aws"


# The loaders build the records above, so they are imported when first used.


def load_auth_details(path: Path) -> IdentityModel:
    """A `get-account-authorization-details` file (JSON, optionally gzipped)."""
    from mamori.identity import loaders

    return loaders.load_auth_details(path)


def model_from_auth_details(doc: object, source: str) -> IdentityModel:
    """Parsed GAAD output: one response object or a list of pages; `source` names it in
    errors."""
    from mamori.identity import loaders

    return loaders.model_from_auth_details(doc, source)


def model_from_snapshot(snapshot: Snapshot) -> IdentityModel:
    """Every account of the snapshot, with its workloads, and the organisation's policies."""
    from mamori.identity import snapshot_loader

    return snapshot_loader.model_from_snapshot(snapshot)
