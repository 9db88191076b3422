"""External access: realistic resource policies, each with a twin that differs in the one
thing that decides (public or organisation, accounts in or out of the organisation, roles), and
random policies, malformed ones included, that must never crash the analysis. The helpers here
build snapshots by hand; test_external_resources.py uses them too."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from mamori.core import ComplianceStatus, SeverityLabel
from mamori.identity.external import (
    GENERATOR,
    AccessReport,
    Grant,
    external_access,
    external_findings,
)
from mamori.identity.model import model_from_snapshot
from mamori.inventory import GLOBAL, Snapshot

OWN = "111111111111"
MEMBER = "222222222222"
OUTSIDER = "333333333333"
ORG = "o-abcdefghij"
FOREIGN_ORG = "o-zyxwvutsrq"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
REGION_A = "eu-west-1"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(principal: Any, action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": principal,
        "Action": action,
        "Resource": resource,
        **extra,
    }


def bucket(
    name: str, policy: Any = None, *, grants: list[dict[str, Any]] | None = None, block: Any = None
) -> dict[str, Any]:
    return {
        "Name": name,
        "_arn": f"arn:aws:s3:::{name}",
        "_name": name,
        "_region": REGION_A,
        "Policy": json.dumps(policy)
        if isinstance(policy, dict) and "Statement" in policy
        else policy,
        "Acl": {"Owner": {"ID": "owner-canonical-id"}, "Grants": grants or []},
        "PublicAccessBlock": block,
    }


def role(name: str, trust: dict[str, Any], account: str = OWN) -> dict[str, Any]:
    return {
        "RoleName": name,
        "RoleId": f"AROA{name.upper()}",
        "Arn": f"arn:aws:iam::{account}:role/{name}",
        "Path": "/",
        "CreateDate": "2020-01-01T00:00:00Z",
        "AssumeRolePolicyDocument": trust,
        "RoleLastUsed": {},
    }


def world(
    *,
    buckets: list[dict[str, Any]] | None = None,
    roles: list[dict[str, Any]] | None = None,
    regional: dict[tuple[str, str], dict[str, Any]] | None = None,
    account_block: Any = None,
    in_org: bool = True,
    rcps: list[dict[str, Any]] | None = None,
) -> Snapshot:
    """One scanned account (the organisation's management account when `in_org`)."""
    snap = Snapshot()
    snap.put_service(
        OWN,
        "iam",
        GLOBAL,
        {"users": [], "groups": [], "policies": [], "roles": roles or [], "credential_report": []},
    )
    if buckets is not None:
        snap.put_service(
            OWN, "s3", GLOBAL, {"account_public_access_block": account_block, "buckets": buckets}
        )
    for (service, region), data in (regional or {}).items():
        snap.put_service(OWN, service, region, data)
    if in_org:
        snap.put_service(
            OWN,
            "organizations",
            GLOBAL,
            {
                "organization": {"Id": ORG, "MasterAccountId": OWN},
                "accounts": [
                    {
                        "Id": OWN,
                        "Name": "management",
                        "Parents": [{"Id": "r-ab12", "Type": "ROOT"}],
                    },
                    {
                        "Id": MEMBER,
                        "Name": "workloads",
                        "Parents": [
                            {"Id": "ou-ab12-11111111", "Type": "ORGANIZATIONAL_UNIT"},
                            {"Id": "r-ab12", "Type": "ROOT"},
                        ],
                    },
                ],
                "scps": [],
                "rcps": rcps or [],
            },
        )
    return snap


def analyse(snap: Snapshot) -> AccessReport:
    return external_access(model_from_snapshot(snap), snap, now=NOW)


def grants_of(report: AccessReport, arn: str) -> dict[tuple[str, str], Grant]:
    return {(g.scope, g.grantee): g for g in report if g.resource_arn == arn}


BUCKET = "arn:aws:s3:::data"
OBJECTS = "arn:aws:s3:::data/*"


# -- public versus organisation ----------------------------------------------------------------


def test_public_bucket_policy_is_public_and_high_for_reads() -> None:
    snap = world(buckets=[bucket("data", doc(allow("*", "s3:GetObject", OBJECTS, Sid="Web")))])
    report = analyse(snap)
    grant = grants_of(report, BUCKET)[("public", "*")]
    assert grant.actions == ["s3:GetObject"]
    assert grant.statements == ["Web"]
    assert grant.region == REGION_A
    [finding] = external_findings(report)
    assert finding.generator_id == GENERATOR
    assert finding.severity.label is SeverityLabel.HIGH
    assert finding.compliance is not None
    assert finding.compliance.status is ComplianceStatus.FAILED
    assert finding.evidence["actions"] == ["s3:GetObject"]
    assert finding.mitre[0].technique_id == "T1537"


def test_public_write_is_critical() -> None:
    policy = doc(allow("*", ["s3:GetObject", "s3:PutObject"], OBJECTS))
    [finding] = external_findings(analyse(world(buckets=[bucket("data", policy)])))
    assert finding.severity.label is SeverityLabel.CRITICAL


def test_principal_org_id_of_the_own_organisation_makes_it_internal() -> None:
    policy = doc(
        allow("*", "s3:GetObject", OBJECTS, Condition={"StringEquals": {"aws:PrincipalOrgID": ORG}})
    )
    report = analyse(world(buckets=[bucket("data", policy)]))
    assert set(grants_of(report, BUCKET)) == {("organization", ORG)}
    [finding] = external_findings(report)
    assert finding.severity.label is SeverityLabel.INFORMATIONAL
    assert finding.compliance is not None
    assert finding.compliance.status is ComplianceStatus.PASSED


def test_principal_org_id_of_another_organisation_is_external() -> None:
    policy = doc(
        allow(
            "*",
            "s3:GetObject",
            OBJECTS,
            Condition={"StringEquals": {"aws:PrincipalOrgID": FOREIGN_ORG}},
        )
    )
    report = analyse(world(buckets=[bucket("data", policy)]))
    assert set(grants_of(report, BUCKET)) == {("external", f"organization:{FOREIGN_ORG}")}


def test_org_path_condition_limits_to_an_ou_and_says_so() -> None:
    policy = doc(
        allow(
            "*",
            "s3:GetObject",
            OBJECTS,
            Condition={
                "ForAnyValue:StringLike": {
                    "aws:PrincipalOrgPaths": f"{ORG}/r-ab12/ou-ab12-11111111/*"
                }
            },
        )
    )
    report = analyse(world(buckets=[bucket("data", policy)]))
    assert set(grants_of(report, BUCKET)) == {("organization", ORG)}


def test_a_deny_outside_the_organisation_takes_the_public_grant_back() -> None:
    guard = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": OBJECTS,
        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": ORG}},
    }
    open_read = allow("*", "s3:GetObject", OBJECTS)
    guarded = analyse(world(buckets=[bucket("data", doc(open_read, guard))]))
    assert set(grants_of(guarded, BUCKET)) == {("organization", ORG)}
    unguarded = analyse(world(buckets=[bucket("data", doc(open_read))]))
    assert set(grants_of(unguarded, BUCKET)) == {("public", "*")}


