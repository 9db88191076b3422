"""CodeBuild collector on moto: projects with their service role, read 100 names at a time;
a failed batch keeps its projects' names with the role unknown."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from mamori.aws import AccountSession, CallCounter
from tests.inventory.collecting import ROLE, fail, marker_code, moto_account, run


@pytest.fixture
def session() -> Iterator[AccountSession]:
    with moto_account() as account:
        yield account


def _project(name: str, role: str) -> None:
    boto3.client("codebuild", region_name="us-east-1").create_project(
        name=name,
        source={"type": "S3", "location": "builds-bucket/source.zip"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
        },
        serviceRole=role,
    )


def test_projects_keep_their_service_role(session: AccountSession) -> None:
    _project("build-app", f"{ROLE}builder")

    data, snapshot = run(session, "codebuild")

    assert snapshot.errors == []
    (project,) = data["projects"]
    assert project["_name"] == project["name"] == "build-app"
    assert project["_arn"] == project["arn"]
    assert project["_arn"].endswith(":project/build-app")
    assert project["serviceRole"] == f"{ROLE}builder"


def test_more_than_a_hundred_projects_take_two_batches(session: AccountSession) -> None:
    for i in range(101):
        _project(f"p{i:03d}", f"{ROLE}builder")
    counter = CallCounter()
    session.session.events.register("before-call", counter)

    data, _ = run(session, "codebuild")

    assert len(data["projects"]) == 101
    assert counter.by_operation["codebuild:BatchGetProjects"] == 2


def test_failed_batch_keeps_names_with_role_unknown(session: AccountSession) -> None:
    _project("build-app", f"{ROLE}builder")
    fail(session, "BatchGetProjects")

    data, snapshot = run(session, "codebuild")

    (project,) = data["projects"]
    assert project["_name"] == "build-app"
    assert project["_arn"] == "arn:aws:codebuild:us-east-1:123456789012:project/build-app"
    assert marker_code(project["serviceRole"]) == "AccessDenied"
    assert [e.operation for e in snapshot.errors] == ["codebuild:batch_get_projects"]


def test_denied_listing_is_unavailable(session: AccountSession) -> None:
    fail(session, "ListProjects")
    data, _ = run(session, "codebuild")
    assert marker_code(data["projects"]) == "AccessDenied"
