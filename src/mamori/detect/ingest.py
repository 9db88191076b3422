"""Incremental ingest: log files -> Parquet parts under data_dir/<table>/, with a ledger of the
files already read so that a re-run reads only what is new.

Guarantees:
- Memory is bounded: rows are written out in parts of about `batch_records` rows (one part
  being written while the next fills: up to twice that in memory), derived from a memory limit
  if asked (batch_records_for); a file larger than that is spilled in several parts.
- A file is all-or-nothing at the file level: if it cannot be read (corrupt gzip, truncated or
  invalid JSON, not the expected format, S3 AccessDenied), none of its rows are kept, the error
  names it, it is not entered in the ledger, and the next run retries it.
- Partially bad files: when the file as a whole is readable but some records are not (a line
  of the wrong width, a record without a valid time, a truncated last JSON line), the good
  records are kept, the file IS entered in the ledger (re-reading would not fix it), and the
  report carries an error for the file counting what was skipped and why.
- Ledger entries are written after the Parquet parts holding the file's rows are in place, so a
  crash in between can at worst read a file twice, never lose one. A file whose content changes
  (new mtime or ETag) is read again in full.
- One ingest at a time per data_dir: the ledger is not a lock.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from mamori.core import InputError
from mamori.detect.readers import KINDS, TABLE_OF, InputFile, Problems, list_files, read_file
from mamori.detect.readers.batch import FILE_FAULTS, FileResult, describe
from mamori.detect.readers.parallel import (
    BatchPool,
    WrittenPart,
    final_part,
    part_options,
    read_task,
    temp_part,
)
from mamori.detect.readers.sources import is_before, is_s3, read_bytes
from mamori.detect.schema import TABLES

LEDGER_NAME = "ingested.sqlite"

# Files are read in batches of up to this many compressed bytes or files: enough to make the
# per-call costs small, few enough that a batch's parsed records stay within a few hundred MB
# and that the batches in flight to and from worker processes stay small beside the rows
# buffered for a part (1 MB of CloudTrail is about 10k events).
WINDOW_BYTES = 1 << 20
WINDOW_FILES = 2000
BATCH_MIN_FILES = 8
# A worker process is given up to this many batches at once, read one after the other and
# written as one part (readers.parallel): large parts make every query cheaper (1M events: 17
# parts with 8, 11 with 16, the rules 0.8 s faster; ingest time the same). The first tasks are
# of one batch, then two, four...: a small ingest still keeps every worker busy.
TASK_BATCHES = 16
# Kinds whose reading is mostly Python work (JSON to columns), which worker processes speed up;
# flow logs are parsed by pyarrow, where shipping the rows back would cost more than it saves.
POOLED_KINDS = frozenset({"cloudtrail", "dns", "waf"})


@dataclass(frozen=True)
class Source:
    """Where one kind of log is: a local file or folder, or s3://bucket/prefix/."""

    kind: str
    location: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(
                f"unknown log kind {self.kind!r} for {self.location} "
                f"(expected one of {', '.join(KINDS)})"
            )
        if not self.location:
            raise InputError(f"an empty location for the {self.kind} source")


@dataclass
class IngestReport:
    files_read: int = 0
    files_skipped: int = 0  # already in the ledger with the same version stamp
    files_before_since: int = 0  # path day older than --since
    records: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    errors: list[tuple[str, str]] = field(default_factory=list)  # (uri or location, message)
    parts: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Ledger:
    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS ingested (uri TEXT NOT NULL, stamp TEXT NOT NULL,"
            " kind TEXT NOT NULL, records INTEGER NOT NULL, ingested_at TEXT NOT NULL,"
            " PRIMARY KEY (uri, stamp))"
        )
        self._db.commit()

    def has(self, item: InputFile) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM ingested WHERE uri = ? AND stamp = ?", (item.uri, item.stamp)
        ).fetchone()
        return row is not None

    def add(self, entries: Iterable[tuple[InputFile, str, int]]) -> None:
        now = datetime.now(UTC).isoformat()
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO ingested VALUES (?, ?, ?, ?, ?)",
                [(item.uri, item.stamp, kind, n, now) for item, kind, n in entries],
            )

    def close(self) -> None:
        self._db.close()


