"""CloudTrail log files ({"Records": [...]}, gzip or plain) -> the `events` table.

Parsed with orjson; the columns are built by the compiled helper (readers.native, a third of
the time) when it is installed. Without it, the plain fields are taken into Arrow by one
pyarrow conversion of the records and vectorised calls (_fast_columns), the rest (JSON text of
objects, ARNs, `raw`) by Python comprehensions, with one comprehension a column as the
reference for both and the way for odd records (_columns). DuckDB's read_json cannot give
`raw` as orjson writes it, which every record needs anyway."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from mamori.detect.readers import native
from mamori.detect.readers.common import (
    Problems,
    ReadError,
    as_text,
    decode_text,
    drop_rows,
    inflate,
    iso_text_times,
    iso_times,
)
from mamori.detect.schema import EVENTS

_NAMES = EVENTS.columns
FAST_FROM_RECORDS = 1000


def _flag(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _management(record: dict[str, Any]) -> bool:
    flag = _flag(record.get("managementEvent"))
    if flag is not None:
        return flag
    # Records older than the managementEvent field: only data events are not management.
    return record.get("eventCategory") != "Data"


def _resources(record: dict[str, Any]) -> list[str]:
    arns: list[str] = []
    listed = record.get("resources")
    if isinstance(listed, list):
        for item in listed:
            arn = item.get("ARN") if isinstance(item, dict) else None
            if isinstance(arn, str) and arn and arn not in arns:
                arns.append(arn)
    # Requests name their target by ARN in top-level parameters (roleArn, policyArn, ...).
    for value in _dict(record.get("requestParameters")).values():
        if isinstance(value, str) and value.startswith("arn:") and value not in arns:
            arns.append(value)
    return arns


def _texts(values: list[Any]) -> pa.Array:
    """A text column. Almost every value is a string already and pyarrow rejects anything else
    in its one pass, so only a column that holds some other JSON value is converted value by
    value."""
    try:
        return pa.array(values, pa.string())
    except pa.ArrowTypeError:
        return pa.array([as_text(v) for v in values], pa.string())


def _dumps(values: list[Any]) -> pa.Array:
    # orjson's bytes are UTF-8 already: handing them over as they are saves a decode each.
    return pa.array([None if v is None else orjson.dumps(v) for v in values], pa.string())


def _session_name(arn: str | None) -> str | None:
    return arn.rsplit("/", 1)[1] if arn and "/" in arn else None


# Table column -> record field, for the fields copied as text.
_TEXT_FIELDS = {
    "event_id": "eventID",
    "account_id": "recipientAccountId",
    "region": "awsRegion",
    "event_source": "eventSource",
    "event_name": "eventName",
    "event_type": "eventType",
    "source_ip": "sourceIPAddress",
    "user_agent": "userAgent",
    "error_code": "errorCode",
    "error_message": "errorMessage",
    "vpc_endpoint_id": "vpcEndpointId",
}
_JSON_FIELDS = {
    "request_parameters": "requestParameters",
    "response_elements": "responseElements",
    "additional_event_data": "additionalEventData",
}
_IDENTITY_FIELDS = {
    "principal_type": "type",
    "principal_arn": "arn",
    "principal_account": "accountId",
    "access_key_id": "accessKeyId",
    "invoked_by": "invokedBy",
}
_RESOURCES = EVENTS.schema.field("resources").type


def _python_columns(records: list[dict[str, Any]]) -> dict[str, pa.Array]:
    """The columns only Python builds: JSON text of objects, the resources' ARNs, `raw`."""
    field = [record.get for record in records]
    columns = {column: _dumps([get(key) for get in field]) for column, key in _JSON_FIELDS.items()}
    columns["resources"] = pa.array([_resources(r) for r in records], _RESOURCES)
    columns["raw"] = pa.array([orjson.dumps(r) for r in records], pa.string())
    return columns


