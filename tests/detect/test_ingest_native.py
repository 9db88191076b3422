"""The compiled CloudTrail column builder (mamori_native, via readers.native) gives exactly the
columns of the Python reference (cloudtrail._columns): on the generator's logs, on records of
any shape, and on the odd values each branch handles; it raises what the reference raises."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.detect.readers import cloudtrail, native
from mamori.detect.readers.common import iso_text_times, iso_times
from tests.detect.logfiles import assumed_role_call, s3_data_event, small_world
from tests.detect.test_ingest_columns import _RECORD


def _native(records: list[dict[str, Any]]) -> dict[str, pa.Array]:
    columns = native.cloudtrail_columns(records)
    assert columns is not None
    for column in columns.values():
        column.validate(full=True)  # offsets, bitmaps and UTF-8 as Arrow requires
    return columns


def _assert_reference(records: list[dict[str, Any]]) -> dict[str, pa.Array]:
    columns = _native(records)
    times = columns.pop(native.EVENT_TIME_TEXT)
    reference = cloudtrail._columns(records)
    assert set(columns) == set(reference)
    for name, column in reference.items():
        assert columns[name].type == column.type, name
        assert columns[name].to_pylist() == column.to_pylist(), name
    expected_times = iso_times([record.get("eventTime") for record in records])
    assert [part.to_pylist() for part in iso_text_times(times)] == [
        part.to_pylist() for part in expected_times
    ]
    return columns


def test_the_extension_is_built() -> None:
    # `make install` builds it; without it ingest is correct but about a third slower.
    assert native.available()


def test_generated_logs_give_the_reference_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = small_world(tmp_path, datetime(2024, 5, 1, tzinfo=UTC), None, events_per_day=400)
    records: list[dict[str, Any]] = []
    for path in sorted(root.rglob("*.json.gz")):
        records.extend(cloudtrail.load_records(path.read_bytes(), str(path)))
    assert len(records) > 800
    _assert_reference(records)
    names = [f"file-{index % 7}" for index in range(len(records))]
    table, bad = cloudtrail.events_table(records, names)
    monkeypatch.setattr(native, "mamori_native", None)
    python_table, python_bad = cloudtrail.events_table(records, names)
    assert table.equals(python_table)
    assert bad.equals(python_bad)


@settings(max_examples=400, deadline=None)
@given(st.lists(_RECORD, max_size=6))
def test_records_of_any_shape_give_the_reference_columns(records: list[dict[str, Any]]) -> None:
    _assert_reference(records)


_ROLE = "arn:aws:sts::111122223333:assumed-role/Admin"


@pytest.mark.parametrize(
    "record",
    [
        {},
        assumed_role_call(3),
        s3_data_event(),
        # resources: duplicates, items that are no object, ARNs that are no text or empty,
        # request parameters that are ARNs (again)
        {
            "resources": [
                {"ARN": "arn:aws:s3:::b"},
                {"ARN": "arn:aws:s3:::b"},
                "arn:aws:s3:::x",
                {"ARN": 5},
                {"ARN": ""},
                {"arn": "arn:aws:s3:::lower"},
                None,
            ],
            "requestParameters": {"a": "arn:aws:s3:::b", "b": "arn:x", "c": "ar", "d": ["arn:"]},
        },
        {"resources": {"ARN": "arn:aws:s3:::b"}, "requestParameters": ["arn:aws:s3:::b"]},
        {"resources": [{"ARN": "arn:é/ü"}, {"ARN": "arn:é/ü"}, {"ARN": "arn:é/ü2"}]},
        # flags as text in any case, beyond ASCII, and of other types
        {"readOnly": "TRUE", "managementEvent": "fAlSe", "eventCategory": "Data"},
        {"readOnly": "trüe", "managementEvent": "ＴＲＵＥ", "eventCategory": "Data"},
        {"readOnly": 1, "managementEvent": None, "eventCategory": "Management"},
        {"managementEvent": None, "eventCategory": "Data"},
        {"managementEvent": "yes", "eventCategory": ["Data"]},
        {
            "userIdentity": {
                "sessionContext": {"attributes": {"mfaAuthenticated": "False"}},
            }
        },
        {"userIdentity": {"sessionContext": {"attributes": {"mfaAuthenticated": True}}}},
        {"userIdentity": {"sessionContext": {"attributes": ["true"]}}},
        # session names: last part of the ARN, none without a slash, ARNs of other types
        {"userIdentity": {"type": "AssumedRole", "arn": f"{_ROLE}/alice"}},
        {"userIdentity": {"type": "AssumedRole", "arn": f"{_ROLE}/"}},
        {"userIdentity": {"type": "AssumedRole", "arn": "no-slash"}},
        {"userIdentity": {"type": "AssumedRole", "arn": ""}},
        {"userIdentity": {"type": "AssumedRole", "arn": {"a": "b/c"}}},
        {"userIdentity": {"type": "AssumedRole", "arn": 12}},
        {"userIdentity": {"type": "AssumedRole", "arn": "a/ß€/名前"}},
        {"userIdentity": {"type": "IAMUser", "arn": f"{_ROLE}/alice"}},
        {"userIdentity": {"type": ["AssumedRole"], "arn": f"{_ROLE}/alice"}},
        # principal names: `userName or issuer's userName`, falsy values included
        {"userIdentity": {"userName": "", "sessionContext": {"sessionIssuer": {"userName": "r"}}}},
        {"userIdentity": {"userName": 0, "sessionContext": {"sessionIssuer": {"userName": 7}}}},
        {"userIdentity": {"userName": [], "sessionContext": {"sessionIssuer": "x"}}},
        {"userIdentity": {"userName": "u", "sessionContext": {"sessionIssuer": {"arn": 1.5}}}},
        # text fields holding other JSON values, and JSON columns holding text
        {
            "eventName": 1e300,
            "eventSource": True,
            "eventID": {"k": [1, None]},
            "awsRegion": [],
            "errorCode": -0.0,
            "errorMessage": "line\nbreak \u2028 \x00",
            "requestParameters": "text",
            "responseElements": False,
            "additionalEventData": 18446744073709551615,
        },
        {"userIdentity": "root", "eventName": None, "requestParameters": None},
        # times: fixed form, fractions, offsets, nonsense, other types
        {"eventTime": "2024-05-01T10:00:00Z"},
        {"eventTime": "2024-05-01T10:00:00.123Z"},
        {"eventTime": "2024-05-01T12:00:00+02:00"},
        {"eventTime": "yesterday"},
        {"eventTime": 1714557600},
    ],
)
def test_odd_records_give_the_reference_columns(record: dict[str, Any]) -> None:
    # each alone, and among usual records (other rows' buffers around it)
    _assert_reference([record])
    _assert_reference([assumed_role_call(1), record, s3_data_event(), record])


def test_a_value_orjson_cannot_write_raises_as_in_the_reference() -> None:
    records = [assumed_role_call(1), {"requestParameters": {"n": 1 << 70}}]
    with pytest.raises(orjson.JSONEncodeError):
        cloudtrail._columns(records)
    with pytest.raises(orjson.JSONEncodeError):
        native.cloudtrail_columns(records)


def test_a_record_that_is_no_object_is_refused() -> None:
    with pytest.raises(TypeError, match="record 1"):
        native.cloudtrail_columns([{}, ["not", "a", "record"]])  # type: ignore[list-item]


def test_no_reference_is_kept_or_lost() -> None:
    records = [assumed_role_call(index) for index in range(50)] + [s3_data_event()]
    counts = [sys.getrefcount(record) for record in records]
    inner = [sys.getrefcount(record["userIdentity"]) for record in records]
    for _ in range(3):
        _native(records)
    assert [sys.getrefcount(record) for record in records] == counts
    assert [sys.getrefcount(record["userIdentity"]) for record in records] == inner


def test_large_batches_grow_their_buffers() -> None:
    # Thousands of rows: every buffer reallocated many times over, bitmaps past one byte.
    records = [assumed_role_call(index) for index in range(3000)]
    records += [s3_data_event() for _ in range(3001)]
    records[1234] = {}
    columns = _assert_reference(records)
    assert columns["raw"].null_count == 0
    assert columns["error_code"].null_count == len(records)
