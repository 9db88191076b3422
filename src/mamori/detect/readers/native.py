"""CloudTrail columns built by the compiled helper (the `mamori_native` C extension in the
repository's native/ folder, which `make install` builds from source).

It walks orjson's parsed records once, as cloudtrail._columns does, and appends straight into
Arrow buffers: measured on the benchmark's records, 3.0 µs of CPU an event where the vectorised
Python way (cloudtrail._fast_columns) takes 9.0, most of what is left being orjson writing
`raw` and the JSON columns, which the extension calls for. Values of odd types go through the
same Python helpers as in the reference, so the columns are the reference's by construction
(and tested equal). Without the extension (a plain `pip install` of the package) Mamori reads
the same tables, only slower.
"""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa

from mamori.detect.readers.common import as_text

try:
    import mamori_native
except ImportError:  # not built: the Python column builders do the work
    mamori_native = None

_STR = pa.string()
_RESOURCES = pa.list_(_STR)
# The column the extension adds beside the table's: eventTime's text, for iso_times.
EVENT_TIME_TEXT = "event_time_text"


def available() -> bool:
    return mamori_native is not None


def _text(rows: int, nulls: int, valid: bytes | None, offsets: bytes, data: bytes) -> pa.Array:
    validity = None if valid is None else pa.py_buffer(valid)
    buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(data)]
    return pa.Array.from_buffers(_STR, rows, buffers, null_count=nulls)


def _array(rows: int, built: tuple[Any, ...]) -> pa.Array:
    kind, *parts = built
    if kind == "text":
        return _text(rows, *parts)
    if kind == "flag":
        nulls, valid, values = parts
        buffers = [pa.py_buffer(valid), pa.py_buffer(values)]
        return pa.Array.from_buffers(pa.bool_(), rows, buffers, null_count=nulls)
    lists, (_, arn_nulls, *arn_buffers) = parts
    arns = _text(len(arn_buffers[1]) // 4 - 1, arn_nulls, *arn_buffers)
    return pa.Array.from_buffers(
        _RESOURCES, rows, [None, pa.py_buffer(lists)], null_count=0, children=[arns]
    )


def cloudtrail_columns(records: list[dict[str, Any]]) -> dict[str, pa.Array] | None:
    """cloudtrail._columns of the records, plus EVENT_TIME_TEXT; None without the extension or
    when a column would pass Arrow's 2 GB for one text array. Raises what the reference would
    (what orjson raises writing a value)."""
    if mamori_native is None:
        return None
    try:
        built = mamori_native.cloudtrail_columns(records, as_text, orjson.dumps)
    except OverflowError:
        return None
    rows = len(records)
    return {name: _array(rows, column) for name, column in built.items()}
