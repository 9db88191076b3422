"""The escalation graph's checker: shared answers and pruned targets never change a decision."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.identity.checker import Checker
from mamori.identity.context import ContextValue, RequestContext
from mamori.identity.evaluate import PolicySet, Request, evaluate
from mamori.identity.policy import CompiledPolicy
from mamori.identity.resolve import Resolver, Subject
from tests.identity.escalation_fixtures import (
    ACCOUNT_ROOT,
    ADMIN_POLICY_ARN,
    IAM,
    Doc,
    World,
    allow,
    deny,
    document,
    trust_aws,
)

OWN_USER = f"{IAM}:user/${{aws:username}}"
ATTACH = {"iam:PolicyARN": (ADMIN_POLICY_ARN,)}
# Statements the generated principals draw their managed policies from: variables,
# principal-specific and request conditions, NotResource, wildcards and Denies.
POOL: list[Doc] = [
    allow("iam:CreateAccessKey", OWN_USER),
    allow("iam:CreateAccessKey", "*"),
    allow(["iam:CreateAccessKey", "iam:AttachUserPolicy"], f"{IAM}:user/u1"),
    deny("iam:CreateAccessKey", f"{IAM}:user/u0"),
    allow("iam:*", "*", {"StringEquals": {"aws:username": "u2"}}),
    {"Effect": "Allow", "Action": "iam:CreateAccessKey", "NotResource": f"{IAM}:user/u0"},
    allow("sts:AssumeRole", "*"),
    allow("iam:AttachUserPolicy", "*", {"StringEquals": {"iam:PolicyARN": ADMIN_POLICY_ARN}}),
    allow("iam:CreateAccessKey", f"{IAM}:user/u?"),
    allow("s3:GetObject", "*"),
    deny("*", "*", {"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}),
    allow("iam:AttachUserPolicy", f"{IAM}:user/${{aws:PrincipalTag/missing}}"),
    allow("iam:CreateAccessKey", "arn:aws:iam::${aws:PrincipalAccount}:user/*"),
]
BOUNDARIES: list[Doc] = [document(allow("iam:*")), document(allow(["s3:*", "sts:AssumeRole"]))]
USERS = ("u0", "u1", "u2", "u3")
ACTIONS = ("iam:CreateAccessKey", "iam:AttachUserPolicy", "s3:GetObject", "sts:AssumeRole")
REGIONS = ("us-east-1", "eu-west-1")


def _world(
    attached: list[set[int]], inline: list[int | None], boundaries: list[int | None]
) -> World:
    world = World()
    names = [world.policy(f"P{i}", document(statement)) for i, statement in enumerate(POOL)]
    bounds = [world.policy(f"B{i}", doc) for i, doc in enumerate(BOUNDARIES)]
    for name, chosen, own, bound in zip(USERS, attached, inline, boundaries, strict=True):
        statements = [POOL[own]] if own is not None else []
        world.user(
            name,
            *statements,
            managed=tuple(names[i] for i in sorted(chosen)),
            boundary=None if bound is None else bounds[bound],
        )
    world.role("r-account", trust_aws(ACCOUNT_ROOT))
    world.role("r-u1", trust_aws(f"{IAM}:user/u1"))
    only_u2 = {"StringEquals": {"aws:username": "u2"}}
    world.role(
        "r-u2",
        document(
            {
                "Effect": "Allow",
                "Principal": {"AWS": ACCOUNT_ROOT},
                "Action": "sts:AssumeRole",
                "Condition": only_u2,
            }
        ),
    )
    return world


def _reference(
    subject: Subject,
    action: str,
    resource: str,
    extra: dict[str, ContextValue] | None,
    region: str,
    trust: CompiledPolicy | None,
) -> tuple[str, ...] | None:
    """The decision made afresh, as the graph builder made it before the checker shared any."""
    values = dict(subject.context)
    values["aws:RequestedRegion"] = (region,)
    values["aws:SecureTransport"] = ("true",)
    values.update(extra or {})
    policies = PolicySet(
        identity=subject.identity,
        boundary=subject.boundary,
        scps=subject.scps,
        resource=trust,
        resource_account=subject.account.account_id,
    )
    decision = evaluate(subject.caller, policies, Request(action, resource, RequestContext(values)))
    return tuple(str(ref) for ref in decision.decided_by) if decision.allowed else None


# Every request the property test asks, in an order drawn per example.
QUERIES = [
    (user, action, target, attach, region)
    for user in USERS
    for action in ACTIONS
    for target in (*USERS, "r-account", "r-u1", "r-u2")
    for attach in (False, True)
    for region in REGIONS
]


# Users draw from three of the pool's policies, so that several often hold the same ones.
_PICKS = st.lists(st.integers(0, len(POOL) - 1), min_size=3, max_size=3, unique=True)
_SUBSETS = st.lists(st.sets(st.integers(0, 2)), min_size=4, max_size=4)


@settings(max_examples=80, deadline=None)
@given(
    picks=_PICKS,
    subsets=_SUBSETS,
    inline=st.lists(st.none() | st.integers(0, len(POOL) - 1), min_size=4, max_size=4),
    boundaries=st.lists(st.none() | st.integers(0, len(BOUNDARIES) - 1), min_size=4, max_size=4),
    order=st.randoms(use_true_random=False),
)
def test_shared_answers_and_exact_resources_agree_with_fresh_decisions(
    picks: list[int],
    subsets: list[set[int]],
    inline: list[int | None],
    boundaries: list[int | None],
    order: random.Random,
) -> None:
    attached = [{picks[i] for i in chosen} for chosen in subsets]
    world = _world(attached, inline, boundaries)
    resolver = Resolver(world.model())
    checker = Checker(resolver)
    account = next(iter(resolver.model.accounts.values()))
    problems: list[str] = []
    queries = QUERIES * 2  # each twice: the second answer must come from the memo
    order.shuffle(queries)
    # One checker for every query, in the drawn order, so subjects alternate and share memos.
    for user, action, target, attach, region in queries:
        subject = resolver.subject(f"{IAM}:user/{user}")
        resource = f"{IAM}:role/{target}" if target.startswith("r-") else f"{IAM}:user/{target}"
        trust = None
        if action == "sts:AssumeRole" and target.startswith("r-"):
            trust = resolver.compile(account.roles[resource].trust_doc, problems)
        extra = ATTACH if attach else None
        expected = _reference(subject, action, resource, extra, region, trust)
        got = checker.allowed(
            subject, action, resource, extra=extra, resource_policy=trust, region=region
        )
        assert got == expected, (user, action, resource, extra, region)
        exact = checker.exact_resources(subject, action, extra, region)
        if trust is None and exact is not None and resource not in exact:
            assert expected is None, (user, action, resource, exact)
    assert not problems
    assert checker.evaluations <= len(QUERIES)


def _subjects(world: World) -> tuple[Checker, dict[str, Subject]]:
    resolver = Resolver(world.model())
    return Checker(resolver), {arn: resolver.subject(arn) for arn in resolver.principal_arns()}


def test_principals_that_differ_only_elsewhere_share_one_evaluation() -> None:
    world = World()
    keys = world.policy("Keys", document(allow("iam:CreateAccessKey")))
    a = world.user("a", allow("s3:GetObject", "arn:aws:s3:::a/*"), managed=(keys,))
    b = world.user("b", allow("sqs:SendMessage"), managed=(keys,))
    checker, subjects = _subjects(world)
    assert subjects[a].signature != subjects[b].signature
    target = f"{IAM}:user/victim"
    first = checker.allowed(subjects[a], "iam:CreateAccessKey", target)
    second = checker.allowed(subjects[b], "iam:CreateAccessKey", target)
    assert first == second == (f"identity:{keys}:#0",)
    assert checker.evaluations == 1
    # a different resource, region or extra key is a different request
    checker.allowed(subjects[b], "iam:CreateAccessKey", target, region="eu-west-1")
    assert checker.evaluations == 2


def test_a_policy_reading_the_principal_keeps_its_answers_its_own() -> None:
    world = World()
    own = world.policy("Own", document(allow("iam:CreateAccessKey", OWN_USER)))
    a = world.user("a", managed=(own,))
    b = world.user("b", managed=(own,))
    checker, subjects = _subjects(world)
    assert checker.allowed(subjects[a], "iam:CreateAccessKey", a) is not None
    assert checker.allowed(subjects[b], "iam:CreateAccessKey", a) is None
    assert checker.evaluations == 2


def test_a_trust_policy_reading_the_principal_keeps_its_answers_its_own() -> None:
    world = World()
    assume = world.policy("Assume", document(allow("sts:AssumeRole")))
    a = world.user("a", managed=(assume,))
    b = world.user("b", managed=(assume,))
    only_a = {"StringEquals": {"aws:username": "a"}}
    trust = {"Effect": "Allow", "Principal": {"AWS": ACCOUNT_ROOT}, "Action": "sts:AssumeRole"}
    role = world.role("r", document({**trust, "Condition": only_a}))
    checker, subjects = _subjects(world)
    account = subjects[a].account
    policy = checker.resolver.compile(account.roles[role].trust_doc, [])
    assert policy is not None
    answers = [
        checker.allowed(subjects[who], "sts:AssumeRole", role, resource_policy=policy)
        for who in (a, b)
    ]
    assert answers[0] is not None
    assert answers[1] is None


def test_exact_resources_substitute_variables_and_give_up_on_wildcards() -> None:
    world = World()
    own = world.user("own", allow("iam:CreateAccessKey", [OWN_USER, f"{IAM}:user/ops"]))
    unresolved = world.user(
        "unresolved", allow("iam:CreateAccessKey", f"{IAM}:user/${{aws:PrincipalTag/x}}")
    )
    wild = world.user("wild", allow("iam:CreateAccessKey", f"{IAM}:user/dev-*"))
    mixed = world.user("mixed", allow("iam:CreateAccessKey", f"{IAM}:user/${{aws:username}}-*"))
    negated = world.user(
        "negated",
        {"Effect": "Allow", "Action": "iam:CreateAccessKey", "NotResource": f"{IAM}:user/x"},
    )
    denied_only = world.user("denied", deny("iam:CreateAccessKey"))
    checker, subjects = _subjects(world)
    assert checker.exact_resources(subjects[own], "iam:CreateAccessKey") == {
        own,
        f"{IAM}:user/ops",
    }
    assert checker.exact_resources(subjects[unresolved], "iam:CreateAccessKey") == set()
    assert checker.exact_resources(subjects[wild], "iam:CreateAccessKey") is None
    assert checker.exact_resources(subjects[negated], "iam:CreateAccessKey") is None
    assert checker.exact_resources(subjects[mixed], "iam:CreateAccessKey") is None
    assert checker.exact_resources(subjects[denied_only], "iam:CreateAccessKey") == set()


def test_an_answer_names_the_trust_statement_and_the_identity_statement() -> None:
    world = World()
    user = world.user("a", allow("sts:AssumeRole"))
    role = world.role("r", trust_aws(ACCOUNT_ROOT))
    checker, subjects = _subjects(world)
    trust = checker.resolver.compile(subjects[user].account.roles[role].trust_doc, [])
    answer = checker.allowed(subjects[user], "sts:AssumeRole", role, resource_policy=trust)
    # the trust policy names the account: both it and the caller's own policy must allow
    assert answer is not None
    assert [ref.split(":", 1)[0] for ref in answer] == ["trust", "identity"]
    assert answer[1].endswith("a-policy:#0")
