"""The AWS WAF log reader: fields, odd records, the delivery layouts, damaged files, and any line
read or counted as skipped, never a crash."""

from __future__ import annotations

import gzip
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.detect.ingest import LEDGER_NAME, Source, dataset_files, ingest
from mamori.detect.readers import Problems, ReadError, list_files, read_waf
from mamori.detect.schema import WAF
from tests.arbitrary import json_documents
from tests.detect.logfiles import ACCOUNT, REGION, WAF_DIR, WEB_ACL, put, waf_entry


def _read(lines: list[bytes], name: str = "f.log", **kw: Any) -> tuple[list[dict], Problems]:
    problems = Problems()
    data = b"\n".join(lines) + b"\n"
    tables = list(read_waf(data, name, problems=problems, **kw))
    return [row for t in tables for row in t.to_pylist()], problems


def test_every_promoted_field() -> None:
    counted = {
        "ruleGroupId": "AWS#AWSManagedRulesSQLiRuleSet",
        "terminatingRule": None,
        "nonTerminatingMatchingRules": [{"ruleId": "SQLi_QUERYARGUMENTS", "action": "COUNT"}],
        "excludedRules": [{"exclusionType": "EXCLUDED_AS_COUNT", "ruleId": "SQLi_BODY"}],
    }
    entry = waf_entry(
        ruleGroupList=[counted],
        nonTerminatingMatchingRules=[{"ruleId": "MyCountRule", "action": "COUNT"}],
        responseCodeSent=404,
    )
    [row], problems = _read([orjson.dumps(entry)])
    assert problems.skipped == 0
    assert row["request_time"] == datetime(2024, 3, 5, 10, 0, 0, 123000, tzinfo=UTC)
    assert (row["account_id"], row["region"], row["web_acl"]) == (ACCOUNT, REGION, WEB_ACL)
    assert row["web_acl_id"] == entry["webaclId"]
    assert (row["source_name"], row["source_id"]) == ("ALB", entry["httpSourceId"])
    assert (row["action"], row["terminating_rule_id"], row["terminating_rule_type"]) == (
        "ALLOW",
        "Default_Action",
        "REGULAR",
    )
    assert (row["client_ip"], row["country"], row["http_method"]) == ("198.51.100.7", "DE", "GET")
    assert row["host"] == "shop.example.com"  # lower case, without the port
    assert (row["uri"], row["args"], row["http_version"]) == ("/products", "id=7", "HTTP/2.0")
    assert (row["user_agent"], row["referrer"]) == ("curl/8.5.0", "https://example.org/")
    assert row["labels"] == ["awswaf:managed:aws:core-rule-set:NoUserAgent_Header"]
    assert row["counted_rules"] == [
        "MyCountRule",
        "AWS#AWSManagedRulesSQLiRuleSet/SQLi_QUERYARGUMENTS",
        "AWS#AWSManagedRulesSQLiRuleSet/SQLi_BODY",
    ]
    assert row["response_code"] == 404
    assert row["request_id"] == entry["httpRequest"]["requestId"]
    assert row["ja3"] == entry["ja3Fingerprint"]
    assert (row["source_file"], orjson.loads(row["raw"])) == ("f.log", entry)


def test_odd_records_keep_what_they_can() -> None:
    bare = {"timestamp": "1709632800000", "action": "BLOCK"}
    odd_request = waf_entry(
        webaclId="not an arn",
        httpRequest={"headers": "nope", "uri": 7, "clientIp": ["x"]},
        labels="nope",
        ruleGroupList={"a": 1},
        nonTerminatingMatchingRules=[None, 3],
    )
    ipv6 = waf_entry()
    ipv6["httpRequest"]["headers"] = [{"name": "HOST", "value": "[2001:DB8::1]:8443"}, 5]
    scalar_rules = waf_entry(nonTerminatingMatchingRules=True)  # not a list: no rules, no crash
    rows, problems = _read(
        [orjson.dumps(r) for r in (bare, odd_request, ipv6, scalar_rules)],
        account="123",
        region="eu-x-1",
    )
    assert problems.skipped == 0
    first, second, third, fourth = rows
    assert fourth["counted_rules"] == []
    assert first["request_time"] == datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
    assert (first["account_id"], first["region"], first["web_acl"]) == ("123", "eu-x-1", None)
    assert first["labels"] == [] and first["host"] is None and first["client_ip"] is None
    assert second["web_acl"] == "not an arn" and second["account_id"] == "123"
    assert (second["uri"], second["client_ip"], second["host"]) == ("7", '["x"]', None)
    assert second["labels"] == [] and second["counted_rules"] == []
    assert third["host"] == "[2001:db8::1]" and third["user_agent"] is None


@pytest.mark.parametrize(
    "timestamp", [None, "soon", -1, 10**18, True, 1.5e12, "1709632800000.5", 253402300800000]
)
def test_a_record_without_a_valid_time_is_skipped_and_counted(timestamp: object) -> None:
    rows, problems = _read([orjson.dumps(waf_entry(timestamp=timestamp))])
    assert rows == []
    assert problems.reasons == {"missing or invalid timestamp": 1}