def _columns(records: list[dict[str, Any]]) -> dict[str, pa.Array]:
    """The records' columns, built one column at a time with comprehensions: measured about
    twice as fast as a tuple per record transposed afterwards. The reference for _fast_columns,
    and the way for records that it cannot take."""
    field = [record.get for record in records]
    who = [_dict(get("userIdentity")) for get in field]
    context = [_dict(w.get("sessionContext")) for w in who]
    issuer = [_dict(c.get("sessionIssuer")) for c in context]
    columns = {column: _texts([get(key) for get in field]) for column, key in _TEXT_FIELDS.items()}
    for column, key in _IDENTITY_FIELDS.items():
        columns[column] = _texts([w.get(key) for w in who])
    columns["principal_name"] = _texts(
        [w.get("userName") or i.get("userName") for w, i in zip(who, issuer, strict=True)]
    )
    columns["session_issuer_arn"] = _texts([i.get("arn") for i in issuer])
    # A non-text type can never read "AssumedRole", so only those sessions' ARNs are looked at.
    columns["session_name"] = pa.array(
        [
            _session_name(as_text(w.get("arn"))) if w.get("type") == "AssumedRole" else None
            for w in who
        ],
        pa.string(),
    )
    columns["mfa_authenticated"] = pa.array(
        [_flag(_dict(c.get("attributes")).get("mfaAuthenticated")) for c in context], pa.bool_()
    )
    columns["read_only"] = pa.array([_flag(get("readOnly")) for get in field], pa.bool_())
    columns["management_event"] = pa.array([_management(r) for r in records], pa.bool_())
    return columns | _python_columns(records)


# The fields _fast_columns has pyarrow convert, as they are in well-formed records: text as
# strings, flags as booleans except mfaAuthenticated (the text "true" or "false").
_STR = pa.string()
_ISSUER = pa.struct([("arn", _STR), ("userName", _STR)])
_CONTEXT = pa.struct(
    [("sessionIssuer", _ISSUER), ("attributes", pa.struct([("mfaAuthenticated", _STR)]))]
)
_WHO = pa.struct(
    [(key, _STR) for key in [*_IDENTITY_FIELDS.values(), "userName"]]
    + [("sessionContext", _CONTEXT)]
)
_RECORD = pa.struct(
    [(key, _STR) for key in _TEXT_FIELDS.values()]
    + [
        ("eventCategory", _STR),
        ("readOnly", pa.bool_()),
        ("managementEvent", pa.bool_()),
        ("userIdentity", _WHO),
    ]
)
# Raised by pyarrow for a value of another type than _RECORD says (a number for a text, a
# string for a flag, a non-empty list or a scalar for an object).
_NOT_AS_EXPECTED = (pa.ArrowTypeError, pa.ArrowInvalid)


def _fast_columns(records: list[dict[str, Any]]) -> dict[str, pa.Array] | None:
    """_columns, with the fields taken by one conversion in pyarrow and then vectorised: about
    a third of the time. None when some value is not of its field's usual type (the
    conversion refuses it) for _columns to deal with; pyarrow reads an empty list as an empty
    object, as _dict does, and takes nothing else that _columns would read otherwise."""
    try:
        parsed = pa.array(records, _RECORD)
    except _NOT_AS_EXPECTED:
        return None

    def get(*path: str) -> pa.Array:
        return pc.struct_field(parsed, list(path))

    columns = {column: get(key) for column, key in _TEXT_FIELDS.items()}
    for column, key in _IDENTITY_FIELDS.items():
        columns[column] = get("userIdentity", key)
    own, issued = get("userIdentity", "userName"), get("userIdentity", "sessionContext")
    issuer_name = pc.struct_field(issued, ["sessionIssuer", "userName"])
    # `a or b`: an empty name counts as none.
    columns["principal_name"] = pc.if_else(
        pc.fill_null(pc.not_equal(own, ""), False), own, issuer_name
    )
    columns["session_issuer_arn"] = pc.struct_field(issued, ["sessionIssuer", "arn"])
    arn = columns["principal_arn"]
    after_slash = pc.struct_field(pc.extract_regex(arn, r"/(?P<name>[^/]*)$"), [0])
    assumed = pc.fill_null(pc.equal(columns["principal_type"], "AssumedRole"), False)
    columns["session_name"] = pc.if_else(assumed, after_slash, None)
    mfa = pc.ascii_lower(pc.struct_field(issued, ["attributes", "mfaAuthenticated"]))
    columns["mfa_authenticated"] = pc.if_else(
        pc.equal(mfa, "true"), True, pc.if_else(pc.equal(mfa, "false"), False, None)
    )
    columns["read_only"] = get("readOnly")
    # Records older than the managementEvent field: only data events are not management.
    not_data = pc.fill_null(pc.not_equal(get("eventCategory"), "Data"), True)
    columns["management_event"] = pc.coalesce(get("managementEvent"), not_data)
    return columns | _python_columns(records)


