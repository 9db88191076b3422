"""SNS collector on moto: topics with their attributes (the access policy among them) next to
the subscriptions."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from mamori.aws import AccountSession
from tests.inventory.collecting import by_name, fail, marker_code, moto_account, run

_OPEN = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": "*"}],
}


@pytest.fixture
def session() -> Iterator[AccountSession]:
    with moto_account() as account:
        yield account


def _seed() -> str:
    sns = boto3.client("sns", region_name="us-east-1")
    alerts = str(sns.create_topic(Name="alerts")["TopicArn"])
    sns.set_topic_attributes(
        TopicArn=alerts, AttributeName="Policy", AttributeValue=json.dumps(_OPEN)
    )
    sns.create_topic(Name="internal")
    sns.subscribe(TopicArn=alerts, Protocol="email", Endpoint="ops@example.com")
    return alerts


def test_topics_keep_their_policy(session: AccountSession) -> None:
    alerts = _seed()

    data, snapshot = run(session, "sns")

    assert snapshot.errors == []
    topics = by_name(data["topics"])
    assert set(topics) == {"alerts", "internal"}
    assert topics["alerts"]["_arn"] == topics["alerts"]["TopicArn"] == alerts
    assert json.loads(topics["alerts"]["Attributes"]["Policy"]) == _OPEN
    # Every topic has a policy (AWS writes a default one); it is kept as AWS gives it.
    assert "Policy" in topics["internal"]["Attributes"]
    assert [s["TopicArn"] for s in data["subscriptions"]] == [alerts]


def test_denied_attributes_are_unavailable(session: AccountSession) -> None:
    _seed()
    fail(session, "GetTopicAttributes")

    data, _ = run(session, "sns")

    assert all(marker_code(t["Attributes"]) == "AccessDenied" for t in data["topics"])
    assert len(data["subscriptions"]) == 1
