"""Hostile input never crashes ingest: each file is either read or named in the errors."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.detect.ingest import Source, dataset_files, ingest
from mamori.detect.readers import TABLE_OF
from mamori.detect.readers.cloudtrail import records_table
from mamori.detect.readers.common import Problems
from mamori.detect.schema import EVENTS
from tests.detect.logfiles import (
    CT_DIR,
    DNS_DIR,
    FLOW_DIR,
    FLOW_V2_HEADER,
    FLOW_V2_LINES,
    assumed_role_call,
    cloudtrail_bytes,
    dns_bytes,
    dns_entry,
    lines_bytes,
    s3_data_event,
)

_VALID = {
    "cloudtrail": (
        f"{CT_DIR}/f.json.gz",
        cloudtrail_bytes([assumed_role_call(1), s3_data_event()]),
    ),
    "vpc-flow": (f"{FLOW_DIR}/f.log.gz", lines_bytes([FLOW_V2_HEADER, *FLOW_V2_LINES])),
    "dns": (f"{DNS_DIR}/f.log.gz", dns_bytes([dns_entry(), dns_entry("b.example.")])),
}

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)


@st.composite
def _damaged(draw: st.DrawFn) -> tuple[str, str, bytes]:
    kind = draw(st.sampled_from(sorted(_VALID)))
    path, valid = _VALID[kind]
    how = draw(st.sampled_from(["random", "truncated", "flipped", "flipped-inner"]))
    if how == "random":
        data = draw(st.binary(max_size=300))
    elif how == "truncated":
        data = valid[: draw(st.integers(0, len(valid) - 1))]
    else:
        inner = gzip.decompress(valid) if how == "flipped-inner" else valid
        at = draw(st.integers(0, len(inner) - 1))
        data = inner[:at] + bytes([draw(st.integers(0, 255))]) + inner[at + 1 :]
        if how == "flipped-inner":
            data = gzip.compress(data, mtime=0)
    return kind, path, data


def _ingest_one(kind: str, path: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        logs, out = Path(scratch, "logs"), Path(scratch, "data")
        target = logs / path
        target.parent.mkdir(parents=True)
        target.write_bytes(data)
        report = ingest([Source(kind, str(logs))], out, batch_records=2)
        failed = {uri for uri, _ in report.errors}
        table = TABLE_OF[kind]
        if report.files_read == 0:
            assert failed == {str(target)}
            assert report.records[table] == 0
        written = sum(pq.ParquetFile(p).metadata.num_rows for p in dataset_files(out, table))
        assert written == report.records[table]
        assert all(uri in message for uri, message in report.errors)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(_damaged())
def test_damaged_files_never_crash_ingest(case: tuple[str, str, bytes]) -> None:
    _ingest_one(*case)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "eventTime",
                    "userIdentity",
                    "resources",
                    "requestParameters",
                    "readOnly",
                    "managementEvent",
                    "eventName",
                    "recipientAccountId",
                ]
            ),
            _json,
        ),
        max_size=4,
    )
)
def test_mistyped_cloudtrail_fields_never_crash_the_reader(changes: list[tuple[str, Any]]) -> None:
    record = assumed_role_call(3)
    record.update(dict(changes))
    problems = Problems()
    table = records_table([orjson.loads(orjson.dumps(record))], "f", problems)
    assert table.schema == EVENTS.schema
    assert table.num_rows + problems.skipped == 1
