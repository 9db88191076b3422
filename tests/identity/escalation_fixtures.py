"""A small builder of IAM worlds for the privilege-escalation tests.

`World` collects users, roles (with trust policies and instance profiles), groups, customer
managed policies with versions, permissions boundaries, credentials state, workloads and SCPs,
then turns them into an IdentityModel the way real input arrives: the IAM part as
`get-account-authorization-details` output through the GAAD loader, and what GAAD does not
carry (access keys, passwords, workloads, the organisation) set on the loaded model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from mamori.identity.model import (
    AccessKey,
    IdentityModel,
    OrgAccount,
    Organization,
    PolicyDoc,
    Workload,
    WorkloadKind,
    model_from_auth_details,
)
from mamori.identity.paths import PathReport, analyze_paths

ACCOUNT = "111122223333"
MANAGEMENT = "999988887777"
IAM = f"arn:aws:iam::{ACCOUNT}"
ADMIN_POLICY_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
READONLY_POLICY_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ORG_ROOT = "r-ab12"
Doc = dict[str, Any]


# -- policy documents --------------------------------------------------------------------------


def _statement(
    effect: str,
    actions: str | list[str],
    resource: str | list[str],
    condition: Doc | None,
    not_action: bool = False,
) -> Doc:
    st: Doc = {
        "Effect": effect,
        "NotAction" if not_action else "Action": actions,
        "Resource": resource,
    }
    if condition:
        st["Condition"] = condition
    return st


def allow(
    actions: str | list[str], resource: str | list[str] = "*", condition: Doc | None = None
) -> Doc:
    return _statement("Allow", actions, resource, condition)


def deny(
    actions: str | list[str], resource: str | list[str] = "*", condition: Doc | None = None
) -> Doc:
    return _statement("Deny", actions, resource, condition)


def allow_all_but(actions: str | list[str]) -> Doc:
    return _statement("Allow", actions, "*", None, not_action=True)


def document(*statements: Doc) -> Doc:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def trust_service(*services: str) -> Doc:
    principal = services[0] if len(services) == 1 else list(services)
    return document(
        {"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}
    )


def trust_aws(*principals: str) -> Doc:
    principal = principals[0] if len(principals) == 1 else list(principals)
    return document(
        {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    )


ACCOUNT_ROOT = f"arn:aws:iam::{ACCOUNT}:root"
TRUST_ACCOUNT = trust_aws(ACCOUNT_ROOT)


# -- the builder -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Principal:
    kind: str  # User | Role | Group
    name: str
    inline: dict[str, Doc] = field(default_factory=dict)
    managed: list[str] = field(default_factory=list)
    boundary: str | None = None
    groups: list[str] = field(default_factory=list)
    trust: Doc | None = None
    profile: bool = False

    @property
    def arn(self) -> str:
        return f"{IAM}:{self.kind.lower()}/{self.name}"


@dataclass(slots=True)
class _Policy:
    name: str
    versions: list[Doc]
    default: int

    @property
    def arn(self) -> str:
        return f"{IAM}:policy/{self.name}"


@dataclass(slots=True)
class World:
    """One account's IAM world. Principals are named by ARN once created."""

    principals: dict[str, _Principal] = field(default_factory=dict)
    policies: dict[str, _Policy] = field(default_factory=dict)
    workloads: list[Workload] = field(default_factory=list)
    credentials: dict[str, dict[str, Any]] = field(default_factory=dict)
    scps: list[Doc] = field(default_factory=list)

    # principals

    def user(
        self,
        name: str,
        *statements: Doc,
        managed: tuple[str, ...] = (),
        groups: tuple[str, ...] = (),
        boundary: str | None = None,
    ) -> str:
        user = _Principal(
            "User", name, managed=list(managed), boundary=boundary, groups=list(groups)
        )
        return self._add(user, statements)

    def role(
        self,
        name: str,
        trust: Doc,
        *statements: Doc,
        managed: tuple[str, ...] = (),
        boundary: str | None = None,
        profile: bool = False,
    ) -> str:
        role = _Principal(
            "Role", name, managed=list(managed), boundary=boundary, trust=trust, profile=profile
        )
        return self._add(role, statements)

    def group(self, name: str, *statements: Doc, managed: tuple[str, ...] = ()) -> str:
        return self._add(_Principal("Group", name, managed=list(managed)), statements)

    def _add(self, principal: _Principal, statements: tuple[Doc, ...]) -> str:
        if principal.arn in self.principals:
            raise ValueError(f"{principal.arn} is defined twice")
        if statements:
            principal.inline[f"{principal.name}-policy"] = document(*statements)
        self.principals[principal.arn] = principal
        return principal.arn

    def inline(self, arn: str, name: str, *statements: Doc) -> None:
        self.principals[arn].inline[name] = document(*statements)

    def attach(self, arn: str, policy_arn: str) -> None:
        self.principals[arn].managed.append(policy_arn)

    def set_boundary(self, arn: str, policy_arn: str) -> None:
        self.principals[arn].boundary = policy_arn

    def boundary_of(self, arn: str) -> _Policy | None:
        name = self.principals[arn].boundary
        return next((p for p in self.policies.values() if p.arn == name), None)

    # managed policies

    def policy(self, name: str, *versions: Doc, default: int | None = None) -> str:
        """A customer managed policy; the last version is the default unless told."""
        policy = _Policy(name, list(versions), len(versions) - 1 if default is None else default)
        self.policies[policy.arn] = policy
        return policy.arn

    # state GAAD does not carry

    def keys(self, user_arn: str, count: int) -> None:
        self.credentials.setdefault(user_arn, {})["access_keys"] = [
            AccessKey(f"AKIA{user_arn.rsplit('/', 1)[-1].upper()}{i}", "Active", None, None)
            for i in range(count)
        ]

    def password(self, user_arn: str, has: bool) -> None:
        self.credentials.setdefault(user_arn, {})["has_password"] = has

    def workload(
        self, kind: WorkloadKind, resource: str, role_arn: str | None, region: str = "eu-west-1"
    ) -> str:
        """A workload; `resource` is the part of its ARN after the account (service:...)."""
        service, rest = resource.split(":", 1)
        arn = f"arn:aws:{service}:{region}:{ACCOUNT}:{rest}"
        name = rest.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        self.workloads.append(Workload(kind, arn, name, ACCOUNT, region, role_arn))
        return arn

    def scp(self, *statements: Doc) -> None:
        """Put the account in an organisation (not as its management account) under an SCP
        made of `statements`; FullAWSAccess stays attached at every level."""
        self.scps.append(document(*statements))

    # output

    def gaad(self) -> Doc:
        users, roles, groups = [], [], []
        for p in self.principals.values():
            raw: Doc = {
                f"{p.kind}Name": p.name,
                f"{p.kind}Id": f"AID{p.kind[0]}{p.name.upper()}",
                "Arn": p.arn,
                "Path": "/",
                f"{p.kind}PolicyList": [
                    {"PolicyName": n, "PolicyDocument": d} for n, d in p.inline.items()
                ],
                "AttachedManagedPolicies": [
                    {"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in p.managed
                ],
            }
            if p.boundary:
                raw["PermissionsBoundary"] = {
                    "PermissionsBoundaryType": "Policy",
                    "PermissionsBoundaryArn": p.boundary,
                }
            if p.kind == "User":
                raw["GroupList"] = list(p.groups)
                users.append(raw)
            elif p.kind == "Role":
                raw["AssumeRolePolicyDocument"] = p.trust
                raw["InstanceProfileList"] = (
                    [
                        {
                            "InstanceProfileName": p.name,
                            "Arn": f"{IAM}:instance-profile/{p.name}",
                        }
                    ]
                    if p.profile
                    else []
                )
                roles.append(raw)
            else:
                groups.append(raw)
        policies = [self._policy_raw(p) for p in self.policies.values()]
        if any(ADMIN_POLICY_ARN in p.managed for p in self.principals.values()):
            policies.append(_aws_admin_policy())
        return {
            "UserDetailList": users,
            "GroupDetailList": groups,
            "RoleDetailList": roles,
            "Policies": policies,
        }

    @staticmethod
    def _policy_raw(p: _Policy) -> Doc:
        return {
            "PolicyName": p.name,
            "PolicyId": f"ANPA{p.name.upper()}",
            "Arn": p.arn,
            "Path": "/",
            "DefaultVersionId": f"v{p.default + 1}",
            "PolicyVersionList": [
                {"VersionId": f"v{i + 1}", "IsDefaultVersion": i == p.default, "Document": d}
                for i, d in enumerate(p.versions)
            ],
        }

    def model(self) -> IdentityModel:
        model = model_from_auth_details(self.gaad(), "escalation-fixture")
        account = model.accounts[ACCOUNT]
        assert not account.errors, account.errors
        for arn, state in self.credentials.items():
            account.users[arn] = dataclasses.replace(account.users[arn], **state)
        account.workloads.extend(self.workloads)
        if self.scps:
            model.organization = _organization(self.scps)
        return model

    def analyze(self) -> PathReport:
        return analyze_paths(self.model())


def _aws_admin_policy() -> Doc:
    return {
        "PolicyName": "AdministratorAccess",
        "PolicyId": "ANPAADMIN",
        "Arn": ADMIN_POLICY_ARN,
        "Path": "/",
        "DefaultVersionId": "v1",
        "PolicyVersionList": [
            {"VersionId": "v1", "IsDefaultVersion": True, "Document": document(allow("*"))}
        ],
    }


def _organization(scps: list[Doc]) -> Organization:
    full = PolicyDoc("p-FullAWSAccess", "FullAWSAccess", None, "scp", document(allow("*")))
    attached = [PolicyDoc(f"p-test{i}", f"test{i}", None, "scp", d) for i, d in enumerate(scps)]
    return Organization(
        id="o-exampleorgid",
        management_account=MANAGEMENT,
        accounts={
            ACCOUNT: OrgAccount(ACCOUNT, "workloads", parents=[ORG_ROOT]),
            MANAGEMENT: OrgAccount(
                MANAGEMENT, "management", parents=[ORG_ROOT], is_management=True
            ),
        },
        scps_by_target={ORG_ROOT: [full], ACCOUNT: [full, *attached]},
    )
