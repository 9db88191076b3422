"""Policy lints: each code with a document that has the problem and a twin that does not, the
model-wide findings, and random malformed documents."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.core import ComplianceStatus, InputError, SeverityLabel
from mamori.identity.lint import CODES, Lint, lint_model, lint_policy
from mamori.identity.model import (
    Group,
    IamAccount,
    IdentityModel,
    ManagedPolicy,
    OrgAccount,
    Organization,
    PolicyDoc,
    Role,
    User,
)

ACCT = "111122223333"


def doc(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    out: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        out["Version"] = version
    return out


def allow(action: Any = "s3:GetObject", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def trust(principal: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra}


BUCKET = "arn:aws:s3:::shop-data/*"
ROLE = f"arn:aws:iam::{ACCT}:role/app"
IP_OK = {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}

# (id, code, kind, document with the problem, twin without it)
CASES: list[tuple[str, str, str, Any, Any]] = [
    (
        "malformed",
        "malformed-policy",
        "identity",
        doc({"Effect": "Permit", "Action": "s3:*"}),
        doc(allow(resource=BUCKET)),
    ),
    (
        "malformed-json",
        "malformed-policy",
        "identity",
        '{"Statement": [',
        json.dumps(doc(allow(resource=BUCKET))),
    ),
    (
        "unknown-service",
        "unknown-service",
        "identity",
        doc(allow("s4:GetObject", BUCKET)),
        doc(allow("s3:GetObject", BUCKET)),
    ),
    (
        "unknown-action",
        "unknown-action",
        "identity",
        doc(allow("s3:GetObjekt", BUCKET)),
        doc(allow("s3:getobject", BUCKET)),
    ),
    (
        "unknown-pattern",
        "unknown-action",
        "identity",
        doc(allow("s3:Gett*", BUCKET)),
        doc(allow("s3:Get*", BUCKET)),
    ),
    (
        "unknown-wild-service",
        "unknown-action",
        "identity",
        doc(allow("*:Frobnicate*", BUCKET)),
        doc(allow("*:Describe*", BUCKET)),
    ),
    (
        "passrole-star",
        "pass-role-star-resource",
        "identity",
        doc(allow("iam:PassRole", "*")),
        doc(allow("iam:PassRole", ROLE)),
    ),
    (
        "passrole-any-role",
        "pass-role-star-resource",
        "identity",
        doc(allow("iam:Pass*", "arn:aws:iam::*:role/*")),
        doc(
            allow(
                "iam:PassRole",
                "*",
                Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            )
        ),
    ),
    (
        "passrole-notresource",
        "pass-role-star-resource",
        "identity",
        doc({"Effect": "Allow", "Action": "iam:PassRole", "NotResource": ROLE}),
        doc({"Effect": "Deny", "Action": "iam:PassRole", "NotResource": ROLE}),
    ),
    (
        "not-principal",
        "allow-not-principal",
        "resource",
        doc(
            {
                "Effect": "Allow",
                "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
                "Action": "s3:GetObject",
                "Resource": BUCKET,
            }
        ),
        doc(
            {
                "Effect": "Deny",
                "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
                "Action": "s3:GetObject",
                "Resource": BUCKET,
            }
        ),
    ),
    (
        "not-action",
        "allow-not-action",
        "identity",
        doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": BUCKET}),
        doc({"Effect": "Deny", "NotAction": "iam:*", "Resource": BUCKET}),
    ),
    (
        "not-action-scp-is-a-ceiling",
        "allow-not-action",
        "identity",
        doc({"Effect": "Allow", "NotAction": "s3:*", "Resource": BUCKET}),
        ("scp", doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})),
    ),
    (
        "not-resource",
        "allow-not-resource",
        "identity",
        doc({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": BUCKET}),
        doc(allow(resource=BUCKET)),
    ),
    (
        "forallvalues",
        "forallvalues-single-valued-key",
        "identity",
        doc(
            allow(
                resource=BUCKET, Condition={"ForAllValues:StringEquals": {"aws:PrincipalArn": ROLE}}
            )
        ),
        doc(
            allow(
                resource=BUCKET, Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}
            )
        ),
    ),
    (
        "forallvalues-ip",
        "forallvalues-single-valued-key",
        "identity",
        doc(
            allow(
                resource=BUCKET,
                Condition={"ForAllValues:IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
            )
        ),
        doc(allow(resource=BUCKET, Condition=IP_OK)),
    ),
    (
        "foranyvalue",
        "foranyvalue-single-valued-key",
        "identity",
        doc(
            allow(resource=BUCKET, Condition={"ForAnyValue:StringLike": {"aws:SourceVpc": "vpc-1"}})
        ),
        doc(
            allow(
                resource=BUCKET,
                Condition={"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-a/r-b/*"}},
            )
        ),
    ),
    (
        "misspelt-global-key",
        "unknown-condition-key",
        "identity",
        doc(allow(resource=BUCKET, Condition={"IpAddress": {"aws:SourceIpAddress": "10.0.0.0/8"}})),
        doc(allow(resource=BUCKET, Condition=IP_OK)),
    ),
    (
        "misspelt-service-key",
        "unknown-condition-key",
        "identity",
        doc(allow(resource=BUCKET, Condition={"StringEquals": {"s3:prefixes": "home/"}})),
        doc(
            allow(
                resource=BUCKET,
                Condition={
                    "StringEquals": {"s3:prefix": "home/", "s3:ExistingObjectTag/team": "a"},
                    "StringLike": {"accounts.google.com:sub": "1234*"},
                },
            )
        ),
    ),
    (
        "string-on-ip",
        "condition-type-mismatch",
        "identity",
        doc(allow(resource=BUCKET, Condition={"StringEquals": {"aws:SourceIp": "203.0.113.7"}})),
        doc(allow(resource=BUCKET, Condition=IP_OK)),
    ),
    (
        "date-on-string",
        "condition-type-mismatch",
        "identity",
        doc(
            allow(
                resource=BUCKET,
                Condition={"DateGreaterThan": {"aws:username": "2024-01-01T00:00:00Z"}},
            )
        ),
        doc(
            allow(
                resource=BUCKET,
                Condition={"DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}},
            )
        ),
    ),
    (
        "numeric-on-bool",
        "condition-type-mismatch",
        "identity",
        doc(allow(resource=BUCKET, Condition={"NumericLessThan": {"aws:SecureTransport": "1"}})),
        doc(
            allow(
                resource=BUCKET, Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}
            )
        ),
    ),
    (
        "arn-on-account",
        "condition-type-mismatch",
        "identity",
        doc(allow(resource=BUCKET, Condition={"ArnLike": {"aws:SourceAccount": "111122223333"}})),
        doc(allow(resource=BUCKET, Condition={"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:t"}})),
    ),
    ("star-star", "allow-star-star", "identity", doc(allow("*", "*")), doc(allow("s3:*", "*"))),
    (
        "iam-star",
        "allow-iam-star",
        "identity",
        doc(allow(["iam:*", "s3:GetObject"], "*")),
        doc(allow("iam:*", ROLE)),
    ),
    (
        "sts-star",
        "allow-iam-star",
        "session",
        doc(allow("sts:*", "*")),
        doc(allow("sts:AssumeRole", ROLE)),
    ),
    (
        "trust-anyone",
        "trust-any-principal",
        "trust",
        doc(trust("*")),
        doc(trust("*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc"}})),
    ),
    (
        "trust-anyone-aws",
        "trust-any-principal",
        "trust",
        doc(trust({"AWS": "*"})),
        doc(trust({"AWS": f"arn:aws:iam::{ACCT}:root"})),
    ),
    (
        "duplicate",
        "duplicate-statement",
        "identity",
        doc(allow(resource=BUCKET), {**allow(["s3:GetObject"], [BUCKET]), "Sid": "Again"}),
        doc(allow(resource=BUCKET), allow("s3:PutObject", BUCKET)),
    ),
    (
        "variables-2008",
        "version-variables",
        "identity",
        doc(allow(resource="arn:aws:s3:::home/${aws:username}/*"), version="2008-10-17"),
        doc(allow(resource="arn:aws:s3:::home/${aws:username}/*")),
    ),
    (
        "variables-no-version",
        "version-variables",
        "identity",
        doc(allow(resource="arn:aws:s3:::home/${aws:username}/*"), version=None),
        doc(allow(resource=BUCKET), version="2008-10-17"),
    ),
    (
        "missing-version",
        "missing-version",
        "identity",
        doc(allow(resource=BUCKET), version=None),
        doc(allow(resource=BUCKET)),
    ),
]


def _lints(kind: str, document: Any) -> list[Lint]:
    if isinstance(document, tuple):  # a twin of another kind
        kind, document = document
    return lint_policy(document, kind, name="TestPolicy")


@pytest.mark.parametrize(("cid", "code", "kind", "bad", "good"), CASES, ids=[c[0] for c in CASES])
def test_each_lint_fires_on_the_problem_and_not_on_its_twin(
    cid: str, code: str, kind: str, bad: Any, good: Any
) -> None:
    found = _lints(kind, bad)
    hits = [lint for lint in found if lint.code == code]
    assert hits, f"{cid}: expected {code}, got {found}"
    assert all(h.severity == CODES[code].severity for h in hits)
    assert code not in {lint.code for lint in _lints(kind, good)}, cid


def test_every_code_has_a_case_and_a_row_in_the_docstring() -> None:
    from mamori.identity import lint

    assert {c[1] for c in CASES} == set(CODES)
    for code in CODES:
        assert f"| {code} |" in (lint.__doc__ or "")


def test_lints_name_the_statement_and_sid() -> None:
    found = lint_policy(doc(allow(resource=BUCKET), {**allow("iam:PassRole"), "Sid": "Pass"}))
    [hit] = [lint for lint in found if lint.code == "pass-role-star-resource"]
    assert (hit.statement, hit.sid) == (1, "Pass")


def test_malformed_policy_names_the_policy() -> None:
    [hit] = lint_policy({"Statement": [{"Effect": "Allow"}]}, name="ShopAdmin")
    assert hit.code == "malformed-policy" and hit.severity == "ERROR"
    assert "ShopAdmin" in hit.message and hit.statement is None


def test_aws_managed_policies_are_not_reported_for_broad_wildcards() -> None:
    admin = doc(allow("*", "*"))
    assert "allow-star-star" not in {x.code for x in lint_policy(admin, aws_managed=True)}
    # PassRole on "*" is still a security warning, as Access Analyzer reports it.
    assert "pass-role-star-resource" in {x.code for x in lint_policy(admin, aws_managed=True)}


def test_scps_and_boundaries_get_no_grant_lints() -> None:
    full = doc(allow("*", "*"))
    for kind in ("scp", "boundary"):
        assert lint_policy(full, kind) == []


def test_an_unknown_kind_is_an_input_error() -> None:
    with pytest.raises(InputError, match="bogus"):
        lint_policy(doc(allow()), "bogus")


# --- random malformed documents ----------------------------------------------------------------

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=10)
)
_json = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
_BASE = doc(allow(["s3:GetObject", "s3:PutObject"], BUCKET, Condition=IP_OK))


def _break(kind: str, junk: Any) -> dict[str, Any]:
    """A copy of _BASE with one element made invalid in the way `kind` names."""
    out = json.loads(json.dumps(_BASE))
    statement = out["Statement"][0]
    if kind == "effect":
        statement["Effect"] = junk if junk not in ("Allow", "Deny") else 7
    elif kind == "no-action":
        del statement["Action"]
    elif kind == "unknown-element":
        statement["Frobnicate"] = junk
    elif kind == "version":
        out["Version"] = junk if junk not in ("2012-10-17", "2008-10-17") else "2020-01-01"
    elif kind == "statement":
        out["Statement"] = junk if not isinstance(junk, dict | list) else 5
    elif kind == "operator":
        statement["Condition"] = {"StringEqualz": {"aws:SourceIp": "x"}}
    elif kind == "principal-in-identity":
        statement["Principal"] = junk if junk is not None else "*"
    elif kind == "action-shape":
        statement["Action"] = ["s3GetObject"]
    elif kind == "condition-shape":
        # A null Condition reads as no condition, so it is replaced by another non-object.
        shaped = "x" if junk is None else junk
        statement["Condition"] = [shaped] if isinstance(shaped, dict) else shaped
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(
        [
            "effect",
            "no-action",
            "unknown-element",
            "version",
            "statement",
            "operator",
            "principal-in-identity",
            "action-shape",
            "condition-shape",
        ]
    ),
    _json,
    st.booleans(),
)
def test_random_malformed_documents_give_an_error_lint(how: str, junk: Any, as_text: bool) -> None:
    broken = _break(how, junk)
    document: Any = json.dumps(broken) if as_text else broken
    found = lint_policy(document, "identity", name="Fuzzed")
    assert any(lint.code == "malformed-policy" and lint.severity == "ERROR" for lint in found)
    assert all("Fuzzed" in lint.message for lint in found)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_json, st.sampled_from(["identity", "trust", "scp", "resource", "boundary"]))
def test_arbitrary_json_never_raises(document: Any, kind: str) -> None:
    found = lint_policy(document, kind)
    assert all(isinstance(lint, Lint) for lint in found)
    if not isinstance(document, dict | str):
        assert [lint.code for lint in found] == ["malformed-policy"]


# --- the model -----------------------------------------------------------------------------------

ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
UNUSED_AWS_ARN = "arn:aws:iam::aws:policy/AmazonS3FullAccess"
CUSTOM_ARN = f"arn:aws:iam::{ACCT}:policy/Deploy"
MISSING_ARN = f"arn:aws:iam::{ACCT}:policy/Unreadable"
SCP_ARN = "arn:aws:organizations::111122223333:policy/o-abc/service_control_policy/p-1"


def _managed(arn: str, name: str, document: dict[str, Any]) -> ManagedPolicy:
    return ManagedPolicy(arn, name, "ANPA" + name.upper(), "/", "v1", document)


def _model() -> IdentityModel:
    alice = User(
        f"arn:aws:iam::{ACCT}:user/alice",
        "alice",
        "AIDAALICE",
        ACCT,
        inline=[
            PolicyDoc(
                f"arn:aws:iam::{ACCT}:user/alice#pass",
                "pass",
                None,
                "inline",
                doc(allow("iam:PassRole", "*")),
            )
        ],
        managed_arns=[ADMIN_ARN, MISSING_ARN],
    )
    ops = Group(f"arn:aws:iam::{ACCT}:group/ops", "ops", "AGPAOPS", ACCT, managed_arns=[CUSTOM_ARN])
    public = Role(
        f"arn:aws:iam::{ACCT}:role/public", "public", "AROAPUB", ACCT, trust=doc(trust("*"))
    )
    linked = Role(
        f"arn:aws:iam::{ACCT}:role/aws-service-role/x/AWSServiceRoleForX",
        "slr",
        "AROASLR",
        ACCT,
        path="/aws-service-role/x/",
        trust=doc(trust("*")),
    )
    account = IamAccount(
        ACCT,
        "shop",
        users={alice.arn: alice},
        groups={"ops": ops},
        roles={public.arn: public, linked.arn: linked},
        unresolved_policies={MISSING_ARN},
    )
    account.policies = {
        ADMIN_ARN: _managed(ADMIN_ARN, "AdministratorAccess", doc(allow("*", "*"))),
        UNUSED_AWS_ARN: _managed(UNUSED_AWS_ARN, "AmazonS3FullAccess", doc(allow("s3:Bogus"))),
        CUSTOM_ARN: _managed(CUSTOM_ARN, "Deploy", doc(allow("*", "*"), allow("*", "*"))),
    }
    scp = PolicyDoc(SCP_ARN, "broken", SCP_ARN, "scp", {"Statement": [{"Effect": "Maybe"}]})
    org = Organization(
        "o-abc",
        ACCT,
        accounts={ACCT: OrgAccount(ACCT, "shop", ["r-1"], True)},
        scps_by_target={"r-1": [scp], ACCT: [scp]},
    )
    return IdentityModel(accounts={ACCT: account}, organization=org)


def _by(findings: list[Any]) -> dict[tuple[str, str], Any]:
    return {
        (f.generator_id.removeprefix("identity.policy-lint."), f.resource.id): f for f in findings
    }


def test_lint_model_reports_each_owner_and_code_once() -> None:
    found = _by(lint_model(_model()))
    alice = f"arn:aws:iam::{ACCT}:user/alice"
    assert found[("pass-role-star-resource", alice)].severity.label is SeverityLabel.MEDIUM
    # The customer policy: admin wildcard (HIGH) and its duplicate statement (INFORMATIONAL).
    assert found[("allow-star-star", CUSTOM_ARN)].severity.label is SeverityLabel.HIGH
    assert found[("duplicate-statement", CUSTOM_ARN)].severity.label is (
        SeverityLabel.INFORMATIONAL
    )
    # AWS managed AdministratorAccess is attached: linted, but not for its admin wildcard.
    assert ("pass-role-star-resource", ADMIN_ARN) in found
    assert ("allow-star-star", ADMIN_ARN) not in found
    # An AWS managed policy nobody uses is not linted at all.
    assert not [k for k in found if k[1] == UNUSED_AWS_ARN]
    trust_finding = found[("trust-any-principal", f"arn:aws:iam::{ACCT}:role/public")]
    assert trust_finding.severity.label is SeverityLabel.HIGH
    assert "Effects/Data Exposure" in trust_finding.types
    assert not [k for k in found if "aws-service-role" in k[1]]
    # A malformed SCP is an ERROR lint (HIGH) naming the policy; it is linted once.
    scp = found[("malformed-policy", SCP_ARN)]
    assert scp.severity.label is SeverityLabel.HIGH and "Maybe" in scp.description
    assert scp.account_id == ACCT
    assert len(scp.evidence["policies"]) == 1


def test_unreadable_policies_are_not_available_never_clean() -> None:
    found = _by(lint_model(_model()))
    missing = found[("unavailable", MISSING_ARN)]
    assert missing.compliance is not None
    assert missing.compliance.status is ComplianceStatus.NOT_AVAILABLE
    assert "not in the input" in missing.description


def test_unreadable_scps_are_not_available() -> None:
    model = _model()
    assert model.organization is not None
    model.organization.unavailable["scp"] = "organizations.scps: AccessDenied"
    found = _by(lint_model(model))
    [missing] = [
        f
        for (code, _), f in found.items()
        if code == "unavailable" and "organization/" in f.resource.id
    ]
    assert "AccessDenied" in missing.description


def test_finding_ids_are_unique() -> None:
    findings = lint_model(_model())
    assert len({f.id for f in findings}) == len(findings)