def test_cloudwatch_exports_and_subscription_payloads() -> None:
    record = orjson.dumps(waf_entry())
    exported = b"2024-03-05T10:00:00.123Z " + record
    payload = orjson.dumps(
        {
            "messageType": "DATA_MESSAGE",
            "logGroup": "aws-waf-logs-shop",
            "logEvents": [
                {"id": "1", "timestamp": 1, "message": record.decode()},
                {"id": "2", "timestamp": 2, "message": "{cut"},
                {"id": "3", "timestamp": 3},
            ],
        }
    )
    rows, problems = _read([exported, payload, b"", b"[1, 2]"])
    assert [r["request_id"] for r in rows] == [waf_entry()["httpRequest"]["requestId"]] * 2
    assert problems.reasons == {
        "line is not valid JSON": 1,
        "log event without a message": 1,
        "line is not a JSON object": 1,
    }


def test_a_truncated_last_line_loses_only_itself() -> None:
    good = orjson.dumps(waf_entry())
    rows, problems = _read([good, good[: len(good) // 2]])
    assert len(rows) == 1
    assert problems.reasons == {"line is not valid JSON": 1}


def test_a_corrupt_gzip_is_refused_by_name() -> None:
    data = gzip.compress(orjson.dumps(waf_entry()) * 50)
    with pytest.raises(ReadError, match=r"corrupt gzip|truncated gzip"):
        list(read_waf(data[:40] + b"\x00" * 30 + data[70:], "x.log.gz"))
    with pytest.raises(ReadError, match="not a gzip file"):
        list(read_waf(b"{}", "y.log.gz"))


_KEYS = [
    "timestamp",
    "webaclId",
    "action",
    "httpRequest",
    "headers",
    "name",
    "value",
    "labels",
    "ruleGroupList",
    "nonTerminatingMatchingRules",
    "ruleId",
    "logEvents",
    "message",
    "responseCodeSent",
]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.lists(
        st.one_of(
            json_documents(_KEYS).map(lambda doc: json.dumps(doc).encode()),
            st.binary(max_size=60).filter(lambda b: b"\n" not in b and b"\r" not in b),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_any_line_is_read_or_counted_never_a_crash(lines: list[bytes]) -> None:
    problems = Problems()
    # A leading newline: bytes that begin like gzip are a whole file refused, not a line.
    tables = list(read_waf(b"\n" + b"\n".join(lines), "fuzz.log", problems=problems))
    for table in tables:
        assert table.schema == WAF.schema
        assert table.num_rows > 0
    assert all(count > 0 for count in problems.reasons.values())


def test_ingest_from_the_s3_layout_is_incremental_and_names_bad_files(tmp_path: Path) -> None:
    logs, data = tmp_path / "logs", tmp_path / "data"
    name = f"{ACCOUNT}_waflogs_{REGION}_{WEB_ACL}_20240305T1000Z_a.log.gz"
    records = [orjson.dumps(waf_entry(timestamp=1709632800000 + i)) for i in range(3)]
    put(logs, f"{WAF_DIR}/{name}", gzip.compress(b"\n".join(records)))
    put(logs, f"{WAF_DIR}/cut.log", b"\n".join([*records[:1], records[1][:30]]))
    whole = gzip.compress(b"\n".join(records))
    put(logs, f"{WAF_DIR}/corrupt.log.gz", whole[:25] + b"\x00" * 20 + whole[45:])
    [listed] = [f for f in list_files(str(logs), "waf") if f.uri.endswith(name)]
    assert (listed.account, listed.region, listed.day) == (
        ACCOUNT,
        REGION,
        datetime(2024, 3, 5).date(),
    )

    report = ingest([Source("waf", str(logs))], data)
    assert report.records["waf"] == 4 and report.files_read == 2
    errors = dict(report.errors)
    assert {Path(uri).name for uri in errors} == {"cut.log", "corrupt.log.gz"}
    assert all(Path(uri).name in message for uri, message in report.errors)
    assert (
        "1 record(s) skipped: line is not valid JSON (1)" in errors[str(logs / WAF_DIR / "cut.log")]
    )
    rows = [r for part in dataset_files(data, "waf") for r in pq.read_table(part).to_pylist()]
    assert len(rows) == 4
    with sqlite3.connect(data / LEDGER_NAME) as db:
        ledger = sorted(Path(u).name for (u,) in db.execute("SELECT uri FROM ingested"))
    assert ledger == sorted(["cut.log", name])  # the corrupt file is retried next time

    again = ingest([Source("waf", str(logs))], data)
    assert (again.files_read, again.files_skipped, again.records["waf"]) == (0, 2, 0)
    assert [Path(uri).name for uri, _ in again.errors] == ["corrupt.log.gz"]
