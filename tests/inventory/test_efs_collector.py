"""EFS collector on moto: file systems with their policy; "no policy" is None, a failed read is
unavailable."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from mamori.aws import AccountSession
from mamori.inventory import load_collectors
from mamori.inventory.permissions import iam_action
from tests.inventory.collecting import by_name, fail, marker_code, moto_account, run


@pytest.fixture
def session() -> Iterator[AccountSession]:
    with moto_account() as account:
        yield account


def _seed() -> dict[str, str]:
    efs = boto3.client("efs", region_name="us-east-1")
    shared = efs.create_file_system(CreationToken="shared", Tags=[{"Key": "Name", "Value": "home"}])
    plain = efs.create_file_system(CreationToken="plain")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "elasticfilesystem:ClientMount",
                "Resource": shared["FileSystemArn"],
            }
        ],
    }
    efs.put_file_system_policy(FileSystemId=shared["FileSystemId"], Policy=json.dumps(policy))
    return {"shared": shared["FileSystemId"], "plain": plain["FileSystemId"]}


def test_file_systems_keep_their_policy(session: AccountSession) -> None:
    ids = _seed()

    data, snapshot = run(session, "efs")

    assert snapshot.errors == []  # PolicyNotFound is "no policy", not an error
    systems = by_name(data["file_systems"])
    # Named by their Name tag when they have one, else by their id.
    assert set(systems) == {"home", ids["plain"]}
    home = systems["home"]
    assert home["_arn"] == home["FileSystemArn"]
    assert home["_arn"].endswith(f":file-system/{ids['shared']}")
    assert json.loads(home["Policy"])["Statement"][0]["Principal"] == {"AWS": "*"}
    assert systems[ids["plain"]]["Policy"] is None


def test_denied_policy_is_unavailable(session: AccountSession) -> None:
    _seed()
    fail(session, "DescribeFileSystemPolicy")

    data, snapshot = run(session, "efs")

    assert all(marker_code(fs["Policy"]) == "AccessDenied" for fs in data["file_systems"])
    assert [e.operation for e in snapshot.errors] == ["efs:describe_file_system_policy"]


def test_scanner_policy_names_efs_actions_by_their_iam_prefix() -> None:
    # EFS's boto3 client is "efs" but its IAM actions are "elasticfilesystem:*".
    actions = {iam_action(call) for call in load_collectors()["efs"].calls}
    assert actions == {
        "elasticfilesystem:DescribeFileSystems",
        "elasticfilesystem:DescribeFileSystemPolicy",
    }