def test_secure_transport_deny_does_not_make_a_public_bucket_private() -> None:
    tls = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [BUCKET, OBJECTS],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    report = analyse(world(buckets=[bucket("data", doc(allow("*", "s3:GetObject", OBJECTS), tls))]))
    assert grants_of(report, BUCKET)[("public", "*")].restricted_by == []


def test_network_condition_keeps_it_external_and_says_restricted_by_network() -> None:
    policy = doc(
        allow(
            "*",
            "s3:GetObject",
            OBJECTS,
            Condition={"IpAddress": {"aws:SourceIp": "198.51.100.0/24"}},
        )
    )
    report = analyse(world(buckets=[bucket("data", policy)]))
    grant = grants_of(report, BUCKET)[("external", "*")]
    assert grant.restricted_by == ["network (aws:SourceIp)"]
    [finding] = external_findings(report)
    assert finding.severity.label is SeverityLabel.MEDIUM


def test_a_deny_unless_from_a_vpc_endpoint_also_restricts_by_network() -> None:
    guard = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": OBJECTS,
        "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0abc"}},
    }
    report = analyse(
        world(buckets=[bucket("data", doc(allow("*", "s3:GetObject", OBJECTS), guard))])
    )
    assert grants_of(report, BUCKET)[("external", "*")].restricted_by == [
        "network (aws:SourceVpce)"
    ]


