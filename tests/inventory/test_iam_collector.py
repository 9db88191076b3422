"""The IAM collector on moto: a denied per-user call is made and recorded once while the rest
is still collected, and the stored principals and policies keep the shape of
`get-account-authorization-details`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from mamori.aws import AccountSession, AwsOptions
from mamori.core import ComplianceStatus
from mamori.inventory import Snapshot, collect, is_unavailable
from mamori.posture import load_checks
from mamori.posture.engine import run_check

ACCOUNT = "123456789012"
OPTIONS = AwsOptions(max_attempts=1, retry_mode="standard")
_ADMIN = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
_READ = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}


@pytest.fixture
def session() -> Iterator[AccountSession]:
    with mock_aws():
        yield AccountSession(ACCOUNT, boto3.Session(region_name="us-east-1"), OPTIONS)


def _iam_data(snap: Snapshot) -> dict[str, Any]:
    return snap.services(ACCOUNT)["iam"]["global"]


def _deny(session: AccountSession, operation: str) -> list[str]:
    """Make AWS refuse `operation`, as it does for a scanner role without that permission."""
    asked: list[str] = []

    def refuse(**_: Any) -> None:
        asked.append(operation)
        answer: Any = {
            "Error": {"Code": "AccessDenied", "Message": "not allowed"},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }
        raise ClientError(answer, operation)

    session.session.events.register(f"before-call.iam.{operation}", refuse)
    return asked


def _statuses(snap: Snapshot, check_id: str) -> list[tuple[ComplianceStatus, str]]:
    found = run_check(load_checks()[check_id], snap, ACCOUNT)
    return [(f.compliance.status, f.compliance.status_reasons[0]) for f in found if f.compliance]


def test_denied_per_user_call_is_made_and_recorded_once(session: AccountSession) -> None:
    iam = session.session.client("iam")
    for name in ("ann", "bob", "cat"):
        iam.create_user(UserName=name)
        iam.create_login_profile(UserName=name, Password="Correct-Horse-42-Battery!")
        iam.create_access_key(UserName=name)
    asked = _deny(session, "ListMFADevices")

    snap = collect([session], ["us-east-1"], services=["iam"], workers=1)

    assert len(asked) == 1
    denied = [e for e in snap.errors if e.operation == "iam:list_mfa_devices"]
    assert len(denied) == 1
    assert (denied[0].code, denied[0].count) == ("AccessDenied", 1)
    users = _iam_data(snap)["users"]
    assert sorted(u["UserName"] for u in users) == ["ann", "bob", "cat"]
    for user in users:
        assert is_unavailable(user["MFADevices"])
        assert user["LoginProfile"]["UserName"] == user["UserName"]
        assert len(user["AccessKeys"]) == 1
        assert "LastUsed" in user["AccessKeys"][0]
    # What does not depend on the denied call is still judged; what does is NOT_AVAILABLE.
    mfa = _statuses(snap, "iam.user_mfa_for_console")
    assert [s for s, _ in mfa] == [ComplianceStatus.NOT_AVAILABLE] * 3
    rotated = _statuses(snap, "iam.access_key_rotated")
    assert [s for s, _ in rotated] == [ComplianceStatus.PASSED] * 3


def test_stored_principals_and_policies_keep_the_gaad_shape(session: AccountSession) -> None:
    iam = session.session.client("iam")
    iam.create_user(UserName="ann", Tags=[{"Key": "team", "Value": "red"}])
    iam.put_user_policy(UserName="ann", PolicyName="inline", PolicyDocument=json.dumps(_READ))
    iam.create_group(GroupName="ops")
    iam.add_user_to_group(GroupName="ops", UserName="ann")
    iam.create_role(
        RoleName="app",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    admin = iam.create_policy(PolicyName="admin", PolicyDocument=json.dumps(_ADMIN))["Policy"]
    iam.create_policy_version(
        PolicyArn=admin["Arn"], PolicyDocument=json.dumps(_READ), SetAsDefault=True
    )
    iam.attach_role_policy(RoleName="app", PolicyArn=admin["Arn"])
    iam.attach_group_policy(GroupName="ops", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")

    snap = collect([session], ["us-east-1"], services=["iam"], workers=1)
    assert not snap.errors
    data = _iam_data(snap)

    (user,) = data["users"]
    assert user["Arn"] == user["_arn"] == f"arn:aws:iam::{ACCOUNT}:user/ann"
    assert user["_tags"] == {"team": "red"}
    assert user["GroupList"] == ["ops"]
    assert user["UserPolicyList"][0]["PolicyDocument"] == _READ
    (group,) = data["groups"]
    assert group["AttachedManagedPolicies"][0]["PolicyName"] == "ReadOnlyAccess"
    (role,) = data["roles"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "ec2.amazonaws.com"
    }

    by_name = {p["_name"]: p for p in data["policies"]}
    # Attached AWS managed policies are kept, with their documents; unattached ones are not.
    assert set(by_name) == {"admin", "ReadOnlyAccess"}
    versions = {v["VersionId"]: v for v in by_name["admin"]["PolicyVersionList"]}
    assert by_name["admin"]["DefaultVersionId"] == "v2"
    assert versions["v2"]["IsDefaultVersion"] is True
    assert versions["v2"]["Document"] == _READ
    assert versions["v1"]["Document"] == _ADMIN
    assert by_name["ReadOnlyAccess"]["PolicyVersionList"]

    # The four lists read back as one GAAD document, as identity analysis consumes it.
    gaad = {
        "UserDetailList": data["users"],
        "GroupDetailList": data["groups"],
        "RoleDetailList": data["roles"],
        "Policies": data["policies"],
    }
    assert all(isinstance(v, list) and v for v in gaad.values())

    report = data["credential_report"]
    assert [row["user"] for row in report] == ["ann"]
    assert report[0]["arn"] == user["Arn"]


def test_root_usage_without_a_root_row_is_not_available(session: AccountSession) -> None:
    # moto's credential report has no <root_account> row; the check must not guess.
    snap = collect([session], ["us-east-1"], services=["iam"], workers=1)
    ((status, reason),) = _statuses(snap, "iam.root_not_used_recently")
    assert status is ComplianceStatus.NOT_AVAILABLE
    assert "<root_account>" in reason
