"""Pushing to Security Hub (moto): findings land in their home region in batches within the
API's limits, refusals are reported, archived and stale findings are archived there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.core import RecordState
from mamori.exports.securityhub import MAX_BYTES, batches, push
from mamori.hub import Store
from tests.hub.builders import posture


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def _client(region: str) -> Any:
    return boto3.client("securityhub", region_name=region)


def _held(region: str) -> dict[str, str]:
    """Finding id -> record state, as Security Hub holds them."""
    pages = _client(region).get_paginator("get_findings").paginate()
    return {f["Id"]: f["RecordState"] for page in pages for f in page["Findings"]}


def test_batches_keep_to_count_and_size() -> None:
    small = [{"Id": str(i)} for i in range(250)]
    assert [len(b) for b in batches(small)] == [100, 100, 50]
    big = [{"Id": str(i), "Description": "x" * (MAX_BYTES // 3)} for i in range(4)]
    assert [len(b) for b in batches(big)] == [2, 2]


def test_push_to_home_regions_and_archive_stale(aws: None) -> None:
    east = [posture(f"b{i}") for i in range(150)]
    west = posture("w", region="eu-west-1")
    gone = posture("gone").model_copy(update={"record_state": RecordState.ARCHIVED})
    report = push([*east, west, gone], _client)
    assert (report.imported, report.failed, report.regions) == (152, [], ["eu-west-1", "us-east-1"])
    held = _held("us-east-1")
    assert len(held) == 151 and held[gone.id] == "ARCHIVED"
    assert list(_held("eu-west-1")) == [west.id]
    # Next push: b0 is no longer in the store; Security Hub's copy is archived.
    again = push(east[1:], _client, regions=["us-east-1"])
    assert (again.imported, again.archived_stale) == (149, 1)
    assert _held("us-east-1")[east[0].id] == "ARCHIVED"


def test_cli_push_only_failed(aws: None, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    with Store.open(url) as store:
        store.write([posture("bad"), posture("good", status="PASSED")])
    result = CliRunner().invoke(
        app, ["findings", "push-securityhub", "--region", "us-east-1", "--only-failed", "--db", url]
    )
    assert result.exit_code == 0, result.output
    assert "1 imported, 0 stale archived, 0 refused, in us-east-1" in result.output
    [(fid, state)] = _held("us-east-1").items()
    assert fid == posture("bad").id and state == "ACTIVE"