def test_any_other_condition_is_conditional() -> None:
    policy = doc(
        allow(
            "*",
            "s3:GetObject",
            OBJECTS,
            Condition={"StringEquals": {"s3:ExistingObjectTag/share": "yes"}},
        )
    )
    report = analyse(world(buckets=[bucket("data", policy)]))
    grant = grants_of(report, BUCKET)[("external", "*")]
    assert grant.restricted_by == ["conditional (s3:ExistingObjectTag/share)"]


def test_an_expired_time_window_grants_nothing() -> None:
    def policy(until: str) -> dict[str, Any]:
        return doc(
            allow(
                "*", "s3:GetObject", OBJECTS, Condition={"DateLessThan": {"aws:CurrentTime": until}}
            )
        )

    assert not analyse(world(buckets=[bucket("data", policy("2024-01-01T00:00:00Z"))]))
    assert grants_of(
        analyse(world(buckets=[bucket("data", policy("2030-01-01T00:00:00Z"))])), BUCKET
    )[("public", "*")]


def test_for_an_account_outside_the_organisation_the_organisation_is_external() -> None:
    standalone = "444444444444"
    policy = doc(
        allow(
            "*",
            "s3:GetObject",
            "arn:aws:s3:::solo/*",
            Condition={"StringEquals": {"aws:PrincipalOrgID": ORG}},
        ),
        allow({"AWS": MEMBER}, "s3:PutObject", "arn:aws:s3:::solo/*"),
    )
    snap = world()
    snap.put_service(
        standalone,
        "s3",
        GLOBAL,
        {"account_public_access_block": None, "buckets": [bucket("solo", policy)]},
    )
    assert set(grants_of(analyse(snap), "arn:aws:s3:::solo")) == {
        ("external", f"organization:{ORG}"),
        ("external", MEMBER),
    }


# -- named accounts ------------------------------------------------------------------------------


def test_accounts_inside_and_outside_the_organisation() -> None:
    policy = doc(
        allow(
            {"AWS": [MEMBER, f"arn:aws:iam::{OUTSIDER}:role/reader", f"arn:aws:iam::{OWN}:root"]},
            "s3:GetObject",
            OBJECTS,
        )
    )
    report = analyse(world(buckets=[bucket("data", policy)]))
    grants = grants_of(report, BUCKET)
    assert set(grants) == {("organization", MEMBER), ("external", OUTSIDER)}
    assert grants[("external", OUTSIDER)].principals == [f"arn:aws:iam::{OUTSIDER}:role/reader"]
    findings = {f.evidence["scope"]: f for f in external_findings(report)}
    assert findings["external"].severity.label is SeverityLabel.MEDIUM
    assert findings["external"].id != findings["organization"].id


def test_without_an_organisation_every_other_account_is_external() -> None:
    policy = doc(allow({"AWS": MEMBER}, "s3:GetObject", OBJECTS))
    report = analyse(world(buckets=[bucket("data", policy)], in_org=False))
    assert set(grants_of(report, BUCKET)) == {("external", MEMBER)}


def test_principal_account_condition_names_the_grantee() -> None:
    policy = doc(
        allow(
            "*",
            "s3:GetObject",
            OBJECTS,
            Condition={"StringEquals": {"aws:PrincipalAccount": OUTSIDER}},
        )
    )
    report = analyse(world(buckets=[bucket("data", policy)]))
    assert set(grants_of(report, BUCKET)) == {("external", OUTSIDER)}


def test_principal_arn_condition_names_the_account_and_restricts() -> None:
    reader = f"arn:aws:iam::{OUTSIDER}:role/reader"
    policy = doc(
        allow(
            {"AWS": "*"},
            "s3:GetObject",
            OBJECTS,
            Condition={"ArnEquals": {"aws:PrincipalArn": reader}},
        )
    )
    grant = grants_of(analyse(world(buckets=[bucket("data", policy)])), BUCKET)[
        ("external", OUTSIDER)
    ]
    assert grant.restricted_by == ["conditional (aws:PrincipalArn)"]


