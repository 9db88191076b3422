"""Reading many small files at once, for speed, with the same outcome file by file as reading
each alone.

Log deliveries are many small files (a few hundred flow records, a few dozen CloudTrail events);
reading them one at a time costs more in per-call overhead (one CSV parse and some seventy
vectorised calls per flow file, twenty column conversions per CloudTrail file) than in the work
itself. Here the records of a batch of files are converted together and each file gets back its
own rows as zero-copy slices. Any file the fast way cannot vouch for (an odd line, a bad value,
non-ASCII bytes) is read alone by its ordinary reader, so that its rows, problems and errors are
exactly what they would have been; a file that cannot be read never costs the others theirs.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa

from mamori.core import InputError
from mamori.detect.readers.cloudtrail import (
    drop_bad_times,
    events_table,
    load_records,
    usable_records,
)
from mamori.detect.readers.common import Problems, inflate
from mamori.detect.readers.flows import convert, field_order, fill_files, read_text
from mamori.detect.readers.sources import InputFile
from mamori.detect.schema import TABLES

# Which table each kind of log fills (as readers.TABLE_OF; not imported, to avoid a cycle).
SCHEMA_OF = {
    "cloudtrail": TABLES["events"].schema,
    "vpc-flow": TABLES["flows"].schema,
    "dns": TABLES["dns"].schema,
    "waf": TABLES["waf"].schema,
}

# What a hostile file can make the readers raise besides ReadError; all name the file.
FILE_FAULTS = (InputError, pa.ArrowException, ValueError, TypeError, OverflowError, OSError)


def describe(exc: Exception, uri: str) -> str:
    """The error message for a file that could not be read."""
    return str(exc) if isinstance(exc, InputError) else f"{uri}: {exc}"


@dataclass
class FileResult:
    """One file of a batch: its rows (tables in order), or the error that kept them all out."""

    item: InputFile
    tables: list[pa.Table] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)
    error: str | None = None
    written: int = 0  # rows written to a part by the worker that read the file (not in tables)


def _alone(kind: str, item: InputFile, data: bytes, chunk_rows: int) -> FileResult:
    from mamori.detect.readers import read_file

    result = FileResult(item)
    try:
        result.tables = list(
            read_file(kind, data, item, chunk_rows=chunk_rows, problems=result.problems)
        )
    except FILE_FAULTS as exc:
        return FileResult(item, error=describe(exc, item.uri))
    return result


def _slices(table: pa.Table, counts: list[int]) -> Iterator[pa.Table]:
    offset = 0
    for count in counts:
        yield table.slice(offset, count)
        offset += count


def _cloudtrail(files: list[tuple[InputFile, bytes]]) -> tuple[list[FileResult], pa.Table]:
    results = [FileResult(item) for item, _ in files]
    records: list[dict[str, object]] = []
    names: list[str] = []
    counts: list[int] = []
    for result, (item, data) in zip(results, files, strict=True):
        try:
            usable = usable_records(load_records(data, item.uri), result.problems)
        except FILE_FAULTS as exc:
            result.error = describe(exc, item.uri)
            usable = []
        records.extend(usable)
        names.extend([item.uri] * len(usable))
        counts.append(len(usable))
    table, bad = events_table(records, names)
    # Rows without a valid time are rare: only then is the mask looked at file by file.
    any_bad = bool(table.num_rows) and bool(bad.true_count)
    offset = 0
    for result, count, part in zip(results, counts, _slices(table, counts), strict=True):
        kept = drop_bad_times(part, bad.slice(offset, count), result.problems) if any_bad else part
        offset += count
        if kept.num_rows:
            result.tables = [kept]
    return results, _joined("cloudtrail", results) if any_bad else table


@dataclass
class _FlowFile:
    index: int
    body: bytes  # the lines after the header, ending in a newline
    lines: int


def _clean_flow_file(text: bytes, name: str) -> tuple[tuple[str, ...], _FlowFile] | None:
    """(field names, lines) when every line of the file is plainly one row, else None.

    Plain means: ASCII, a readable first line, no carriage returns and no empty lines, so that
    pyarrow makes exactly one row of each line. ReadError if the header itself is unreadable,
    with the message the file's own reader gives."""
    if not text.isascii() or b"\r" in text:
        return None
    head, _, rest = text.partition(b"\n")
    first_line = head.decode().strip()
    if not first_line:
        return None
    fields, has_header = field_order(first_line, name)
    body = rest if has_header else text
    if body.startswith(b"\n") or b"\n\n" in body:
        return None
    if body and not body.endswith(b"\n"):
        body += b"\n"
    return tuple(fields), _FlowFile(-1, body, body.count(b"\n"))


