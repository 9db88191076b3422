"""The readers: each log kind into its table, exactly the schema's columns and types."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime
from pathlib import Path

import boto3
import orjson
import pyarrow as pa
import pytest
from moto import mock_aws

from mamori.core import InputError
from mamori.detect.readers import (
    Problems,
    ReadError,
    list_files,
    path_facts,
    read_cloudtrail,
    read_dns,
    read_flows,
)
from mamori.detect.readers.common import inflate
from mamori.detect.schema import DNS, EVENTS, FLOWS
from tests.detect.logfiles import (
    ACCOUNT,
    CT_DIR,
    DNS_DIR,
    FLOW_DIR,
    FLOW_V2_HEADER,
    FLOW_V2_LINES,
    FLOW_V5_HEADER,
    FLOW_V5_LINES,
    REGION,
    VPC,
    assumed_role_call,
    cloudtrail_bytes,
    dns_bytes,
    dns_entry,
    lines_bytes,
    put,
    s3_data_event,
    write_tree,
)


def _one(tables: list[pa.Table]) -> pa.Table:
    return pa.concat_tables(tables)


# CloudTrail ------------------------------------------------------------------------------------


def test_cloudtrail_columns_follow_the_schema_mapping() -> None:
    table = _one(list(read_cloudtrail(cloudtrail_bytes([assumed_role_call(7)]), "ct.json.gz")))
    assert table.schema == EVENTS.schema
    row = table.to_pylist()[0]
    assert row["event_id"] == "evt-7"
    assert row["event_time"] == datetime(2024, 3, 5, 10, 7, tzinfo=UTC)
    assert row["account_id"] == ACCOUNT
    assert row["region"] == "us-east-1"
    assert (row["event_source"], row["event_name"]) == ("iam.amazonaws.com", "AttachRolePolicy")
    assert row["read_only"] is False
    assert row["management_event"] is True
    assert row["principal_type"] == "AssumedRole"
    assert row["principal_arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/Deployer/alice"
    assert row["principal_name"] == "Deployer"
    assert row["session_issuer_arn"] == f"arn:aws:iam::{ACCOUNT}:role/Deployer"
    assert row["session_name"] == "alice"
    assert row["access_key_id"] == "ASIAEXAMPLEKEY000001"
    assert row["mfa_authenticated"] is True
    assert row["source_ip"] == "203.0.113.10"
    assert orjson.loads(row["request_parameters"])["roleName"] == "Deployer"
    assert row["response_elements"] is None
    assert row["resources"] == ["arn:aws:iam::aws:policy/AdministratorAccess"]
    assert row["source_file"] == "ct.json.gz"
    assert orjson.loads(row["raw"]) == assumed_role_call(7)


def test_s3_data_event_is_not_a_management_event() -> None:
    table = _one(list(read_cloudtrail(cloudtrail_bytes([s3_data_event()]), "s3.json.gz")))
    row = table.to_pylist()[0]
    assert row["management_event"] is False
    assert row["principal_name"] == "bob"
    assert row["session_name"] is None
    assert row["mfa_authenticated"] is None
    assert row["resources"] == ["arn:aws:s3:::payroll/2024/salaries.csv", "arn:aws:s3:::payroll"]
    assert row["vpc_endpoint_id"] == "vpce-0123"


def test_cloudtrail_plain_json_and_odd_timestamps() -> None:
    records = [
        assumed_role_call(0, eventTime="2024-03-05T10:00:00.250Z"),
        assumed_role_call(1, eventTime="2024-03-05T11:00:00+01:00"),
    ]
    data = orjson.dumps({"Records": records})
    table = _one(list(read_cloudtrail(data, "plain.json")))
    assert table.column("event_time").to_pylist() == [
        datetime(2024, 3, 5, 10, 0, 0, 250000, tzinfo=UTC),
        datetime(2024, 3, 5, 10, 0, tzinfo=UTC),
    ]


def test_cloudtrail_unusable_records_are_counted_not_kept() -> None:
    problems = Problems()
    records = [assumed_role_call(0), "not a record", assumed_role_call(1, eventTime="yesterday")]
    tables = list(read_cloudtrail(cloudtrail_bytes(records), "x.json.gz", problems=problems))
    assert _one(tables).column("event_id").to_pylist() == ["evt-0"]
    assert problems.skipped == 2
    assert "eventTime" in problems.summary()
    assert "not a JSON object" in problems.summary()


def test_cloudtrail_chunks_are_bounded() -> None:
    records = [assumed_role_call(i) for i in range(10)]
    sizes = [t.num_rows for t in read_cloudtrail(cloudtrail_bytes(records), "c", chunk_rows=4)]
    assert sizes == [4, 4, 2]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (gzip.compress(b'{"not": "cloudtrail"}'), 'no "Records" list'),
        (gzip.compress(b'{"Records": [{"eventTime": '), "not valid JSON"),
        (gzip.compress(b"[1, 2]"), 'no "Records" list'),
        (b"plain text, no gzip", "not a gzip file"),
        (cloudtrail_bytes([assumed_role_call(i) for i in range(20)])[:300], "truncated gzip"),
    ],
    ids=["no-records", "truncated-json", "json-list", "not-gzip", "truncated-gzip"],
)
def test_cloudtrail_bad_files_raise_naming_the_file(data: bytes, message: str) -> None:
    with pytest.raises(ReadError, match=message) as caught:
        list(read_cloudtrail(data, "AWSLogs/bad.json.gz"))
    assert "AWSLogs/bad.json.gz" in str(caught.value)


# VPC Flow Logs ---------------------------------------------------------------------------------


def test_flow_default_format_with_nodata() -> None:
    data = lines_bytes([FLOW_V2_HEADER, *FLOW_V2_LINES])
    table = _one(list(read_flows(data, "f.log.gz", region=REGION)))
    assert table.schema == FLOWS.schema
    rows = table.to_pylist()
    assert rows[0]["src_addr"] == "10.0.1.5"
    assert (rows[0]["src_port"], rows[0]["dst_port"], rows[0]["protocol"]) == (44321, 443, 6)
    assert (rows[0]["packets"], rows[0]["bytes"]) == (10, 8400)
    assert rows[0]["start_time"] == datetime.fromtimestamp(1709600000, UTC)
    assert rows[0]["end_time"] == datetime.fromtimestamp(1709600060, UTC)
    assert (rows[1]["action"], rows[1]["log_status"]) == ("REJECT", "OK")
    assert rows[0]["region"] == REGION  # not in the format: from the delivery path
    assert rows[0]["account_id"] == ACCOUNT
    nodata = rows[2]
    assert nodata["log_status"] == "NODATA"
    assert nodata["src_addr"] is None and nodata["packets"] is None and nodata["action"] is None
    assert nodata["start_time"] is not None
    assert [r["raw"] for r in rows] == FLOW_V2_LINES
    assert rows[0]["version"] == 2 and rows[0]["flow_direction"] is None


def test_flow_custom_v5_field_order_from_header() -> None:
    table = _one(list(read_flows(lines_bytes([FLOW_V5_HEADER, *FLOW_V5_LINES]), "v5.log.gz")))
    rows = table.to_pylist()
    assert rows[0]["flow_direction"] == "egress"
    assert rows[1]["flow_direction"] == "ingress"
    assert rows[1]["pkt_src_addr"] == "192.0.2.77"
    assert rows[1]["src_addr"] == "52.94.1.1"
    assert rows[0]["instance_id"] == "i-0123" and rows[0]["vpc_id"] == VPC
    assert (rows[0]["bytes"], rows[0]["packets"], rows[0]["tcp_flags"]) == (5200, 12, 19)
    assert rows[0]["version"] == 5
    assert rows[0]["account_id"] is None  # neither in the format nor given
    assert rows[1]["raw"] == FLOW_V5_LINES[1]  # traffic-path has no column but stays in raw


def test_flow_without_header_is_read_as_default_format() -> None:
    table = _one(list(read_flows(lines_bytes(FLOW_V2_LINES, compress=False), "cwl.txt")))
    assert table.num_rows == 3
    assert table.column("dst_port").to_pylist()[:2] == [443, 22]


def test_flow_bad_lines_are_counted_and_the_rest_kept() -> None:
    problems = Problems()
    lines = [
        FLOW_V2_HEADER,
        FLOW_V2_LINES[0],
        "2 too few fields",
        FLOW_V2_LINES[1].replace(" 22 ", " ssh "),
        FLOW_V2_LINES[1].replace(" 6 3 ", " 99999999 3 "),  # protocol beyond int16
    ]
    table = _one(list(read_flows(lines_bytes(lines), "f.log.gz", problems=problems)))
    assert table.num_rows == 1
    assert problems.reasons == {
        "wrong number of fields": 1,
        "non-numeric value in a numeric field": 2,
    }


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["version srcaddr version", "2 1.1.1.1 2"], "names a field twice"),
        (["alpha beta", "1 2"], "names no VPC Flow Logs field"),
        (["1 2 3", "4 5 6"], "no header line"),
    ],
    ids=["duplicate", "unknown-fields", "headerless-odd-width"],
)
def test_flow_unreadable_headers(lines: list[str], message: str) -> None:
    with pytest.raises(ReadError, match=message):
        list(read_flows(lines_bytes(lines), "f.log.gz"))


# DNS -------------------------------------------------------------------------------------------


def test_dns_query_log_lines() -> None:
    data = dns_bytes([dns_entry(), dns_entry(".", srcids={"resolver_endpoint": "rslvr-1"})])
    table = _one(list(read_dns(data, "q.log.gz")))
    assert table.schema == DNS.schema
    rows = table.to_pylist()
    assert rows[0]["query_name"] == "example.com"
    assert rows[0]["query_time"] == datetime(2024, 3, 5, 12, 0, 1, tzinfo=UTC)
    assert rows[0]["answers"] == ["93.184.216.34"]
    assert rows[0]["src_port"] == 53211
    assert rows[0]["instance_id"] == "i-0123"
    assert (rows[0]["vpc_id"], rows[0]["rcode"], rows[0]["transport"]) == (VPC, "NOERROR", "UDP")
    assert orjson.loads(rows[0]["raw"]) == dns_entry()
    assert rows[1]["query_name"] == "."  # the root keeps its dot
    assert rows[1]["instance_id"] is None


def test_dns_truncated_and_odd_lines_are_counted() -> None:
    good = orjson.dumps(dns_entry())
    data = b"\n".join([good, b"[1]", good[: len(good) // 2]])
    problems = Problems()
    table = _one(list(read_dns(data, "q.log", problems=problems)))
    assert table.num_rows == 1
    assert problems.reasons == {"line is not a JSON object": 1, "line is not valid JSON": 1}


# Decompression ---------------------------------------------------------------------------------


def test_inflate_multi_member_gzip_and_bomb_limit() -> None:
    data = gzip.compress(b"first\n") + gzip.compress(b"second\n")
    assert inflate(data, "m.gz") == b"first\nsecond\n"
    with pytest.raises(ReadError, match="inflates to more than"):
        inflate(gzip.compress(b"0" * 10_000), "bomb.gz", limit=1000)
    with pytest.raises(ReadError, match="trailing garbage"):
        inflate(gzip.compress(b"x") + b"junk", "t.gz")


# Sources ---------------------------------------------------------------------------------------


def test_path_facts_for_each_layout() -> None:
    ct = path_facts(f"logs/AWSLogs/o-abc123/{ACCOUNT}/CloudTrail/{REGION}/2024/03/05/f.json.gz")
    assert (ct.kind, ct.account, ct.region, ct.day) == (
        "cloudtrail",
        ACCOUNT,
        REGION,
        date(2024, 3, 5),
    )
    flow = path_facts(f"{FLOW_DIR}/13/f.log.gz")
    assert (flow.kind, flow.region, flow.day) == ("vpc-flow", REGION, date(2024, 3, 5))
    hive = path_facts(
        f"AWSLogs/aws-account-id={ACCOUNT}/aws-service=vpcflowlogs/aws-region={REGION}/"
        "year=2024/month=3/day=5/f.log.gz"
    )
    assert (hive.kind, hive.account, hive.region, hive.day) == (
        "vpc-flow",
        ACCOUNT,
        REGION,
        date(2024, 3, 5),
    )
    dns = path_facts(f"{DNS_DIR}/f.log.gz")
    assert (dns.kind, dns.account, dns.region, dns.day) == (
        "dns",
        ACCOUNT,
        None,
        date(2024, 3, 5),
    )
    assert path_facts(f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/2024/03/05/d.json.gz").excluded
    # A folder named like a marker above AWSLogs/ is the user's, not the layout.
    assert path_facts(f"CloudTrail/{DNS_DIR}/f.log").kind == "dns"


def test_loose_files_beside_a_delivery_layout_are_not_logs(tmp_path: Path) -> None:
    write_tree(tmp_path)
    put(tmp_path, "labels.json", b"[]")  # what `mamori demo logs` writes beside AWSLogs/
    for kind in ("cloudtrail", "dns"):
        assert "labels.json" not in [Path(f.uri).name for f in list_files(str(tmp_path), kind)]
    # A folder of loose files without the layout is still read.
    put(tmp_path / "loose", "export.json", b'{"Records": []}')
    assert [Path(f.uri).name for f in list_files(str(tmp_path / "loose"), "cloudtrail")] == [
        "export.json"
    ]


def test_local_listing_picks_each_kind_from_a_shared_tree(tmp_path: Path) -> None:
    write_tree(tmp_path)
    put(tmp_path, f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/2024/03/05/d.json.gz", b"{}")
    put(tmp_path, f"{CT_DIR}/notes.txt", b"not a log")
    put(tmp_path, f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2024/03/01/old.json", b"{}")
    names = {
        kind: [Path(f.uri).name for f in list_files(str(tmp_path), kind)]
        for kind in ("cloudtrail", "vpc-flow", "dns")
    }
    assert names["cloudtrail"] == [
        "old.json",
        f"{ACCOUNT}_CloudTrail_{REGION}_20240305T1000Z_a.json.gz",
    ]
    assert len(names["vpc-flow"]) == 1 and names["vpc-flow"][0].endswith(".log.gz")
    assert len(names["dns"]) == 1 and "vpcdnsquerylogs" in names["dns"][0]
    recent = list(list_files(str(tmp_path), "cloudtrail", since=date(2024, 3, 2)))
    assert [f.day for f in recent] == [date(2024, 3, 5)]
    assert recent[0].account == ACCOUNT and recent[0].region == REGION and recent[0].size > 0


def test_listing_errors_name_the_location(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        list(list_files(str(tmp_path / "missing"), "dns"))
    with pytest.raises(InputError, match="unknown log kind"):
        list(list_files(str(tmp_path), "alb"))


def test_s3_listing_in_delivery_layout() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="trail-bucket")
        key = f"org/{CT_DIR}/{ACCOUNT}_CloudTrail_{REGION}_20240305T1000Z_a.json.gz"
        s3.put_object(Bucket="trail-bucket", Key=key, Body=cloudtrail_bytes([s3_data_event()]))
        s3.put_object(Bucket="trail-bucket", Key=f"org/{FLOW_DIR}/f.log.gz", Body=b"x")
        files = list(list_files("s3://trail-bucket/org/", "cloudtrail", s3_client=s3))
        assert [f.uri for f in files] == [f"s3://trail-bucket/{key}"]
        head = s3.head_object(Bucket="trail-bucket", Key=key)
        assert files[0].stamp == head["ETag"].strip('"')
        assert (files[0].account, files[0].region) == (ACCOUNT, REGION)
        with pytest.raises(InputError, match=r"s3://no-such-bucket/.*NoSuchBucket"):
            list(list_files("s3://no-such-bucket/", "dns", s3_client=s3))


def test_rows_are_gathered_into_bounded_tables_and_empty_ones_dropped() -> None:
    import pyarrow as pa

    from mamori.detect.readers.common import tables_in_chunks

    def build(chunk: list) -> pa.Table:
        # A builder that refuses negative rows, as readers drop rows without a valid time.
        return pa.table({"n": [r[0] for r in chunk if r[0] >= 0]})

    rows = [(1,), (2,), (-1,), (-2,), (5,)]
    sizes = [t.num_rows for t in tables_in_chunks(iter(rows), 2, build)]
    assert sizes == [2, 1]  # (-1, -2) built nothing: not yielded
    assert list(tables_in_chunks(iter([]), 2, build)) == []
