"""Secrets Manager collector on moto: secrets with their resource policy (None without one),
never their values."""

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
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
        }
    ],
}


@pytest.fixture
def session() -> Iterator[AccountSession]:
    with moto_account() as account:
        yield account


def _seed() -> str:
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    arn = str(secrets.create_secret(Name="db-password", SecretString="hunter2")["ARN"])
    secrets.put_resource_policy(SecretId=arn, ResourcePolicy=json.dumps(_POLICY))
    secrets.create_secret(Name="api-token", SecretString="s3cr3t")
    return arn


def test_secrets_keep_their_policy_and_not_their_value(session: AccountSession) -> None:
    arn = _seed()

    data, snapshot = run(session, "secretsmanager")

    assert snapshot.errors == []
    secrets = by_name(data["secrets"])
    assert secrets["db-password"]["_arn"] == secrets["db-password"]["ARN"] == arn
    assert json.loads(secrets["db-password"]["ResourcePolicy"]) == _POLICY
    assert secrets["api-token"]["ResourcePolicy"] is None
    assert "hunter2" not in json.dumps(data)


def test_denied_policy_is_unavailable_not_none(session: AccountSession) -> None:
    _seed()
    fail(session, "GetResourcePolicy")

    data, snapshot = run(session, "secretsmanager")

    for secret in data["secrets"]:
        assert marker_code(secret["ResourcePolicy"]) == "AccessDenied"
    assert [(e.operation, e.count) for e in snapshot.errors] == [
        ("secretsmanager:get_resource_policy", 2)
    ]