def load_records(data: bytes, name: str) -> list[Any]:
    """The Records list of one CloudTrail file; ReadError if the file is not one."""
    text = inflate(data, name)
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        decode_text(text, name)  # a clearer message when the bytes are not text at all
        raise ReadError(f"{name}: not valid JSON ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("Records"), list):
        raise ReadError(f'{name}: not a CloudTrail log file (no "Records" list)')
    records: list[Any] = document["Records"]
    return records


def events_table(
    records: list[dict[str, Any]], source_files: list[str]
) -> tuple[pa.Table, pa.Array]:
    """Records (JSON objects) and each one's file -> an `events` table of them all, and the mask
    of rows without a valid eventTime (still in the table)."""
    columns = native.cloudtrail_columns(records)
    if columns is not None:
        times, bad = iso_text_times(columns.pop(native.EVENT_TIME_TEXT))
    else:
        # The vectorised calls cost the same for ten records as for ten thousand: measured,
        # the fast way pays from about a thousand records on (a batch of files is about ten
        # thousand).
        columns = _fast_columns(records) if len(records) >= FAST_FROM_RECORDS else None
        if columns is None:
            columns = _columns(records)
        times, bad = iso_times([record.get("eventTime") for record in records])
    columns["source_file"] = pa.array(source_files, pa.string())
    columns["event_time"] = times
    return pa.Table.from_arrays([columns[name] for name in _NAMES], schema=EVENTS.schema), bad


def usable_records(records: list[Any], problems: Problems) -> list[dict[str, Any]]:
    usable = [record for record in records if isinstance(record, dict)]
    problems.add("record is not a JSON object", len(records) - len(usable))
    return usable


def drop_bad_times(table: pa.Table, bad: pa.Array, problems: Problems) -> pa.Table:
    return drop_rows(table, bad, problems, "missing or invalid eventTime")


def records_table(
    records: list[Any], source_file: str, problems: Problems | None = None
) -> pa.Table:
    """CloudTrail records (parsed JSON) -> an `events` table; unusable records are counted."""
    problems = problems if problems is not None else Problems()
    usable = usable_records(records, problems)
    table, bad = events_table(usable, [source_file] * len(usable))
    return drop_bad_times(table, bad, problems)


def read_cloudtrail(
    data: bytes,
    source_file: str,
    *,
    chunk_rows: int = 100_000,
    problems: Problems | None = None,
) -> Iterator[pa.Table]:
    """One CloudTrail file's bytes -> `events` tables of at most chunk_rows rows each.

    The whole file is parsed before the first chunk is yielded, so a broken file raises
    ReadError before any of its rows reach the caller."""
    records = load_records(data, source_file)
    if not records:
        return
    step = max(1, chunk_rows)
    for start in range(0, len(records), step):
        yield records_table(records[start : start + step], source_file, problems)
