"""ECS collector on moto: every active task definition with its task and execution roles, and
the clusters."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from mamori.aws import AccountSession
from tests.inventory.collecting import ROLE, fail, marker_code, moto_account, run

_CONTAINERS = [{"name": "app", "image": "nginx", "memory": 128}]


@pytest.fixture
def session() -> Iterator[AccountSession]:
    with moto_account() as account:
        yield account


def _seed() -> None:
    ecs = boto3.client("ecs", region_name="us-east-1")
    ecs.create_cluster(clusterName="prod")
    ecs.register_task_definition(
        family="web",
        taskRoleArn=f"{ROLE}web-task",
        executionRoleArn=f"{ROLE}ecs-exec",
        containerDefinitions=_CONTAINERS,
    )
    second = ecs.register_task_definition(
        family="web", taskRoleArn=f"{ROLE}web-task-v2", containerDefinitions=_CONTAINERS
    )
    ecs.register_task_definition(family="retired", containerDefinitions=_CONTAINERS)
    ecs.deregister_task_definition(taskDefinition="retired:1")
    assert second["taskDefinition"]["revision"] == 2


def test_active_task_definitions_keep_their_roles(session: AccountSession) -> None:
    _seed()

    data, snapshot = run(session, "ecs")

    assert snapshot.errors == []
    defs = {d["_name"]: d for d in data["task_definitions"]}
    # Both active revisions of "web" can be run; the deregistered one cannot.
    assert set(defs) == {"web:1", "web:2"}
    first = defs["web:1"]
    assert first["_arn"] == first["taskDefinitionArn"]
    assert first["_arn"] == "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"
    assert (first["taskRoleArn"], first["executionRoleArn"]) == (
        f"{ROLE}web-task",
        f"{ROLE}ecs-exec",
    )
    assert defs["web:2"]["taskRoleArn"] == f"{ROLE}web-task-v2"
    (cluster,) = data["clusters"]
    assert cluster == {
        "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
        "_arn": "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
        "_name": "prod",
    }


def test_denied_describe_marks_the_roles(session: AccountSession) -> None:
    _seed()
    fail(session, "DescribeTaskDefinition")

    data, snapshot = run(session, "ecs")

    assert len(data["task_definitions"]) == 2
    for definition in data["task_definitions"]:
        assert definition["_arn"].startswith("arn:aws:ecs:us-east-1:123456789012:task-definition/")
        assert marker_code(definition["taskRoleArn"]) == "AccessDenied"
        assert marker_code(definition["executionRoleArn"]) == "AccessDenied"
    assert data["clusters"][0]["_name"] == "prod"
    assert {(e.operation, e.count) for e in snapshot.errors} == {
        ("ecs:describe_task_definition", 2)
    }