# -- roles ---------------------------------------------------------------------------------------


def trust(principal: Any, **extra: Any) -> dict[str, Any]:
    return doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra})


ROLE_ARN = f"arn:aws:iam::{OWN}:role/vendor"


def test_trust_of_an_account_outside_the_organisation_without_external_id() -> None:
    report = analyse(world(roles=[role("vendor", trust({"AWS": f"arn:aws:iam::{OUTSIDER}:root"}))]))
    grant = grants_of(report, ROLE_ARN)[("external", OUTSIDER)]
    assert grant.actions == ["sts:AssumeRole"]
    assert any("sts:ExternalId" in note for note in grant.notes)
    [finding] = external_findings(report)
    assert finding.severity.label is SeverityLabel.HIGH
    assert finding.mitre[0].technique_id == "T1078.004"
    assert finding.resource.type == "AwsIamRole"


def test_trust_with_external_id_is_restricted_and_not_noted() -> None:
    with_id = trust(
        {"AWS": f"arn:aws:iam::{OUTSIDER}:root"},
        Condition={"StringEquals": {"sts:ExternalId": "7f3a"}},
    )
    grant = grants_of(analyse(world(roles=[role("vendor", with_id)])), ROLE_ARN)[
        ("external", OUTSIDER)
    ]
    assert grant.restricted_by == ["conditional (sts:ExternalId)"]
    assert not any("ExternalId" in note for note in grant.notes)


def test_trust_of_an_organisation_account_is_organisation_scope() -> None:
    report = analyse(world(roles=[role("vendor", trust({"AWS": f"arn:aws:iam::{MEMBER}:root"}))]))
    assert set(grants_of(report, ROLE_ARN)) == {("organization", MEMBER)}


def test_trust_of_the_own_account_or_a_service_is_not_external() -> None:
    own = trust({"AWS": f"arn:aws:iam::{OWN}:root"})
    service = trust({"Service": "lambda.amazonaws.com"})
    report = analyse(world(roles=[role("vendor", own), role("fn", service)]))
    assert list(report) == []


