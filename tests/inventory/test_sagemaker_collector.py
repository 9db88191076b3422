"""SageMaker collector on moto: notebook instances with the role and internet access that only
the per-instance call answers."""

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


def _notebook() -> str:
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    answer = sagemaker.create_notebook_instance(
        NotebookInstanceName="research",
        InstanceType="ml.t2.medium",
        RoleArn=f"{ROLE}sagemaker-research",
        DirectInternetAccess="Enabled",
    )
    return str(answer["NotebookInstanceArn"])


def test_notebooks_keep_role_and_internet_access(session: AccountSession) -> None:
    arn = _notebook()

    data, snapshot = run(session, "sagemaker")

    assert snapshot.errors == []
    (notebook,) = data["notebook_instances"]
    assert notebook["_arn"] == notebook["NotebookInstanceArn"] == arn
    assert notebook["_name"] == "research"
    assert notebook["RoleArn"] == f"{ROLE}sagemaker-research"
    assert notebook["DirectInternetAccess"] == "Enabled"


def test_denied_describe_marks_the_described_fields(session: AccountSession) -> None:
    arn = _notebook()
    fail(session, "DescribeNotebookInstance")

    data, _ = run(session, "sagemaker")

    (notebook,) = data["notebook_instances"]
    assert notebook["_arn"] == arn
    for field in ("RoleArn", "DirectInternetAccess", "RootAccess"):
        assert marker_code(notebook[field]) == "AccessDenied", field
