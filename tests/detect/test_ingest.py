"""Incremental ingest: Parquet parts, the ledger, bounded batches and error reporting."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest
from moto import mock_aws

from mamori.core import InputError
from mamori.detect import ingest as ingest_module
from mamori.detect.ingest import LEDGER_NAME, Source, dataset_files, ingest
from mamori.detect.readers import InputFile, ReadError, read_cloudtrail, read_file
from mamori.detect.schema import TABLES
from tests.detect.logfiles import (
    ACCOUNT,
    CT_DIR,
    DNS_DIR,
    FLOW_DIR,
    FLOW_V2_HEADER,
    FLOW_V2_LINES,
    REGION,
    assumed_role_call,
    cloudtrail_bytes,
    lines_bytes,
    put,
    write_tree,
)

ALL_KINDS = ("cloudtrail", "vpc-flow", "dns", "waf")


def _sources(location: str) -> list[Source]:
    return [Source(kind, location) for kind in ALL_KINDS]


def _rows(data_dir: Path, table: str) -> list[dict[str, Any]]:
    return [
        row for part in dataset_files(data_dir, table) for row in pq.read_table(part).to_pylist()
    ]


def _ledger(data_dir: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(data_dir / LEDGER_NAME) as db:
        return db.execute("SELECT uri, kind, records FROM ingested ORDER BY uri").fetchall()


def test_ingest_writes_every_table_then_skips_on_rerun(tmp_path: Path) -> None:
    logs, data = tmp_path / "logs", tmp_path / "data"
    expected = write_tree(logs)
    report = ingest(_sources(str(logs)), data)
    assert report.errors == []
    assert report.files_read == 4
    assert report.records == expected
    for name, table in TABLES.items():
        parts = dataset_files(data, name)
        assert parts and all(p.name.startswith("part-") for p in parts)
        assert pq.read_schema(parts[0]) == table.schema
        assert pq.ParquetFile(parts[0]).metadata.row_group(0).column(0).compression == "ZSTD"
        assert len(_rows(data, name)) == expected[name]
    assert {kind for _, kind, _ in _ledger(data)} == set(ALL_KINDS)

    again = ingest(_sources(str(logs)), data)
    assert (again.files_read, again.files_skipped) == (0, 4)
    assert again.records == dict.fromkeys(TABLES, 0)
    assert len(_rows(data, "events")) == expected["events"]


def test_changed_and_new_files_are_read_on_rerun(tmp_path: Path) -> None:
    logs, data = tmp_path / "logs", tmp_path / "data"
    first = put(logs, f"{CT_DIR}/a.json.gz", cloudtrail_bytes([assumed_role_call(0)]))
    ingest([Source("cloudtrail", str(logs))], data)
    put(logs, f"{CT_DIR}/b.json.gz", cloudtrail_bytes([assumed_role_call(1)]))
    first.write_bytes(cloudtrail_bytes([assumed_role_call(2), assumed_role_call(3)]))
    os.utime(first, ns=(10**18, 10**18))  # a new version stamp even on a coarse clock
    report = ingest([Source("cloudtrail", str(logs))], data)
    assert (report.files_read, report.files_skipped, report.records["events"]) == (2, 0, 3)


def test_batches_are_bounded_and_nothing_lost(tmp_path: Path) -> None:
    logs, data = tmp_path / "logs", tmp_path / "data"
    for n in range(6):
        put(logs, f"{CT_DIR}/small{n}.json.gz", cloudtrail_bytes([assumed_role_call(n)] * 2))
    put(logs, f"{CT_DIR}/big.json.gz", cloudtrail_bytes([assumed_role_call(i) for i in range(25)]))
    report = ingest([Source("cloudtrail", str(logs))], data, batch_records=8)
    sizes = [pq.ParquetFile(p).metadata.num_rows for p in dataset_files(data, "events")]
    assert sum(sizes) == report.records["events"] == 37
    assert len(sizes) >= 4
    assert max(sizes) <= 8 + 2  # a batch, plus at most one reader chunk of the spilled file
    assert sorted(p for p in report.parts) == dataset_files(data, "events")


def test_since_skips_older_delivery_days(tmp_path: Path) -> None:
    logs, data = tmp_path / "logs", tmp_path / "data"
    write_tree(logs)
    put(logs, f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2024/02/01/old.json", b"not even read")
    report = ingest([Source("cloudtrail", str(logs))], data, since="2024-03-01")
    assert (report.files_read, report.files_before_since, report.errors) == (1, 1, [])
    later = ingest([Source("cloudtrail", str(logs))], data, since="2024-03-06")
    assert later.files_before_since == 2
    with pytest.raises(InputError, match="--since 'last week'"):
        ingest([], data, since="last week")


def test_bad_files_are_each_named_and_retried_later(tmp_path: Path) -> None:
    logs, data = tmp_path / "logs", tmp_path / "data"
    write_tree(logs)
    good_gzip = cloudtrail_bytes([assumed_role_call(i) for i in range(30)])
    bad = {
        "corrupt.json.gz": good_gzip[:20] + b"\x00" * 40 + good_gzip[60:],
        "truncated.json.gz": good_gzip[: len(good_gzip) // 2],
        "cut.json": b'{"Records": [{"eventTime": "2024-03-05T10:00:00Z"',
        "digestlike.json": b'{"awsAccountId": "1", "logFiles": []}',
    }
    for name, content in bad.items():
        put(logs, f"{CT_DIR}/{name}", content)
    put(logs, f"{FLOW_DIR}/garbage.log", b"\xff\xfe\x00binary\x00")
    report = ingest(_sources(str(logs)), data)
    named = {Path(uri).name: message for uri, message in report.errors}
    assert set(named) == {*bad, "garbage.log"}
    assert "corrupt gzip" in named["corrupt.json.gz"]
    assert "truncated gzip" in named["truncated.json.gz"]
    assert "not valid JSON" in named["cut.json"]
    assert 'no "Records" list' in named["digestlike.json"]
    assert all(uri in message for uri, message in report.errors)
    assert report.files_read == 4
    assert report.records == {"events": 3, "flows": 3, "dns": 2, "waf": 2}
    assert len(_ledger(data)) == 4

    put(logs, f"{CT_DIR}/cut.json", cloudtrail_bytes([assumed_role_call(99)]))
    retry = ingest(_sources(str(logs)), data)
    assert retry.files_read == 1 and retry.records["events"] == 1
    assert len(retry.errors) == 5 - 1


def test_partly_bad_file_keeps_good_rows_and_is_reported(tmp_path: Path) -> None:
    logs, data = tmp_path / "logs", tmp_path / "data"
    lines = [FLOW_V2_HEADER, *FLOW_V2_LINES, "2 short line"]
    put(logs, f"{FLOW_DIR}/partial.log.gz", lines_bytes(lines))
    report = ingest([Source("vpc-flow", str(logs))], data)
    assert report.records["flows"] == 3
    [(uri, message)] = report.errors
    assert uri.endswith("partial.log.gz") and "1 record(s) skipped" in message
    assert [kind for _, kind, _ in _ledger(data)] == ["vpc-flow"]  # not retried: it would not help


def test_file_failing_midway_leaves_no_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file that breaks after some of its chunks were spilled to disk is rolled back."""
    logs, data = tmp_path / "logs", tmp_path / "data"
    put(logs, f"{CT_DIR}/fine.json.gz", cloudtrail_bytes([assumed_role_call(0)]))
    put(logs, f"{CT_DIR}/midway.json.gz", cloudtrail_bytes([assumed_role_call(1)]))
    chunk = next(read_cloudtrail(cloudtrail_bytes([assumed_role_call(2)] * 5), "x"))

    def breaking(kind: str, content: bytes, item: InputFile, **options: Any) -> Any:
        if not item.uri.endswith("midway.json.gz"):
            yield from read_file(kind, content, item, **options)
            return
        for _ in range(4):
            yield chunk
        raise ReadError(f"{item.uri}: broke part-way")

    monkeypatch.setattr(ingest_module, "read_file", breaking)
    report = ingest([Source("cloudtrail", str(logs))], data, batch_records=6)
    assert [message for _, message in report.errors] == [
        f"{logs / CT_DIR / 'midway.json.gz'}: broke part-way"
    ]
    assert report.files_read == 1 and report.records["events"] == 1
    assert [r["event_id"] for r in _rows(data, "events")] == ["evt-0"]
    assert not list((data / "events").glob(".part-*"))
    assert [Path(uri).name for uri, _, _ in _ledger(data)] == ["fine.json.gz"]