# A write under way: its future (the temp parts it writes), the ledger entries of the rows in
# them, and the parts worker processes wrote, to be put in place with it.
_Writing = tuple[Future[list[Path]], list[tuple[InputFile, str, int]], list[Path]]


class _PartWriter:
    """Buffers finished files' rows per table and writes them out as Parquet parts.

    A part is written in a background thread (pyarrow lets go of the GIL while it encodes and
    compresses) while the next one is read; its files enter the ledger when the write is over
    and the part is in place, at the next commit or at the end, never before."""

    def __init__(self, data_dir: Path, ledger: _Ledger, report: IngestReport) -> None:
        self.data_dir = data_dir
        self.ledger = ledger
        self.report = report
        self.buffer: dict[str, list[pa.Table]] = {}
        self.buffered = 0
        self.pending: list[tuple[InputFile, str, int]] = []
        self.written: list[Path] = []  # parts written by worker processes, not yet in place
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="mamori-parts")
        self._writing: _Writing | None = None

    def write_temp(self, table: str, chunks: list[pa.Table]) -> Path:
        folder = self.data_dir / table
        folder.mkdir(parents=True, exist_ok=True)
        path = temp_part(folder)
        pq.write_table(pa.concat_tables(chunks), path, **part_options(table))
        return path

    def publish(self, temps: list[Path]) -> None:
        for temp in temps:
            final = final_part(temp)
            os.replace(temp, final)
            self.report.parts.append(final)

    def stage(
        self, table: str, chunks: list[pa.Table], entries: list[tuple[InputFile, str, int]]
    ) -> None:
        self.buffer.setdefault(table, []).extend(chunks)
        self.buffered += sum(c.num_rows for c in chunks)
        self.pending.extend(entries)

    def stage_written(self, part: WrittenPart, entries: list[tuple[InputFile, str, int]]) -> None:
        """A part a worker wrote: put in place with the next commit, as if it were buffered."""
        self.written.extend(part.paths)
        self.buffered += part.rows
        self.pending.extend(entries)

    def commit(self) -> None:
        """Start writing what is buffered, once the write before it is over and in place."""
        self.settle()
        buffer, pending, written = self.buffer, self.pending, self.written
        self.buffer, self.buffered, self.pending, self.written = {}, 0, [], []
        if buffer or pending or written:
            self._writing = (self._thread.submit(self._write_all, buffer), pending, written)

    def _write_all(self, buffer: dict[str, list[pa.Table]]) -> list[Path]:
        return [self.write_temp(t, chunks) for t, chunks in buffer.items() if chunks]

    def settle(self) -> None:
        """Wait for the write under way; put its parts in place, then its files in the ledger.
        A write that failed raises here, and its files stay out of the ledger."""
        if self._writing is not None:
            future, pending, written = self._writing
            self._writing = None
            self.publish(written + future.result())
            self.ledger.add(pending)

    def close(self) -> None:
        self._thread.shutdown(wait=True, cancel_futures=True)


def _as_day(since: date | str | None) -> date | None:
    if since is None:
        return None
    if isinstance(since, datetime):
        return since.date()
    if isinstance(since, date):
        return since
    try:
        return date.fromisoformat(since)
    except ValueError:
        raise InputError(f"--since {since!r}: not a date (YYYY-MM-DD)") from None


def _take(
    item: InputFile,
    kind: str,
    chunks: Iterable[pa.Table],
    problems: Problems,
    writer: _PartWriter,
    batch_records: int,
) -> None:
    """Stage one file's rows in the writer, or report why not (its rows then kept nowhere)."""
    report = writer.report
    table = TABLE_OF[kind]
    staged: list[pa.Table] = []
    staged_rows = 0
    spilled: list[Path] = []
    total = 0
    reading = iter(chunks)
    while True:
        # Only reading is the file's fault: a part that cannot be written stops the ingest.
        try:
            chunk = next(reading, None)
        except FILE_FAULTS as exc:
            for temp in spilled:
                temp.unlink(missing_ok=True)
            report.errors.append((item.uri, describe(exc, item.uri)))
            return
        if chunk is None:
            break
        staged.append(chunk)
        staged_rows += chunk.num_rows
        total += chunk.num_rows
        if writer.buffered + staged_rows > batch_records:
            writer.commit()
            if staged_rows >= batch_records:
                spilled.append(writer.write_temp(table, staged))
                staged, staged_rows = [], 0
    _count(report, item, table, total, problems)
    if spilled:
        if staged:
            spilled.append(writer.write_temp(table, staged))
        writer.publish(spilled)
        writer.ledger.add([(item, kind, total)])
    else:
        writer.stage(table, staged, [(item, kind, total)])


