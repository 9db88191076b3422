"""One scenario per privilege-escalation technique, each with negative twins.

A scenario builds the smallest world in which the technique makes the attacker an
administrator. Its twins change exactly one thing that blocks it. Three twins apply to every
technique (an explicit Deny, a permissions boundary, an SCP, each aimed at one of the
technique's actions); the others are the technique's own: a failing condition, a resource ARN
that misses the target, a trust policy that does not allow the principal or service, or
account state (keys, policy versions, passwords, instance profiles, where a Deny lives).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import pytest

from mamori.identity.paths import EscalationPath, PathReport
from mamori.identity.techniques import BY_ID, TECHNIQUES, Technique
from tests.identity.escalation_fixtures import (
    ADMIN_POLICY_ARN,
    IAM,
    TRUST_ACCOUNT,
    Doc,
    World,
    allow,
    allow_all_but,
    deny,
    document,
    trust_aws,
    trust_service,
)

if TYPE_CHECKING:
    from mamori.identity.model import WorkloadKind

GENERIC = ("deny", "boundary", "scp")
CATEGORIES = {"deny", "boundary", "scp", "condition", "resource", "trust", "state"}
OTHER_REGION = {"StringEquals": {"aws:RequestedRegion": "ap-northeast-1"}}
EC2 = "ec2.amazonaws.com"
LAMBDA = "lambda.amazonaws.com"


@dataclass(frozen=True, slots=True)
class Built:
    world: World
    attacker: str
    target: str  # the expected EscalationPath.target: an ARN, or "admin" (the attacker itself)
    target_is_admin: bool
    via: str | None = None
    granted_by: str = "#attacker-policy:"  # names the policy of an allowing statement

    @property
    def hop_target(self) -> str:
        return self.attacker if self.target == "admin" else self.target


Builder = Callable[[Technique, str | None], Built]
_BUILDERS: dict[str, tuple[Builder, Callable[[Technique], tuple[str, ...]]]] = {}


def _register(
    ids: Iterable[str], blocks: tuple[str, ...] | Callable[[Technique], tuple[str, ...]]
) -> Callable[[Builder], Builder]:
    """Register a scenario builder for techniques, with the blocks (negative twins) it knows
    besides the generic ones."""

    def wrap(builder: Builder) -> Builder:
        for tech_id in ids:
            assert tech_id not in _BUILDERS, tech_id
            _BUILDERS[tech_id] = (builder, blocks if callable(blocks) else lambda _t: blocks)
        return builder

    return wrap


def _attacker(
    w: World,
    tech: Technique,
    *statements: Doc,
    boundary: str | None = None,
    groups: tuple[str, ...] = (),
) -> str:
    """The attacker: a role when the technique works on roles, a user otherwise."""
    if tech.target.endswith("role"):
        return w.role("attacker", trust_service(EC2), *statements, boundary=boundary)
    return w.user("attacker", *statements, boundary=boundary, groups=groups)


def _kind(tech: Technique) -> str:
    return "role" if tech.target.endswith("role") else "user"


# -- rewriting one's own policies ----------------------------------------------------------------

_REWRITE = (
    "iam-attach-user-policy",
    "iam-attach-role-policy",
    "iam-attach-group-policy",
    "iam-put-user-policy",
    "iam-put-role-policy",
    "iam-put-group-policy",
)


@_register(_REWRITE, ("resource", "condition", "boundary-fenced"))
def _rewrite_own_policies(tech: Technique, block: str | None) -> Built:
    w = World()
    group = tech.target == "group"
    kind = "group" if group else _kind(tech)
    own = f"{IAM}:{kind}/{'devs' if group else 'attacker'}"
    other = f"{IAM}:{kind}/bystander"
    if group:
        w.group("devs")
        w.group("bystander")
        w.user("bystander", groups=("bystander",))
    elif kind == "role":
        w.role("bystander", trust_service(EC2))
    else:
        w.user("bystander")
    condition = None
    if block == "policy-arn-guard" or (block == "condition" and "attach" in tech.id):
        condition = {"ArnNotEquals": {"iam:PolicyARN": ADMIN_POLICY_ARN}}  # all but admin
    elif block == "condition":
        condition = OTHER_REGION
    fence = (
        w.policy("Fence", document(allow(tech.actions[0]))) if block == "boundary-fenced" else None
    )
    grant = allow(tech.actions[0], other if block == "resource" else own, condition)
    attacker = _attacker(w, tech, grant, boundary=fence, groups=("devs",) if group else ())
    return Built(w, attacker, "admin", False, own if group else None)


# -- removing what keeps one from being an administrator -----------------------------------------

_BOUNDED = (
    "iam-delete-user-boundary",
    "iam-delete-role-boundary",
    "iam-put-user-boundary",
    "iam-put-role-boundary",
)


@_register(_BOUNDED, ("resource", "condition"))
def _lift_own_boundary(tech: Technique, block: str | None) -> Built:
    w = World()
    kind = _kind(tech)
    fence_arn = f"{IAM}:policy/Fence"
    resource = f"{IAM}:{kind}/bystander" if block == "resource" else f"{IAM}:{kind}/attacker"
    condition = None
    if block == "condition":
        # the common guard: the boundary may only be set to itself
        condition = (
            {"StringEquals": {"iam:PermissionsBoundary": fence_arn}}
            if "put" in tech.id
            else OTHER_REGION
        )
    w.policy(
        "Fence",
        document(allow("sts:GetCallerIdentity"), allow(tech.actions[0], resource, condition)),
    )
    attacker = _attacker(w, tech, allow("*"), boundary=fence_arn)
    if block == "resource":
        if kind == "role":
            w.role("bystander", trust_service(EC2), allow("*"), boundary=fence_arn)
        else:
            w.user("bystander", allow("*"), boundary=fence_arn)
    return Built(w, attacker, "admin", False)


_DENIED = (
    "iam-detach-user-deny",
    "iam-delete-user-deny",
    "iam-detach-role-deny",
    "iam-delete-role-deny",
)


@_register(_DENIED, lambda t: ("state",) + (("state-group",) if _kind(t) == "user" else ()))
def _remove_own_deny(tech: Technique, block: str | None) -> Built:
    w = World()
    managed = "detach" in tech.id
    groups = ("contractors",) if block == "state-group" else ()
    attacker = _attacker(w, tech, allow("*"), groups=groups)
    holder = w.group("contractors") if groups else attacker

    def add_deny(as_managed: bool) -> str:
        if as_managed:
            arn = w.policy("NoEc2", document(deny("ec2:*")))
            w.attach(holder, arn)
            return arn
        w.inline(holder, "no-ec2", deny("ec2:*"))
        return f"{holder}#no-ec2"

    via = add_deny(managed)
    if block == "state":
        add_deny(not managed)  # a second Deny the technique cannot remove
    return Built(w, attacker, "admin", False, via)


# -- managed policy versions --------------------------------------------------------------------


@_register(("iam-create-policy-version", "iam-set-default-policy-version"), ("state", "resource"))
def _policy_versions(tech: Technique, block: str | None) -> Built:
    w = World()
    ops = f"{IAM}:policy/Ops"
    w.policy("Other", document(allow("s3:GetObject")))
    w.user("bystander", managed=(f"{IAM}:policy/Other",))
    grant = document(allow(tech.actions[0], f"{IAM}:policy/Other" if block == "resource" else ops))
    if tech.id == "iam-create-policy-version":
        # five versions is the most a policy can have: one must be deleted first
        older = [document(allow("s3:GetObject"))] * (4 if block == "state" else 0)
    else:
        older = [document(allow("s3:*" if block == "state" else "*"))]
    w.policy("Ops", *older, grant)
    attacker = w.user("attacker", managed=(ops,))
    return Built(w, attacker, "admin", False, ops, f"identity:{ops}:")


# -- another principal's credentials ------------------------------------------------------------


@_register(
    ("iam-create-access-key", "iam-create-login-profile", "iam-update-login-profile"),
    ("state", "resource"),
)
def _victim_credentials(tech: Technique, block: str | None) -> Built:
    w = World()
    admin = w.user("admin", allow("*"))
    other = w.user("bystander")
    attacker = w.user("attacker", allow(tech.actions[0], other if block == "resource" else admin))
    full = block == "state"
    if tech.id == "iam-create-access-key":
        w.keys(admin, 2 if full else 1)
    else:
        has = tech.id == "iam-update-login-profile"
        w.password(admin, has != full)
    return Built(w, attacker, admin, True)


@_register(("sts-assume-role",), ("trust", "condition", "resource"))
def _assume_role(tech: Technique, block: str | None) -> Built:
    w = World()
    trust = TRUST_ACCOUNT
    if block == "trust":
        trust = trust_aws(w.user("ci"))
    elif block == "condition":
        trust = document(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"{IAM}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            }
        )
    role = w.role("admin-role", trust, allow("*"))
    other = w.role("bystander", TRUST_ACCOUNT)
    attacker = w.user("attacker", allow("sts:AssumeRole", other if block == "resource" else role))
    return Built(w, attacker, role, True)


@_register(("iam-update-assume-role-policy",), ("resource", "condition"))
def _rewrite_trust(tech: Technique, block: str | None) -> Built:
    w = World()
    role = w.role("admin-role", trust_service(EC2), allow("*"))
    other = w.role("bystander", trust_service(EC2))
    resource = other if block == "resource" else role
    condition = OTHER_REGION if block == "condition" else None
    attacker = w.user("attacker", allow(tech.actions[0], resource, condition))
    return Built(w, attacker, role, True)


@_register(("iam-add-user-to-group",), ("resource", "condition"))
def _join_admins(tech: Technique, block: str | None) -> Built:
    w = World()
    admins = w.group("admins", managed=(ADMIN_POLICY_ARN,))
    readers = w.group("readers", allow("s3:GetObject"))
    condition = OTHER_REGION if block == "condition" else None
    resource = readers if block == "resource" else admins
    attacker = w.user("attacker", allow(tech.actions[0], resource, condition))
    return Built(w, attacker, "admin", False, admins)


# -- passing a role to a new workload -----------------------------------------------------------


def _pass_role_blocks(tech: Technique) -> tuple[str, ...]:
    return ("trust", "condition", "resource") + (("state",) if tech.service == EC2 else ())


@_register([t.id for t in TECHNIQUES if t.needs_pass_role], _pass_role_blocks)
def _pass_role(tech: Technique, block: str | None) -> Built:
    w = World()
    assert tech.service is not None
    elsewhere = EC2 if tech.service == LAMBDA else LAMBDA
    # an instance needs the role in an instance profile; other services ignore it
    role = w.role(
        "service-admin",
        trust_service(elsewhere if block == "trust" else tech.service),
        allow("*"),
        profile=block != "state",
    )
    reader = w.role(
        "service-reader", trust_service(tech.service), allow("s3:GetObject"), profile=True
    )
    passed = {
        "StringEquals": {
            "iam:PassedToService": elsewhere if block == "condition" else tech.passed_to
        }
    }
    attacker = w.user(
        "attacker",
        allow(list(tech.actions)),
        allow("iam:PassRole", reader if block == "resource" else role, passed),
    )
    return Built(w, attacker, role, True)


# -- taking over a workload that runs with a role ----------------------------------------------

# workload kind -> (its ARN after the account id, minus service; the service its role trusts)
_WORKLOADS: dict[str, tuple[str, str]] = {
    "lambda": ("lambda:function:billing", LAMBDA),
    "ec2": ("ec2:instance/i-0abc1234def567890", EC2),
    "launch-template": ("ec2:launch-template/lt-0abc1234def567890", EC2),
    "cloudformation": (
        "cloudformation:stack/core/6f1c2e40-0d2b-11ef-9a3c-0a1b2c3d4e5f",
        "cloudformation.amazonaws.com",
    ),
    "codebuild": ("codebuild:project/release", "codebuild.amazonaws.com"),
    "glue-dev-endpoint": ("glue:devEndpoint/etl-dev", "glue.amazonaws.com"),
    "sagemaker-notebook": ("sagemaker:notebook-instance/research", "sagemaker.amazonaws.com"),
}


def _workload_kind(tech: Technique) -> str:
    return tech.target.split(":", 1)[1]


@_register(
    [
        t.id
        for t in TECHNIQUES
        if t.target.startswith("workload:") and _workload_kind(t) in _WORKLOADS
    ],
    ("resource", "condition", "state"),
)
def _take_over_workload(tech: Technique, block: str | None) -> Built:
    w = World()
    kind = cast("WorkloadKind", _workload_kind(tech))
    resource, service = _WORKLOADS[kind]
    role = w.role("workload-admin", trust_service(service), allow("*"), profile=service == EC2)
    reader = w.role("workload-reader", trust_service(service), allow("s3:GetObject"))
    workload = w.workload(kind, resource, None if block == "state" else role)
    other = w.workload(kind, resource + "-staging", reader)
    condition = OTHER_REGION if block == "condition" else None  # the workload is in eu-west-1
    attacker = w.user(
        "attacker", allow(list(tech.actions), other if block == "resource" else workload, condition)
    )
    return Built(w, attacker, role, True, workload)


# -- the generic twins -------------------------------------------------------------------------


def _blocked_action(tech: Technique, block: str) -> str:
    """Each generic twin aims at a different action, so that every action is seen checked."""
    if block == "deny":
        return tech.actions[-1]
    if block == "scp" and tech.needs_pass_role:
        return "iam:PassRole"
    return tech.actions[0]


def _actions_of(statement: Doc) -> list[str]:
    value = statement.get("Action", [])
    return [value] if isinstance(value, str) else list(value)


def _apply_generic(built: Built, tech: Technique, block: str) -> None:
    w, action = built.world, _blocked_action(tech, block)
    if block == "deny":
        w.inline(built.attacker, "blocker", deny(action))
    elif block == "scp":
        # aimed at the attacker only, so that every other principal keeps its rights
        w.scp(deny(action, condition={"ArnEquals": {"aws:PrincipalArn": built.attacker}}))
    elif block == "boundary":
        fence = w.boundary_of(built.attacker)
        if fence is None:
            w.set_boundary(built.attacker, w.policy("Blocker", document(allow_all_but(action))))
        else:  # the scenario's own boundary stops allowing the action
            for version in fence.versions:
                version["Statement"] = [
                    st for st in version["Statement"] if action not in _actions_of(st)
                ]
    else:
        raise AssertionError(block)


def build(tech_id: str, block: str | None = None) -> tuple[Built, PathReport]:
    tech = BY_ID[tech_id]
    builder, _ = _BUILDERS[tech_id]
    built = builder(tech, None if block in GENERIC else block)
    if block in GENERIC:
        assert block is not None
        _apply_generic(built, tech, block)
    return built, built.world.analyze()


def paths_of(report: PathReport, arn: str) -> list[EscalationPath]:
    return [p for p in report.paths if p.principal == arn]


def using(report: PathReport, arn: str, tech_id: str) -> list[EscalationPath]:
    return [p for p in paths_of(report, arn) if any(h.technique == tech_id for h in p.hops)]


def _twins() -> list[object]:
    return [
        pytest.param(t.id, b, id=f"{t.id}-{b}")
        for t in TECHNIQUES
        if t.id in _BUILDERS
        for b in (*GENERIC, *_BUILDERS[t.id][1](t))
    ]


# -- tests --------------------------------------------------------------------------------------


def test_every_technique_has_a_scenario_and_its_own_twin() -> None:
    missing = [t.id for t in TECHNIQUES if t.id not in _BUILDERS]
    assert not missing, f"techniques without a scenario: {missing}"
    assert set(_BUILDERS) <= set(BY_ID)
    for tech in TECHNIQUES:
        own = _BUILDERS[tech.id][1](tech)
        assert own, f"{tech.id} has only generic twins"
        assert {b.split("-")[0] for b in own} <= CATEGORIES


def test_twins_cover_every_kind_of_block() -> None:
    kinds = {b.split("-")[0] for t in TECHNIQUES for b in (*GENERIC, *_BUILDERS[t.id][1](t))}
    assert kinds == CATEGORIES


@pytest.mark.parametrize("tech_id", [t.id for t in TECHNIQUES])
def test_technique_leads_to_admin(tech_id: str) -> None:
    built, report = build(tech_id)
    assert built.attacker not in report.admins
    found = [p for p in paths_of(report, built.attacker) if p.technique == tech_id]
    assert len(found) == 1, paths_of(report, built.attacker)
    path = found[0]
    assert (path.target, path.target_is_admin) == (built.target, built.target_is_admin)
    assert built.target_is_admin == (built.target in report.admins)
    first = path.hops[0]
    assert (first.source, first.target, first.via) == (built.attacker, built.hop_target, built.via)
    assert first.statements
    assert any(built.granted_by in s for s in first.statements), first.statements
    assert len(path.hops) == 1


@pytest.mark.parametrize(("tech_id", "block"), _twins())
def test_one_block_stops_technique(tech_id: str, block: str) -> None:
    built, report = build(tech_id, block)
    assert not using(report, built.attacker, tech_id), paths_of(report, built.attacker)
    # the twin changed only what blocks the technique: who is an administrator is unchanged
    _, positive = build(tech_id)
    assert report.admins == positive.admins
    assert built.attacker not in report.admins


@pytest.mark.parametrize("tech_id", [t.id for t in TECHNIQUES if t.when_full])
def test_full_state_is_overcome_with_the_extra_action(tech_id: str) -> None:
    tech = BY_ID[tech_id]
    built, _ = build(tech_id, "state")
    built.world.inline(built.attacker, "cleanup", allow(list(tech.when_full)))
    report = built.world.analyze()
    [path] = [p for p in paths_of(report, built.attacker) if p.technique == tech_id]
    assert path.target == built.target
    assert any("#cleanup:" in s for s in path.hops[0].statements)


@pytest.mark.parametrize("tech_id", [t for t in _REWRITE if "-put-" in t])
def test_policy_arn_guard_does_not_stop_inline_policies(tech_id: str) -> None:
    # Put*Policy requests carry no iam:PolicyARN, so "anything but AdministratorAccess"
    # (a negated operator on an absent key) still allows writing an inline admin policy
    built, report = build(tech_id, "policy-arn-guard")
    assert [p.target for p in paths_of(report, built.attacker) if p.technique == tech_id] == [
        "admin"
    ]


# -- chains -------------------------------------------------------------------------------------


def _hops(path: EscalationPath) -> list[tuple[str, str, str]]:
    return [(h.technique, h.source, h.target) for h in path.hops]


def test_chain_assume_role_then_create_access_key() -> None:
    w = World()
    admin = w.user("admin", allow("*"))
    ops = w.role("ops", TRUST_ACCOUNT, allow("iam:CreateAccessKey", admin))
    dev = w.user("dev", allow("sts:AssumeRole", ops))
    report = w.analyze()
    [path] = paths_of(report, dev)
    assert _hops(path) == [("sts-assume-role", dev, ops), ("iam-create-access-key", ops, admin)]
    assert (path.target, path.target_is_admin) == (admin, True)
    assert all(h.statements for h in path.hops)
    assert [_hops(p) for p in paths_of(report, ops)] == [[("iam-create-access-key", ops, admin)]]


def test_chain_pass_role_to_lambda_then_assume_admin_role() -> None:
    w = World()
    admin_role = w.role("admin-role", TRUST_ACCOUNT, allow("*"))
    fn_role = w.role("fn-role", trust_service(LAMBDA), allow("sts:AssumeRole", admin_role))
    builder = w.user(
        "builder",
        allow(["lambda:CreateFunction", "lambda:InvokeFunction"]),
        allow("iam:PassRole", fn_role),
    )
    report = w.analyze()
    [path] = paths_of(report, builder)
    assert _hops(path) == [
        ("lambda-create-invoke", builder, fn_role),
        ("sts-assume-role", fn_role, admin_role),
    ]
    assert (path.target, path.target_is_admin) == (admin_role, True)


def test_paths_are_sorted_shortest_first() -> None:
    w = World()
    admin = w.user("admin", allow("*"))
    admin_role = w.role("admin-role", TRUST_ACCOUNT, allow("*"))
    mid = w.role("mid", TRUST_ACCOUNT, allow("iam:PutRolePolicy", f"{IAM}:role/mid"))
    ops = w.role("ops", TRUST_ACCOUNT, allow("iam:CreateAccessKey", admin))
    hopper = w.role("hopper", TRUST_ACCOUNT, allow("sts:AssumeRole", ops))
    # declared last so that the analysis order cannot stand in for the sort
    dev = w.user("dev", allow("sts:AssumeRole", [hopper, ops, mid, admin_role]))
    found = paths_of(w.analyze(), dev)
    assert [_hops(p) for p in found] == [
        [("sts-assume-role", dev, admin_role)],
        [("sts-assume-role", dev, mid), ("iam-put-role-policy", mid, mid)],
        [("sts-assume-role", dev, ops), ("iam-create-access-key", ops, admin)],
        [
            ("sts-assume-role", dev, hopper),
            ("sts-assume-role", hopper, ops),
            ("iam-create-access-key", ops, admin),
        ],
    ]
    assert [p.target for p in found] == [admin_role, mid, admin, admin]
    assert [p.target_is_admin for p in found] == [True, False, True, True]


def test_every_first_hop_gives_its_own_path() -> None:
    w = World()
    admin = w.user("admin", allow("*"))
    root = w.user("root-like", allow("*"))
    admin_role = w.role("admin-role", TRUST_ACCOUNT, allow("*"))
    attacker = w.user(
        "attacker", allow("iam:CreateAccessKey", [admin, root]), allow("sts:AssumeRole", admin_role)
    )
    found = paths_of(w.analyze(), attacker)
    assert sorted(_hops(p)[0] for p in found) == [
        ("iam-create-access-key", attacker, admin),
        ("iam-create-access-key", attacker, root),
        ("sts-assume-role", attacker, admin_role),
    ]
    assert all(len(p.hops) == 1 and p.target_is_admin for p in found)


# -- delegated administration: calls on a principal carry its permissions boundary -------------


@pytest.mark.parametrize("bounded", [True, False], ids=["target-has-boundary", "no-boundary"])
def test_put_user_policy_limited_to_principals_with_a_boundary(bounded: bool) -> None:
    """Delegated administrators may often write policies only for principals that carry a given
    boundary; the request carries the target's boundary in iam:PermissionsBoundary."""
    w = World()
    wide = w.policy("wide-boundary", document(allow("*")))
    attacker = w.user(
        "delegated",
        allow(
            "iam:PutUserPolicy",
            f"{IAM}:user/delegated",
            {"StringEquals": {"iam:PermissionsBoundary": wide}},
        ),
        boundary=wide if bounded else None,
    )
    report = w.analyze()
    found = [(p.technique, p.target) for p in paths_of(report, attacker)]
    # with the boundary (which allows everything) the user can make itself an administrator;
    # without it the condition does not hold
    assert found == ([("iam-put-user-policy", "admin")] if bounded else [])