def test_bad_locations_are_reported_and_other_sources_still_read(tmp_path: Path) -> None:
    logs, data = tmp_path / "logs", tmp_path / "data"
    write_tree(logs)
    missing = str(tmp_path / "nowhere")
    report = ingest([Source("dns", missing), Source("dns", str(logs))], data)
    assert report.errors == [(missing, f"{missing}: no such file or folder")]
    assert report.records["dns"] == 2
    with pytest.raises(InputError, match="unknown log kind 'alb'"):
        Source("alb", str(logs))
    with pytest.raises(InputError, match="unknown table"):
        dataset_files(data, "alb")


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="org-trail")
        yield client


def _deny_key(client: Any, key: str) -> None:
    """Make GetObject of one key answer AccessDenied, as a bucket policy would."""

    class _Denied:
        status_code = 403
        headers: dict[str, str] = {}  # noqa: RUF012 - a stand-in HTTP response
        content = b""

    def handler(params: dict[str, Any], **_: Any) -> Any:
        # before-call sees the serialised request: the key is at the end of its URL path.
        if str(params.get("url_path", "")).endswith(key):
            return _Denied(), {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}
        return None

    client.meta.events.register("before-call.s3.GetObject", handler)


def test_s3_prefix_ingest_with_unreadable_objects(s3: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    ok_key = f"{CT_DIR}/{ACCOUNT}_CloudTrail_{REGION}_20240305T1000Z_ok.json.gz"
    denied_key = f"{CT_DIR}/denied.json.gz"
    cold_key = f"{CT_DIR}/archived.json.gz"
    body = cloudtrail_bytes([assumed_role_call(1), assumed_role_call(2)])
    s3.put_object(Bucket="org-trail", Key=ok_key, Body=body)
    s3.put_object(Bucket="org-trail", Key=denied_key, Body=body)
    s3.put_object(Bucket="org-trail", Key=cold_key, Body=body, StorageClass="GLACIER")
    s3.put_object(Bucket="org-trail", Key=f"{DNS_DIR}/q.log", Body=b"")
    _deny_key(s3, denied_key)
    report = ingest([Source("cloudtrail", "s3://org-trail/AWSLogs/")], data, s3_client=s3)
    errors = dict(report.errors)
    assert report.files_read == 1 and report.records["events"] == 2, errors
    assert "AccessDenied" in errors[f"s3://org-trail/{denied_key}"]
    assert "InvalidObjectState" in errors[f"s3://org-trail/{cold_key}"]
    rows = _rows(data, "events")
    assert {r["source_file"] for r in rows} == {f"s3://org-trail/{ok_key}"}

    again = ingest([Source("cloudtrail", "s3://org-trail/AWSLogs/")], data, s3_client=s3)
    assert (again.files_read, again.files_skipped, len(again.errors)) == (0, 1, 2)


def test_s3_missing_bucket_is_an_error_for_that_source(s3: Any, tmp_path: Path) -> None:
    report = ingest([Source("dns", "s3://absent-bucket/x/")], tmp_path / "d", s3_client=s3)
    [(where, message)] = report.errors
    assert where == "s3://absent-bucket/x/" and "NoSuchBucket" in message
