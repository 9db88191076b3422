"""CloudFormation collector on moto: stacks keep their service role and AWS's shape."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from mamori.aws import AccountSession
from tests.inventory.collecting import ROLE, fail, marker_code, moto_account, run

_TEMPLATE = json.dumps({"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}})


@pytest.fixture
def session() -> Iterator[AccountSession]:
    with moto_account() as account:
        yield account


def test_stacks_keep_their_role(session: AccountSession) -> None:
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    stack_id = cfn.create_stack(
        StackName="deployer",
        TemplateBody=_TEMPLATE,
        RoleARN=f"{ROLE}cfn-admin",
        Capabilities=["CAPABILITY_IAM"],
        Tags=[{"Key": "team", "Value": "platform"}],
    )["StackId"]
    cfn.create_stack(StackName="plain", TemplateBody=_TEMPLATE)

    data, snapshot = run(session, "cloudformation")

    assert snapshot.errors == []
    stacks = {s["_name"]: s for s in data["stacks"]}
    assert set(stacks) == {"deployer", "plain"}
    deployer = stacks["deployer"]
    assert deployer["_arn"] == deployer["StackId"] == stack_id
    assert deployer["RoleARN"] == f"{ROLE}cfn-admin"
    assert deployer["StackStatus"] == "CREATE_COMPLETE"
    assert deployer["Tags"] == [{"Key": "team", "Value": "platform"}]
    # No role: AWS leaves the field out, and so does the snapshot.
    assert "RoleARN" not in stacks["plain"]


def test_denied_listing_is_unavailable_not_empty(session: AccountSession) -> None:
    fail(session, "DescribeStacks")

    data, snapshot = run(session, "cloudformation")

    assert marker_code(data["stacks"]) == "AccessDenied"
    assert [(e.operation, e.code) for e in snapshot.errors] == [
        ("cloudformation:describe_stacks", "AccessDenied")
    ]
