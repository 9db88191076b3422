"""The evaluator against the conformance table, plus the `--requests` reader's error paths."""

from __future__ import annotations

import orjson
import pytest

from mamori.core import InputError
from mamori.identity.errors import PolicyError
from mamori.identity.evaluate import evaluate
from mamori.identity.policy import compile_policy
from mamori.identity.requests import decide_lines, parse_case
from tests.identity.conformance import ALICE, CASES, doc, st

IDS = [c[0] for c in CASES]


def test_enough_cases_with_unique_ids() -> None:
    assert len(CASES) >= 100
    assert len(set(IDS)) == len(IDS)


@pytest.mark.parametrize(("cid", "rule", "expected", "line"), CASES, ids=IDS)
def test_conformance(cid: str, rule: str, expected: str, line: dict) -> None:
    case = parse_case(line, cid)
    decision = evaluate(case.caller, case.policies, case.request)
    assert decision.decision == expected, f"{cid}: {rule}: {decision}"
    if expected == "ExplicitDeny":
        assert decision.decided_by and all(d.effect == "Deny" for d in decision.decided_by)


def test_decided_by_names_the_allowing_statement() -> None:
    line = {
        "id": 1,
        "principal": ALICE,
        "identity_policies": [doc(st(action="ec2:*"), st(Sid="Read"))],
        "request": {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"},
    }
    [out] = list(decide_lines([orjson.dumps(line)], "cases.jsonl"))
    body = out.to_json()
    assert body["decision"] == "Allow"
    assert body["decided_by"] == [
        {
            "policy": "cases.jsonl:1 (id 1) identity_policies[0]",
            "kind": "identity",
            "statement": 1,
            "sid": "Read",
            "effect": "Allow",
        }
    ]


def test_implicit_deny_says_what_was_missing() -> None:
    line = {
        "id": "x",
        "principal": ALICE,
        "identity_policies": [],
        "request": {"action": "s3:GetObject", "resource": "*"},
    }
    [out] = list(decide_lines([orjson.dumps(line)], "c"))
    assert out.to_json()["decided_by"] == [
        {"kind": "identity", "reason": "no identity-based policy allows s3:GetObject"}
    ]


def test_bad_lines_are_named_and_the_rest_decided() -> None:
    good = orjson.dumps(
        {
            "id": "ok",
            "principal": ALICE,
            "identity_policies": [doc(st())],
            "request": {"action": "s3:GetObject", "resource": "*"},
        }
    )
    lines = [
        b"{not json",
        orjson.dumps(
            {
                "id": "typo",
                "principal": ALICE,
                "identity_polices": [],
                "request": {"action": "a:b", "resource": "*"},
            }
        ),
        orjson.dumps(
            {
                "id": "badpol",
                "principal": ALICE,
                "identity_policies": [
                    {"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}
                ],
                "request": {"action": "a:b", "resource": "*"},
            }
        ),
        orjson.dumps(
            {
                "id": "notype",
                "principal": {"arn": "x"},
                "request": {"action": "a:b", "resource": "*"},
            }
        ),
        b"",
        good,
    ]
    outcomes = list(decide_lines(lines, "cases.jsonl"))
    assert [o.error is None for o in outcomes] == [False, False, False, False, True]
    assert "cases.jsonl:1" in (outcomes[0].error or "")
    assert "identity_polices" in (outcomes[1].error or "")
    assert "Effect" in (outcomes[2].error or "") and "badpol" in (outcomes[2].error or "")
    assert "principal.type" in (outcomes[3].error or "")
    assert outcomes[4].to_json()["decision"] == "Allow"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "not valid JSON"),
        ({"Statement": [], "Extra": 1}, "unknown top-level"),
        ({"Version": "2020-01-01", "Statement": []}, "Version"),
        ({"Version": "2012-10-17"}, "no Statement"),
        ({"Statement": "x"}, "Statement must be"),
        ({"Statement": [{"Effect": "Allow", "Resource": "*"}]}, "needs Action or NotAction"),
        ({"Statement": [{"Effect": "Allow", "Action": "s3", "Resource": "*"}]}, "service:action"),
        ({"Statement": [{"Effect": "Allow", "Action": "*"}]}, "needs Resource"),
        (
            {"Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "*", "Resource": "*"}]},
            "both Action and NotAction",
        ),
        ({"Statement": [{"Effect": "Allow", "Action": [], "Resource": "*"}]}, "empty list"),
        ({"Statement": [{"Effect": "Allow", "Action": [1], "Resource": "*"}]}, "strings"),
        (
            {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": "*"}]},
            "not allowed in a identity policy",
        ),
        ({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Sid": 3}]}, "Sid"),
        (
            {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Actions": "x"}]},
            "unknown element",
        ),
        ({"Statement": ["x"]}, "must be an object"),
    ],
)
def test_malformed_policies_are_named(document: object, message: str) -> None:
    with pytest.raises(PolicyError, match=message) as info:
        compile_policy(document, name="P1", kind="identity")
    assert "P1" in str(info.value)
    assert isinstance(info.value, InputError)


def test_resource_policy_needs_principal() -> None:
    with pytest.raises(PolicyError, match="Principal"):
        compile_policy(
            {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]},
            name="bucket",
            kind="resource",
        )


@pytest.mark.parametrize(
    "principal",
    ["arn", {"AWS": []}, {"Role": "x"}, {"AWS": [""]}, {}],
)
def test_malformed_principals(principal: object) -> None:
    with pytest.raises(PolicyError):
        compile_policy(
            {
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": principal}
                ]
            },
            name="b",
            kind="resource",
        )


def test_url_encoded_document() -> None:
    encoded = (
        "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow"
        "%22%2C%22Action%22%3A%22s3%3A*%22%2C%22Resource%22%3A%22*%22%7D%7D"
    )
    policy = compile_policy(encoded, name="enc")
    assert len(policy.statements) == 1
    assert policy.for_action("s3:GetObject")