def _count(
    report: IngestReport, item: InputFile, table: str, rows: int, problems: Problems
) -> None:
    """A file read: counted in the report, with the records it had to leave out."""
    report.files_read += 1
    report.records[table] += rows
    if problems.skipped:
        report.errors.append((item.uri, f"{item.uri}: {problems.summary()}"))


def _chunk_rows(batch_records: int) -> int:
    return max(1, batch_records // 4)


def _ingest_file(
    item: InputFile, kind: str, writer: _PartWriter, batch_records: int, s3_client: Any
) -> None:
    problems = Problems()

    def chunks() -> Iterator[pa.Table]:
        data = read_bytes(item, s3_client)
        yield from read_file(
            kind, data, item, chunk_rows=_chunk_rows(batch_records), problems=problems
        )

    _take(item, kind, chunks(), problems, writer, batch_records)


def _pieces(tables: list[pa.Table], rows: int) -> Iterator[pa.Table]:
    for table in tables:
        for start in range(0, table.num_rows, rows):
            yield table.slice(start, rows)


class _Window:
    """Files gathered to be read as one batch (see readers.batch); too few, and each is read
    alone, as the batch would not pay for itself.

    Batches go to worker processes (readers.parallel) once there are at least two of them; the
    first is held back until then, so that a small ingest never starts a pool. Results are
    taken in the order the files were listed whichever way they are read, so the parts and the
    ledger come out as they would from reading in this process."""

    def __init__(
        self,
        kind: str,
        writer: _PartWriter,
        batch_records: int,
        s3_client: Any,
        pools: _Pools,
    ):
        self.kind = kind
        self.writer = writer
        self.batch_records = batch_records
        self.s3_client = s3_client
        self.pools = pools
        self.items: list[InputFile] = []
        self.size = 0
        self.held: list[InputFile] | None = None
        self.task: list[list[InputFile]] = []  # batches for the next worker task
        self.task_batches = 1

    def add(self, item: InputFile) -> None:
        if item.size > WINDOW_BYTES // 4:
            # A large file is read alone, where it can be spilled in parts as it is read.
            self.flush()
            self.settle()
            _ingest_file(item, self.kind, self.writer, self.batch_records, self.s3_client)
            return
        self.items.append(item)
        self.size += item.size
        if self.size >= WINDOW_BYTES or len(self.items) >= WINDOW_FILES:
            self.flush()

    def flush(self) -> None:
        items, self.items, self.size = self.items, [], 0
        if len(items) < BATCH_MIN_FILES:
            self.settle()
            for item in items:
                _ingest_file(item, self.kind, self.writer, self.batch_records, self.s3_client)
            return
        pool = self.pools.get() if self.kind in POOLED_KINDS else None
        if pool is not None and not pool.broken:
            if self.held is not None:
                self.task.append(self.held)
                self.held = None
                self._submit()
            self.task.append(items)
            if len(self.task) >= self.task_batches:
                self._submit()
        elif self.held is None and not self.pools.started and self.kind in POOLED_KINDS:
            self.held = items
        else:
            self.settle()
            self._read([items], None)

    def _submit(self) -> None:
        task, self.task = self.task, []
        self._read(task, self.pools.current)
        self.task_batches = min(TASK_BATCHES, self.task_batches * 2)

    def settle(self) -> None:
        """Take in every batch read or held so far: what comes next is read in this process."""
        if self.task:
            self._submit()
        if self.held is not None:
            held, self.held = self.held, None
            self._read([held], None)
        pool = self.pools.current
        if pool is not None:
            pool.drain()

    def _read(self, batches: list[list[InputFile]], pool: BatchPool | None) -> None:
        """Read batches as one task: by a worker, or here (where a pool is never asked to read
        more than one batch at once, but a broken pool's pending task may be)."""
        items = [item for batch in batches for item in batch]
        if not items:
            return
        rows = _chunk_rows(self.batch_records)
        unread: dict[int, str] = {}
        task: list[list[tuple[InputFile, bytes]]] = []
        index = 0
        for batch in batches:
            files: list[tuple[InputFile, bytes]] = []
            for item in batch:
                try:
                    files.append((item, read_bytes(item, self.s3_client)))
                except FILE_FAULTS as exc:
                    unread[index] = describe(exc, item.uri)
                index += 1
            task.append(files)

        def deliver(read: tuple[list[FileResult], pa.Table | WrittenPart] | None) -> None:
            self._take_batch(items, unread, read)

        if pool is None or pool.broken:
            deliver(read_task(self.kind, task, rows))
        else:
            pool.submit(self.kind, task, rows, deliver)

    def _take_batch(
        self,
        items: list[InputFile],
        unread: dict[int, str],
        read: tuple[list[FileResult], pa.Table | WrittenPart] | None,
    ) -> None:
        report = self.writer.report
        results, whole = read or ([], None)
        # A batch that fits in a part is staged as the one table it came as, all its files at
        # once: the same rows as staging file by file, in a table of one chunk, not one a
        # file, which Parquet writes at half the cost. Larger ones go file by file, to spill.
        # A worker writes its task's rows as parts itself (readers.parallel).
        rows = whole.rows if isinstance(whole, WrittenPart) else whole.num_rows if whole else 0
        at_once = isinstance(whole, WrittenPart) or (
            whole is not None and rows <= self.batch_records
        )
        table = TABLE_OF[self.kind]
        entries: list[tuple[InputFile, str, int]] = []
        pending = iter(results)
        for index, item in enumerate(items):
            if index in unread:
                report.errors.append((item.uri, unread[index]))
                continue
            if read is None:
                report.errors.append((item.uri, f"{item.uri}: {_WORKER_DIED}"))
                continue
            result = next(pending)
            if result.error is not None:
                report.errors.append((item.uri, result.error))
            elif at_once:
                total = sum(chunk.num_rows for chunk in result.tables) + result.written
                _count(report, item, table, total, result.problems)
                entries.append((item, self.kind, total))
            else:
                chunks = _pieces(result.tables, _chunk_rows(self.batch_records))
                _take(item, self.kind, chunks, result.problems, self.writer, self.batch_records)
        if isinstance(whole, WrittenPart):
            if self.writer.buffered + rows > self.batch_records:
                self.writer.commit()
            self.writer.stage_written(whole, entries)
        elif at_once and whole is not None and entries:
            if self.writer.buffered + rows > self.batch_records:
                self.writer.commit()
            self.writer.stage(table, [whole] if rows else [], entries)


_WORKER_DIED = (
    "not read: the worker process reading its batch died (the file is not in the ledger, so "
    "the next run reads it again)"
)


class _Pools:
    """The one worker pool of an ingest, started when the first window asks for it twice.

    `before_start` is called first: the workers are forked, and a fork must not copy a thread
    in the middle of writing a part."""

    def __init__(
        self, before_start: Callable[[], None], data_dir: Path, batch_records: int
    ) -> None:
        self.current: BatchPool | None = None
        self._data_dir = data_dir
        self._batch_records = batch_records
        self.started = False
        self._asked = False
        self._before_start = before_start

    def get(self) -> BatchPool | None:
        if self.current is None and not self.started and (os.cpu_count() or 1) > 1:
            if self._asked:
                self.started = True
                self._before_start()
                self.current = BatchPool(os.cpu_count())
                folders = {kind: self._data_dir / TABLE_OF[kind] for kind in POOLED_KINDS}
                self.current.write_parts_in(folders, self._batch_records)
            self._asked = True
        return self.current

    def close(self) -> None:
        if self.current is not None:
            self.current.close()


# Memory an ingest takes (measured with bench/detect.py on CloudTrail, the largest rows, 1M
# events): about 300 MB for each of the three processes (this one and two workers) whatever
# the input, plus up to about 4 KB a row of batch_records (5 KB with a margin): a part's rows
# buffered while the part before is still being written (some 2 KB a row each), and the
# writer's own buffers.
DEFAULT_BATCH_RECORDS = 200_000  # what a 2GB limit gives
_FIXED_BYTES = 1_000_000_000
_BYTES_PER_ROW = 5_000
_MIN_BATCH_RECORDS, _MAX_BATCH_RECORDS = 10_000, 2_000_000
_UNITS = {"": 1, "B": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_SIZE = re.compile(r"(\d+(?:\.\d*)?)\s*(?:([KMGT])(I?))?B?", re.IGNORECASE)


def memory_bytes(text: str) -> int:
    """A size as DuckDB's memory_limit takes it: 2GB (10^9), 2GiB (2^30), 512MB, 1.5GB."""
    found = _SIZE.fullmatch(text.strip())
    if not found:
        raise InputError(f"--memory-limit {text!r}: expected a size such as 2GB or 512MB")
    unit = (found[2] or "").upper()
    scale = 1024 ** ("KMGT".index(unit) + 1) if found[3] else _UNITS[unit]
    return int(float(found[1]) * scale)


def batch_records_for(memory_limit: str | None) -> int:
    """The rows to buffer for a part so that an ingest stays within the memory limit: what is
    left after the processes' own size (1 GB), at 5 KB a row, within 10,000 and 2,000,000 (below
    about 1 GB the floor wins: the limit cannot be met). DEFAULT_BATCH_RECORDS without one."""
    if memory_limit is None:
        return DEFAULT_BATCH_RECORDS
    spare = memory_bytes(memory_limit) - _FIXED_BYTES
    return min(_MAX_BATCH_RECORDS, max(_MIN_BATCH_RECORDS, spare // _BYTES_PER_ROW))


def ingest(
    sources: list[Source],
    data_dir: Path,
    *,
    since: date | str | None = None,
    batch_records: int | None = None,
    memory_limit: str | None = None,
    s3_client: Any = None,
) -> IngestReport:
    """Read every new log file of the sources into Parquet under data_dir.

    Files already in the ledger with the same version stamp are skipped; with `since`, files
    whose delivery path is dated before it are not read. Problems with a location or a file are
    returned in the report's errors, each naming it; the other files are still read.
    Memory is bounded by the rows buffered for a part: `batch_records`, or as many as
    `memory_limit` (a size such as 2GB) allows (batch_records_for), or a default.
    `s3_client` is used for s3:// locations (a default boto3 client if none is given)."""
    if batch_records is None:
        batch_records = batch_records_for(memory_limit)
    if batch_records < 1:
        raise InputError(f"batch_records must be at least 1, not {batch_records}")
    day = _as_day(since)
    data_dir.mkdir(parents=True, exist_ok=True)
    report = IngestReport()
    ledger = _Ledger(data_dir / LEDGER_NAME)
    writer = _PartWriter(data_dir, ledger, report)
    if s3_client is None and any(is_s3(s.location) for s in sources):
        import boto3

        s3_client = boto3.client("s3")
    seen: set[tuple[str, str]] = set()
    pools = _Pools(writer.settle, data_dir, batch_records)
    try:
        for source in sources:
            window = _Window(source.kind, writer, batch_records, s3_client, pools)
            try:
                for item in list_files(source.location, source.kind, s3_client=s3_client):
                    if is_before(item, day):
                        report.files_before_since += 1
                    elif (item.uri, item.stamp) in seen or ledger.has(item):
                        report.files_skipped += 1
                    else:
                        seen.add((item.uri, item.stamp))
                        window.add(item)
            except InputError as exc:
                report.errors.append((source.location, str(exc)))
            window.flush()
            window.settle()
        writer.commit()
        writer.settle()
    finally:
        pools.close()
        writer.close()
        ledger.close()
    return report


def dataset_files(data_dir: Path, table: str) -> list[Path]:
    """The Parquet parts of one table, for the engine to scan (in a stable order)."""
    if table not in TABLES:
        raise InputError(f"unknown table {table!r} (expected one of {', '.join(TABLES)})")
    folder = data_dir / table
    if not folder.is_dir():
        return []
    return sorted(folder.glob("part-*.parquet"))
