"""Organizations collector on moto: resource control policies are read like service control
policies, and a refused RCP listing is unavailable, never an empty list."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from mamori.aws import AccountSession
from tests.inventory.collecting import fail, marker_code, moto_account, run_global

_RCP = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "OnlyOurOrg",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-example"}},
        }
    ],
}


@pytest.fixture
def session() -> Iterator[AccountSession]:
    with moto_account() as account:
        yield account


def _organisation() -> tuple[str, str]:
    """An organisation managed from moto's default account, with one RCP on its root."""
    org = boto3.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    policy = org.create_policy(
        Name="data-perimeter",
        Description="resources only for the organisation",
        Type="RESOURCE_CONTROL_POLICY",
        Content=json.dumps(_RCP),
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=policy, TargetId=root)
    return policy, root


def test_rcps_are_read_like_scps(session: AccountSession) -> None:
    policy, root = _organisation()

    data, snapshot = run_global(session, "organizations")

    assert snapshot.errors == []
    rcps = {p["Id"]: p for p in data["rcps"]}
    assert policy in rcps
    ours = rcps[policy]
    assert ours["_name"] == "data-perimeter"
    assert ours["_arn"] == ours["Arn"]
    assert "resource_control_policy" in ours["_arn"]
    assert json.loads(ours["Content"]) == _RCP
    assert [t["TargetId"] for t in ours["Targets"]] == [root]
    # RCPs and SCPs are not mixed up.
    assert all(p["Type"] == "RESOURCE_CONTROL_POLICY" for p in data["rcps"])
    assert all(p["Type"] == "SERVICE_CONTROL_POLICY" for p in data["scps"])
    assert policy not in {p["Id"] for p in data["scps"]}


def test_refused_rcp_filter_is_unavailable_not_empty(session: AccountSession) -> None:
    _organisation()
    # What an API without RCP support answers for the filter; SCPs are still listed.
    refused = fail(
        session,
        "ListPolicies",
        code="InvalidInputException",
        status=400,
        when=lambda p: p.get("Filter") == "RESOURCE_CONTROL_POLICY",
    )

    data, snapshot = run_global(session, "organizations")

    assert len(refused) == 1
    assert marker_code(data["rcps"]) == "InvalidInputException"
    assert isinstance(data["scps"], list) and data["scps"]
    assert [(e.operation, e.code) for e in snapshot.errors] == [
        ("organizations:list_policies", "InvalidInputException")
    ]