def _flow_group(
    fields: list[str], members: list[_FlowFile], files: list[tuple[InputFile, bytes]]
) -> pa.Table | None:
    """One parse and one conversion for files of the same format; None if any line or value
    is not clean, for the caller to read those files alone."""
    wrong_width = 0

    def on_invalid(_row: object) -> str:
        nonlocal wrong_width
        wrong_width += 1
        return "skip"

    text = b"".join(member.body for member in members)
    expected = sum(member.lines for member in members)
    try:
        parsed = read_text(text, fields, on_invalid)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    if wrong_width or parsed.num_rows != expected:
        return None
    items = [files[member.index][0] for member in members]
    filled = fill_files(
        [member.lines for member in members],
        [item.uri for item in items],
        [item.account for item in items],
        [item.region for item in items],
    )
    table, _, bad = convert(parsed, fields, filled)
    if bad:
        return None
    return table


def _flows(
    files: list[tuple[InputFile, bytes]], chunk_rows: int
) -> tuple[list[FileResult], pa.Table]:
    """The files' results, and all their rows as one table: each format's table, then the
    files read alone (not in the files' order, which a part need not keep), a few chunks."""
    results: list[FileResult | None] = [None] * len(files)
    wholes: list[pa.Table] = []
    alone: list[FileResult] = []

    def read_alone(index: int) -> None:
        item, data = files[index]
        result = _alone("vpc-flow", item, data, chunk_rows)
        results[index] = result
        alone.append(result)

    groups: dict[tuple[str, ...], list[_FlowFile]] = {}
    for index, (item, data) in enumerate(files):
        try:
            clean = _clean_flow_file(inflate(data, item.uri), item.uri)
        except FILE_FAULTS:
            clean = None  # the file's own reader gives the error, with its usual message
        if clean is None:
            read_alone(index)
        else:
            fields, member = clean
            member.index = index
            groups.setdefault(fields, []).append(member)
    for fields, members in groups.items():
        table = _flow_group(list(fields), members, files)
        if table is None:
            for member in members:
                read_alone(member.index)
            continue
        wholes.append(table)
        parts = _slices(table, [member.lines for member in members])
        for member, part in zip(members, parts, strict=True):
            item = files[member.index][0]
            results[member.index] = FileResult(item, [part] if part.num_rows else [])
    wholes.extend(table for result in alone for table in result.tables)
    whole = pa.concat_tables(wholes) if wholes else SCHEMA_OF["vpc-flow"].empty_table()
    return [result for result in results if result is not None], whole


def _joined(kind: str, results: list[FileResult]) -> pa.Table:
    tables = [table for result in results for table in result.tables]
    if not tables:
        return SCHEMA_OF[kind].empty_table()
    return pa.concat_tables(tables).combine_chunks()


def read_batch(
    kind: str, files: list[tuple[InputFile, bytes]], *, chunk_rows: int
) -> list[FileResult]:
    """Each file's rows, problems or error, in the order given: the same as reading each file
    alone, except that a file's rows may come as one table larger than chunk_rows."""
    return read_batch_whole(kind, files, chunk_rows=chunk_rows)[0]


def read_batch_whole(
    kind: str, files: list[tuple[InputFile, bytes]], *, chunk_rows: int
) -> tuple[list[FileResult], pa.Table]:
    """read_batch, and all the files' rows as one table of one chunk or a few, whose slices the
    files' tables are (when the files are read together): what writing a whole batch at once
    wants, where a table of a chunk per file would cost twice as much to ship and to write.
    CloudTrail's keeps the files' order (the rows are sent to this process in it)."""
    if kind == "cloudtrail":
        # The parsed records are many dicts with no cycles; the cyclic collector, run again and
        # again over them all while they are built, measured as a third of the time.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return _cloudtrail(files)
        except FILE_FAULTS:
            pass  # some value the batch conversion rejects: let each file meet it on its own
        finally:
            if collecting:
                gc.enable()
        results = [_alone(kind, item, data, chunk_rows) for item, data in files]
    elif kind == "vpc-flow":
        return _flows(files, chunk_rows)
    else:
        results = [_alone(kind, item, data, chunk_rows) for item, data in files]
    return results, _joined(kind, results)
