"""ECR collector on moto: repositories with their policy; "no policy" is None, a failed read is
unavailable."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from mamori.aws import AccountSession
from tests.inventory.collecting import by_name, fail, marker_code, moto_account, run

_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "pull", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}
    ],
}


@pytest.fixture
def session() -> Iterator[AccountSession]:
    with moto_account() as account:
        yield account


def _seed() -> None:
    ecr = boto3.client("ecr", region_name="us-east-1")
    ecr.create_repository(repositoryName="public-images")
    ecr.set_repository_policy(repositoryName="public-images", policyText=json.dumps(_POLICY))
    ecr.create_repository(repositoryName="private-images")


def test_repositories_keep_their_policy(session: AccountSession) -> None:
    _seed()

    data, snapshot = run(session, "ecr")

    # RepositoryPolicyNotFoundException means "no policy": not an error.
    assert snapshot.errors == []
    repos = by_name(data["repositories"])
    public = repos["public-images"]
    assert public["_arn"] == public["repositoryArn"]
    assert public["_arn"] == "arn:aws:ecr:us-east-1:123456789012:repository/public-images"
    assert json.loads(public["policyText"]) == _POLICY
    assert repos["private-images"]["policyText"] is None


def test_denied_policy_is_unavailable(session: AccountSession) -> None:
    _seed()
    fail(session, "GetRepositoryPolicy", when=lambda p: p["repositoryName"] == "public-images")

    data, _ = run(session, "ecr")

    repos = by_name(data["repositories"])
    assert marker_code(repos["public-images"]["policyText"]) == "AccessDenied"
    assert repos["private-images"]["policyText"] is None
