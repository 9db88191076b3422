"""Pieces every reader shares: bounded decompression, the error type, per-record problem
counting, and vectorised parsing of timestamps and integers into Arrow columns."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from mamori.core import InputError

TS_TYPE = pa.timestamp("us", tz="UTC")

# A log file is at most tens of MB once inflated; the cap only stops a hostile gzip bomb from
# eating the machine, so it is generous.
MAX_INFLATED_BYTES = 2 << 30

_GZIP_MAGIC = b"\x1f\x8b"


class ReadError(InputError):
    """A whole file cannot be read (corrupt, truncated, wrong format). Nothing of it is kept."""


@dataclass
class Problems:
    """Records of a readable file that had to be left out, counted so none vanish unseen."""

    skipped: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, reason: str, count: int = 1) -> None:
        if count <= 0:
            return
        self.skipped += count
        self.reasons[reason] = self.reasons.get(reason, 0) + count

    def summary(self) -> str:
        detail = "; ".join(f"{reason} ({n})" for reason, n in sorted(self.reasons.items()))
        return f"{self.skipped} record(s) skipped: {detail}"


def inflate(data: bytes, name: str, *, limit: int = MAX_INFLATED_BYTES) -> bytes:
    """The file's bytes, gunzipped when they are gzip (by content, whatever the name says).

    Handles multi-member gzip, which concatenated log deliveries produce."""
    if not data.startswith(_GZIP_MAGIC):
        if name.endswith(".gz"):
            raise ReadError(f"{name}: not a gzip file although its name ends in .gz")
        return data
    out: list[bytes] = []
    total = 0
    rest = data
    try:
        while rest:
            inflater = zlib.decompressobj(wbits=31)
            while True:
                piece = inflater.decompress(rest, max(1, limit + 1 - total))
                total += len(piece)
                out.append(piece)
                if total > limit:
                    raise ReadError(f"{name}: inflates to more than {limit} bytes")
                rest = inflater.unconsumed_tail
                if inflater.eof or not rest:
                    break
            if not inflater.eof:
                raise ReadError(f"{name}: truncated gzip (unexpected end of data)")
            rest = inflater.unused_data
            # Trailing zero padding after the last member is tolerated, as gzip(1) does.
            if rest and not rest.strip(b"\x00"):
                break
            if rest and not rest.startswith(_GZIP_MAGIC):
                raise ReadError(f"{name}: trailing garbage after the gzip data")
    except zlib.error as exc:
        raise ReadError(f"{name}: corrupt gzip ({exc})") from None
    return b"".join(out)


def as_text(value: object) -> str | None:
    """A field as text: strings as they are, objects as JSON, other scalars as str()."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    return str(value)


def decode_text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReadError(f"{name}: not UTF-8 text (byte {exc.start})") from None


def _parse_one_time(text: str) -> datetime | None:
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso_times(values: Sequence[object]) -> tuple[pa.Array, pa.Array]:
    """ISO 8601 texts -> (UTC timestamps, mask of values that are missing or unparsable).
    Values that are not text are no time."""
    return iso_text_times(
        pa.array([v if isinstance(v, str) else None for v in values], pa.string())
    )


def iso_text_times(texts: pa.Array) -> tuple[pa.Array, pa.Array]:
    """iso_times of a text array.

    AWS writes one fixed form, parsed in one vectorised call; anything else (fractions,
    offsets) goes through the slow path only for the odd values."""
    fast = pc.strptime(texts, format="%Y-%m-%dT%H:%M:%SZ", unit="us", error_is_null=True)
    fast = fast.cast(TS_TYPE)
    missing = pc.is_null(fast)
    if not pc.any(missing).as_py():
        return fast, missing
    fixed: list[datetime | None] = []
    for text, parsed in zip(texts.to_pylist(), fast.to_pylist(), strict=True):
        if parsed is None and text is not None:
            fixed.append(_parse_one_time(text))
        else:
            fixed.append(parsed)
    times = pa.array(fixed, TS_TYPE)
    return times, pc.is_null(times)


def to_int(value: object) -> int | None:
    """An integer field given as a number or as decimal text; anything else is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None


def fit_int(values: Sequence[int | None], kind: pa.DataType) -> pa.Array:
    """Integers into an Arrow integer column; values out of the type's range become null."""
    bits = kind.bit_width - 1
    low, high = -(1 << bits), (1 << bits) - 1
    return pa.array([v if v is not None and low <= v <= high else None for v in values], kind)


def table_from_columns(columns: dict[str, list[object]], schema: pa.Schema) -> pa.Table:
    """Python column lists -> a table of exactly the given schema."""
    return pa.Table.from_arrays([pa.array(columns[f.name], f.type) for f in schema], schema=schema)


def drop_rows(table: pa.Table, bad: pa.Array, problems: Problems, what: str) -> pa.Table:
    """`table` without the rows `bad` marks, counted in `problems` under `what`."""
    bad_count = pc.sum(bad.cast(pa.int64())).as_py() or 0
    if not bad_count:
        return table
    problems.add(what, bad_count)
    return table.filter(pc.invert(bad))


Row = tuple[object, ...]


def tables_in_chunks(
    rows: Iterable[Row], chunk_rows: int, build: Callable[[list[Row]], pa.Table]
) -> Iterator[pa.Table]:
    """Rows gathered into tables of at most `chunk_rows` rows (memory stays bounded on a big
    file); tables that `build` left empty (every row refused) are not yielded."""
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= chunk_rows:
            if (table := build(chunk)).num_rows:
                yield table
            chunk = []
    if chunk and (table := build(chunk)).num_rows:
        yield table
