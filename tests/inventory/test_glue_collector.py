"""Glue collector on moto: dev endpoints and jobs with the role they run as."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from mamori.aws import AccountSession
from tests.inventory.collecting import ROLE, fail, marker_code, moto_account, run


@pytest.fixture
def session() -> Iterator[AccountSession]:
    with moto_account() as account:
        yield account


def _seed() -> None:
    glue = boto3.client("glue", region_name="us-east-1")
    glue.create_dev_endpoint(
        EndpointName="notebook-dev", RoleArn=f"{ROLE}glue-dev", PublicKeys=["ssh-rsa AAAA test"]
    )
    glue.create_job(Name="nightly-etl", Role=f"{ROLE}glue-etl", Command={"Name": "glueetl"})


def test_endpoints_and_jobs_keep_their_role(session: AccountSession) -> None:
    _seed()

    data, snapshot = run(session, "glue")

    assert snapshot.errors == []
    (endpoint,) = data["dev_endpoints"]
    assert endpoint["_name"] == endpoint["EndpointName"] == "notebook-dev"
    assert endpoint["_arn"] == "arn:aws:glue:us-east-1:123456789012:devEndpoint/notebook-dev"
    assert endpoint["RoleArn"] == f"{ROLE}glue-dev"
    (job,) = data["jobs"]
    assert job["_name"] == job["Name"] == "nightly-etl"
    assert job["_arn"] == "arn:aws:glue:us-east-1:123456789012:job/nightly-etl"
    assert job["Role"] == f"{ROLE}glue-etl"


def test_denied_jobs_leave_the_endpoints(session: AccountSession) -> None:
    _seed()
    fail(session, "GetJobs")

    data, snapshot = run(session, "glue")

    assert marker_code(data["jobs"]) == "AccessDenied"
    assert [e["_name"] for e in data["dev_endpoints"]] == ["notebook-dev"]
    assert [e.operation for e in snapshot.errors] == ["glue:get_jobs"]
