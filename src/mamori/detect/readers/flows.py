"""VPC Flow Logs text files (space-separated, header line naming the fields) -> `flows`.

Any field order and any subset of the v2-v8 fields is accepted: the header line says which
field is where. Fields the table has no column for stay in `raw`, the original line. Parsing is
pyarrow's multithreaded CSV reader with every field read as text, then vectorised checks and
casts, so a hostile value costs its row, never the file."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from itertools import accumulate
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from mamori.detect.readers.common import TS_TYPE, Problems, ReadError, decode_text, inflate
from mamori.detect.readers.scope import ip_scope
from mamori.detect.schema import FLOWS

DEFAULT_FORMAT = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status"
)
DEFAULT_FIELDS = tuple(DEFAULT_FORMAT.split())

# Log field name -> table column. Fields not listed here are kept only in `raw`.
COLUMN_OF = {
    "version": "version",
    "account-id": "account_id",
    "region": "region",
    "interface-id": "interface_id",
    "vpc-id": "vpc_id",
    "subnet-id": "subnet_id",
    "instance-id": "instance_id",
    "srcaddr": "src_addr",
    "dstaddr": "dst_addr",
    "srcport": "src_port",
    "dstport": "dst_port",
    "protocol": "protocol",
    "packets": "packets",
    "bytes": "bytes",
    "start": "start_time",
    "end": "end_time",
    "action": "action",
    "log-status": "log_status",
    "tcp-flags": "tcp_flags",
    "flow-direction": "flow_direction",
    "pkt-srcaddr": "pkt_src_addr",
    "pkt-dstaddr": "pkt_dst_addr",
}

_FIELD_NAME = re.compile(r"[a-z][a-z0-9-]*\Z")
# Digits that fit the column's type, so that a cast never overflows.
_DIGITS = {8: 2, 16: 4, 32: 9, 64: 18}
_EPOCH_DIGITS = 12


# Header lines seen and found good: a flow log's every file starts with the same one, and
# checking its every name again, file after file, took a fifth of the time of reading them.
_GOOD_HEADERS: dict[str, list[str]] = {}
_GOOD_HEADERS_KEPT = 256


def field_order(first_line: str, name: str) -> tuple[list[str], bool]:
    """The field names and whether the first line is a header (else the default v2 order)."""
    known = _GOOD_HEADERS.get(first_line)
    if known is not None:
        return list(known), True
    tokens = first_line.split()
    if tokens and all(_FIELD_NAME.match(t) for t in tokens):
        if len(set(tokens)) != len(tokens):
            raise ReadError(f"{name}: the header line names a field twice")
        if not set(tokens) & set(COLUMN_OF):
            raise ReadError(f"{name}: the header line names no VPC Flow Logs field")
        if len(_GOOD_HEADERS) >= _GOOD_HEADERS_KEPT:
            _GOOD_HEADERS.clear()
        _GOOD_HEADERS[first_line] = tokens
        return list(tokens), True
    if len(tokens) == len(DEFAULT_FIELDS):
        return list(DEFAULT_FIELDS), False
    raise ReadError(
        f"{name}: no header line, and {len(tokens)} fields is not the default format's "
        f"{len(DEFAULT_FIELDS)}"
    )


def _digits_mask(values: pa.ChunkedArray | pa.Array, max_digits: int) -> pa.Array:
    """True where the text is a non-negative integer of at most max_digits digits: ASCII
    digits only (so a byte a digit), at least one. A tenth of the time of the regex."""
    short = pc.less_equal(pc.binary_length(values), max_digits)
    return pc.and_(pc.ascii_is_decimal(values), short)


def fill(
    rows: int, source_file: str, account: str | None, region: str | None
) -> dict[str, pa.Array]:
    """The columns one file gives every one of its rows: its name, and what its path says."""
    return fill_files([rows], [source_file], [account], [region])


def fill_files(
    rows: list[int], names: list[str], accounts: list[str | None], regions: list[str | None]
) -> dict[str, pa.Array]:
    """fill() for files whose rows follow one another: each file's values repeated its number
    of rows, decoded from runs in Arrow rather than built as a Python list of a value a row."""
    present = [n for n, count in enumerate(rows) if count]  # a run may not be empty
    ends = pa.array(list(accumulate(rows[n] for n in present)), pa.int64())
    columns = (("source_file", names), ("account_id", accounts), ("region", regions))
    return {
        column: pc.run_end_decode(
            pa.RunEndEncodedArray.from_arrays(ends, pa.array([values[n] for n in present], _TEXT))
        )
        for column, values in columns
    }


_TEXT = pa.string()


def convert(
    chunk: pa.Table, fields: list[str], filled: dict[str, pa.Array]
) -> tuple[pa.Table, pa.Array, int]:
    """A chunk of text columns -> a `flows` table, the mask of rows whose values are all good,
    and how many are not (those rows are still in the table). `filled` holds a value a row for
    source_file and for the columns the format may lack."""
    texts = [chunk.column(i) for i in range(chunk.num_columns)]
    raw = pc.binary_join_element_wise(*texts, " ")
    rows = chunk.num_rows
    keep = pa.array([True] * rows) if rows else pa.array([], pa.bool_())
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    for field_name, text in zip(fields, texts, strict=True):
        column = COLUMN_OF.get(field_name)
        if column is None:
            continue
        present = pc.not_equal(text, "-")
        target = FLOWS.schema.field(column).type
        if pa.types.is_integer(target) or column in ("start_time", "end_time"):
            digits = _EPOCH_DIGITS if column.endswith("_time") else _DIGITS[target.bit_width]
            valid = pc.or_(pc.invert(present), _digits_mask(text, digits))
            keep = pc.and_(keep, valid)
            numbers = pc.if_else(pc.and_(present, valid), text, None).cast(pa.int64())
            if column.endswith("_time"):
                value = pc.multiply(numbers, 1_000_000).cast(pa.timestamp("us")).cast(TS_TYPE)
            else:
                value = numbers.cast(target)
        else:
            value = pc.if_else(present, text, None)
        columns[column] = value
    columns["raw"] = raw
    for side in ("src", "dst"):
        address = columns.get(f"{side}_addr")
        if address is not None:
            columns[f"{side}_scope"] = ip_scope(address)
    arrays = [
        columns[f.name] if f.name in columns else filled.get(f.name, pa.nulls(rows, f.type))
        for f in FLOWS.schema
    ]
    table = pa.Table.from_arrays(arrays, schema=FLOWS.schema)
    bad = rows - (pc.sum(keep.cast(pa.int64())).as_py() or 0)
    return table, keep, bad


def _csv_options(
    fields: list[str], has_header: bool, block_size: int, on_invalid: Callable[[object], str]
) -> dict[str, Any]:
    """pyarrow's CSV options for flow-log lines, every field as text."""
    return {
        "read_options": pacsv.ReadOptions(
            column_names=fields,
            skip_rows=1 if has_header else 0,
            block_size=block_size,
            # One thread: the other core has a part to write, or another batch to read.
            use_threads=False,
        ),
        "parse_options": pacsv.ParseOptions(
            delimiter=" ",
            quote_char=False,
            escape_char=False,
            ignore_empty_lines=True,
            invalid_row_handler=on_invalid,
        ),
        "convert_options": pacsv.ConvertOptions(
            column_types=dict.fromkeys(fields, pa.string()), strings_can_be_null=False
        ),
    }


