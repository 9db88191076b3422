"""Route 53 Resolver query logs (JSON lines, gzip or plain) -> the `dns` table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pyarrow as pa

from mamori.detect.readers.common import (
    Problems,
    Row,
    as_text,
    drop_rows,
    fit_int,
    inflate,
    iso_times,
    tables_in_chunks,
    to_int,
)
from mamori.detect.schema import DNS


def normalise_name(value: object) -> str | None:
    """A query name as detections compare it: lower case, no trailing root dot."""
    name = as_text(value)
    if name is None:
        return None
    name = name.lower()
    return name[:-1] if name.endswith(".") and len(name) > 1 else name


def _answers(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    out = []
    for answer in value:
        data = answer.get("Rdata") if isinstance(answer, dict) else None
        if data is not None:
            out.append(as_text(data) or "")
    return out


def _row(entry: dict[str, Any], line: str, source_file: str) -> tuple[object, ...]:
    get = entry.get
    ids = get("srcids")
    instance = ids.get("instance") if isinstance(ids, dict) else None
    return (
        get("query_timestamp"),
        as_text(get("account_id")),
        as_text(get("region")),
        as_text(get("vpc_id")),
        normalise_name(get("query_name")),
        as_text(get("query_type")),
        as_text(get("query_class")),
        as_text(get("rcode")),
        _answers(get("answers")),
        as_text(get("srcaddr")),
        to_int(get("srcport")),
        as_text(get("transport")),
        as_text(instance),
        source_file,
        line,
    )


def _table(rows: list[tuple[object, ...]], problems: Problems) -> pa.Table:
    names = DNS.columns
    columns: dict[str, list[Any]] = {name: [] for name in names}
    if rows:
        columns = {n: list(v) for n, v in zip(names, zip(*rows, strict=True), strict=True)}
    times, bad = iso_times(columns["query_time"])
    arrays = []
    for f in DNS.schema:
        if f.name == "query_time":
            arrays.append(times)
        elif f.name == "src_port":
            arrays.append(fit_int(columns[f.name], f.type))
        else:
            arrays.append(pa.array(columns[f.name], f.type))
    table = pa.Table.from_arrays(arrays, schema=DNS.schema)
    return drop_rows(table, bad, problems, "missing or invalid query_timestamp")


def read_dns(
    data: bytes,
    source_file: str,
    *,
    chunk_rows: int = 100_000,
    problems: Problems | None = None,
) -> Iterator[pa.Table]:
    """One query-log file's bytes -> `dns` tables of at most chunk_rows rows each.

    A line that is not a JSON object (a truncated last line, say) is skipped and counted."""
    found = problems if problems is not None else Problems()
    text = inflate(data, source_file)

    def rows() -> Iterator[Row]:
        for raw_line in text.splitlines():
            if not raw_line.strip():
                continue
            try:
                entry = orjson.loads(raw_line)
            except orjson.JSONDecodeError:
                found.add("line is not valid JSON")
                continue
            if not isinstance(entry, dict):
                found.add("line is not a JSON object")
                continue
            yield _row(entry, raw_line.decode("utf-8").strip(), source_file)

    yield from tables_in_chunks(rows(), chunk_rows, lambda chunk: _table(chunk, found))