def test_web_identity_without_a_subject_condition_is_noted() -> None:
    provider = f"arn:aws:iam::{OWN}:oidc-provider/token.actions.githubusercontent.com"

    def trust_of(condition: dict[str, Any]) -> dict[str, Any]:
        return doc(
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": condition,
            }
        )

    aud = {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}
    sub = {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/app:*"}, **aud}
    loose = grants_of(analyse(world(roles=[role("vendor", trust_of(aud))])), ROLE_ARN)
    tight = grants_of(analyse(world(roles=[role("vendor", trust_of(sub))])), ROLE_ARN)
    key = ("external", f"federated:{provider}")
    assert loose[key].restricted_by == [] and loose[key].notes
    assert tight[key].restricted_by == ["conditional (token.actions.githubusercontent.com:sub)"]
    assert tight[key].notes == []


# -- never a crash -------------------------------------------------------------------------------

_keys = hs.sampled_from(
    [
        "aws:PrincipalOrgID",
        "aws:SourceIp",
        "aws:SourceAccount",
        "aws:PrincipalArn",
        "sts:ExternalId",
        "aws:SecureTransport",
        "aws:SourceArn",
        "kms:CallerAccount",
        "aws:CurrentTime",
        "Bad Key",
    ]
)
_operators = hs.sampled_from(
    [
        "StringEquals",
        "StringNotEquals",
        "StringLike",
        "ArnLike",
        "IpAddress",
        "NotIpAddress",
        "Bool",
        "DateLessThan",
        "NumericLessThan",
        "Null",
        "ForAnyValue:StringEquals",
        "StringEqualsIfExists",
        "Nope",
    ]
)
_scalars = hs.one_of(
    hs.sampled_from(
        [
            ORG,
            OWN,
            OUTSIDER,
            "10.0.0.0/8",
            "true",
            "*",
            "",
            f"arn:aws:iam::{OUTSIDER}:role/*",
            "2030-01-01T00:00:00Z",
            "not an ip/99",
        ]
    ),
    hs.integers(-(2**40), 2**40),
    hs.booleans(),
    hs.none(),
    hs.text(max_size=5),
)
_principals = hs.one_of(
    hs.just("*"),
    hs.fixed_dictionaries(
        {
            "AWS": hs.one_of(
                hs.sampled_from(
                    [
                        "*",
                        OWN,
                        MEMBER,
                        OUTSIDER,
                        f"arn:aws:iam::{OUTSIDER}:user/u",
                        "AIDAEXAMPLE",
                        f"arn:aws:sts::{OUTSIDER}:assumed-role/r/s",
                        "arn:aws:iam::*:root",
                    ]
                ),
                hs.lists(hs.sampled_from([OWN, OUTSIDER, "*"]), max_size=3),
            )
        }
    ),
    hs.fixed_dictionaries({"Service": hs.sampled_from(["s3.amazonaws.com", ""])}),
    hs.fixed_dictionaries({"Federated": hs.just("cognito-identity.amazonaws.com")}),
    hs.fixed_dictionaries({"CanonicalUser": hs.just("abc")}),
    _scalars,
)
_statements = hs.fixed_dictionaries(
    {
        "Effect": hs.sampled_from(["Allow", "Deny", "allow"]),
        "Action": hs.one_of(
            hs.sampled_from(["*", "sqs:*", "sqs:SendMessage", "s3:Get*", "bad"]),
            hs.lists(hs.sampled_from(["sqs:Send*", "kms:Decrypt"]), max_size=3),
        ),
    },
    optional={
        "Principal": _principals,
        "NotPrincipal": _principals,
        "NotAction": hs.just("sqs:DeleteQueue"),
        "Resource": hs.one_of(
            hs.just("*"), hs.just(["arn:aws:sqs:*:*:*", "${aws:username}"]), _scalars
        ),
        "Condition": hs.one_of(
            hs.dictionaries(
                _operators,
                hs.dictionaries(
                    _keys, hs.one_of(_scalars, hs.lists(_scalars, max_size=3)), max_size=3
                ),
                max_size=3,
            ),
            _scalars,
        ),
        "Sid": hs.one_of(hs.text(max_size=4), hs.integers(0, 9)),
        "Extra": hs.just(1),
    },
)
_documents = hs.one_of(
    hs.fixed_dictionaries(
        {
            "Version": hs.sampled_from(["2012-10-17", "2008-10-17", "x"]),
            "Statement": hs.one_of(hs.lists(_statements, max_size=4), _statements, _scalars),
        }
    ),
    _scalars,
    hs.dictionaries(hs.text(max_size=3), _scalars, max_size=3),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies=hs.lists(hs.tuples(_documents, hs.booleans()), min_size=1, max_size=3))
def test_random_resource_policies_never_crash(policies: list[tuple[Any, bool]]) -> None:
    queues = []
    for index, (document, as_text) in enumerate(policies):
        arn = f"arn:aws:sqs:{REGION_A}:{OWN}:q{index}"
        policy = json.dumps(document) if as_text else document
        queues.append(
            {
                "QueueUrl": f"u{index}",
                "_arn": arn,
                "_name": f"q{index}",
                "Attributes": {"QueueArn": arn, "Policy": policy},
            }
        )
    snap = world(
        regional={("sqs", REGION_A): {"queues": queues}},
        roles=[role("r", document) for document, _ in policies[:1]],
    )
    report = analyse(snap)
    findings = external_findings(report)
    judged = {g.resource_arn for g in report} | {u.where.arn for u in report.unavailable}
    assert judged <= {q["_arn"] for q in queues} | {f"arn:aws:iam::{OWN}:role/r"}
    for finding in findings:
        assert finding.account_id == OWN
    # Every finding of a policy that parsed is a judgement; the rest say NOT_AVAILABLE.
    assert all(f.compliance is not None for f in findings)