def open_text(
    text: bytes,
    fields: list[str],
    has_header: bool,
    chunk_rows: int,
    on_invalid: Callable[[object], str],
) -> pacsv.CSVStreamingReader:
    """pyarrow's streaming CSV reader over flow-log lines, every field as text."""
    # About 110 bytes a line: blocks of roughly chunk_rows lines.
    block_size = max(1 << 16, min(chunk_rows * 110, 64 << 20))
    return pacsv.open_csv(
        io.BytesIO(text), **_csv_options(fields, has_header, block_size, on_invalid)
    )


def read_text(text: bytes, fields: list[str], on_invalid: Callable[[object], str]) -> pa.Table:
    """Flow-log lines without a header, all at once: read_csv took a third of the time of the
    streaming reader over the same lines."""
    return pacsv.read_csv(io.BytesIO(text), **_csv_options(fields, False, 1 << 20, on_invalid))


def read_flows(
    data: bytes,
    source_file: str,
    *,
    account: str | None = None,
    region: str | None = None,
    chunk_rows: int = 100_000,
    problems: Problems | None = None,
) -> Iterator[pa.Table]:
    """One flow-log file's bytes -> `flows` tables of about chunk_rows rows each.

    account and region (from the delivery path) fill the columns when the format lacks them.
    Lines with the wrong number of fields or non-numeric numbers are skipped and counted."""
    problems = problems if problems is not None else Problems()
    text = inflate(data, source_file)
    # Checked up front: pyarrow would otherwise fail part-way, inside its bad-row callback.
    if not text.isascii():
        decode_text(text, source_file)
    first_line = text.split(b"\n", 1)[0].decode().strip()
    if not first_line:
        if text.strip():
            raise ReadError(f"{source_file}: the first line is empty")
        return
    fields, has_header = field_order(first_line, source_file)
    wrong_width = 0

    def on_invalid(_row: object) -> str:
        nonlocal wrong_width
        wrong_width += 1
        return "skip"

    try:
        reader = open_text(text, fields, has_header, chunk_rows, on_invalid)
        # Streamed a block at a time; a failure part-way raises ReadError after earlier
        # chunks were yielded, which the ingest rolls back.
        reported = 0
        for batch in reader:
            problems.add("wrong number of fields", wrong_width - reported)
            reported = wrong_width
            filled = fill(batch.num_rows, source_file, account, region)
            table, keep, bad = convert(pa.Table.from_batches([batch]), fields, filled)
            problems.add("non-numeric value in a numeric field", bad)
            if bad:
                table = table.filter(keep)
            if table.num_rows:
                yield table
        problems.add("wrong number of fields", wrong_width - reported)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise ReadError(f"{source_file}: not a VPC Flow Logs text file ({exc})") from None
