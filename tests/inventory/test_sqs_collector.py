"""SQS collector on moto: queues with their policy; a queue whose attributes cannot be read is
still named, with its attributes unknown."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from mamori.aws import AccountSession
from tests.inventory.collecting import by_name, fail, marker_code, moto_account, run

_ARN = "arn:aws:sqs:us-east-1:123456789012:"


@pytest.fixture
def session() -> Iterator[AccountSession]:
    with moto_account() as account:
        yield account


def _policy(queue: str) -> str:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
        "Action": "sqs:SendMessage",
        "Resource": f"{_ARN}{queue}",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _seed() -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    sqs.create_queue(QueueName="shared", Attributes={"Policy": _policy("shared")})
    sqs.create_queue(QueueName="private")


def test_queues_keep_their_policy(session: AccountSession) -> None:
    _seed()

    data, snapshot = run(session, "sqs")

    assert snapshot.errors == []
    queues = by_name(data["queues"])
    assert set(queues) == {"shared", "private"}
    shared = queues["shared"]
    assert shared["_arn"] == shared["Attributes"]["QueueArn"] == f"{_ARN}shared"
    assert shared["QueueUrl"].endswith("/123456789012/shared")
    assert json.loads(shared["Attributes"]["Policy"]) == json.loads(_policy("shared"))
    # No policy: AWS leaves the attribute out.
    assert queues["private"]["Attributes"] == {"QueueArn": f"{_ARN}private"}


def test_unreadable_attributes_keep_the_queue_named(session: AccountSession) -> None:
    _seed()
    refused = fail(session, "GetQueueAttributes", when=lambda p: p["QueueUrl"].endswith("/shared"))

    data, snapshot = run(session, "sqs")

    assert len(refused) == 1
    queues = by_name(data["queues"])
    assert queues["shared"]["_arn"] == f"{_ARN}shared"
    assert marker_code(queues["shared"]["Attributes"]) == "AccessDenied"
    assert "QueueArn" in queues["private"]["Attributes"]
    assert [e.operation for e in snapshot.errors] == ["sqs:get_queue_attributes"]
