"""Reading batches of files in worker processes, so that every core parses.

Parsing JSON into columns is pure Python work and holds the GIL, so threads would not help. A
worker is given a task: a few batches, read one after the other (readers.batch.read_batch_whole),
so that the records parsed at once stay those of one batch. It sends back each file's problems,
error and table sizes, and the rows as one Arrow IPC stream (a record batch per file measured a
third of a worker's time for CloudTrail, to write and to read back). The caller gets what
reading the task's files in this process would have given, with each file's tables as zero-copy
slices of the received rows.

Rows cost more to ship than to write: a pool told where the parts go (write_parts_in) has its
workers write a task's rows as Parquet parts of their own (a row group per batch, a new part
past the most rows a part may have), hidden until the caller puts them in place, and send back
only the files' outcomes (measured: the CloudTrail ingest's CPU time down by about a fifth, most
of it the main process's). A task of several batches makes few large parts instead of many
small ones: every query over the table opens every part, and 112 parts of 9k events each made
the rules over a million events take 3.7 s where 15 parts took 2.4 s.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import sys
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from mamori.detect.readers.batch import SCHEMA_OF, FileResult, read_batch_whole
from mamori.detect.readers.common import Problems
from mamori.detect.readers.sources import InputFile
from mamori.detect.schema import TABLES

# Tasks queued or being read per worker: one to read next while the other is being read,
# and no more, so that the results waiting in the main process stay few.
IN_FLIGHT_PER_WORKER = 2


def temp_part(folder: Path, tag: str = "") -> Path:
    """A new part's path while it is written: a dot name, which dataset_files does not see,
    until it is renamed in place (see final_part)."""
    return folder / f".part-{tag}{uuid.uuid4().hex}.parquet.tmp"


def final_part(temp: Path) -> Path:
    return temp.with_name(temp.name.removeprefix(".").removesuffix(".tmp"))


PART_COMPRESSION = "zstd"
# A Bloom filter per lookup column and row group, sized for the few distinct values a row group
# of one of them holds: measured, rules over 1M CloudTrail events 2.6 s -> 2.0 s (a rule for a
# rare API reads 2 row groups of 100 instead of all), the parts no larger.
_BLOOM = {"ndv": 1024, "fpp": 0.01}


def part_options(table: str) -> dict[str, Any]:
    """How every Parquet part of the table `table` is written (pyarrow writer options)."""
    lookups = TABLES[table].lookup_columns if table in TABLES else ()
    return {
        "compression": PART_COMPRESSION,
        "bloom_filter_options": {column: dict(_BLOOM) for column in lookups} or None,
    }


@dataclass
class PartSpec:
    """Where the workers write parts: each kind's table folder, and the most rows a part may
    have (a batch's rows stay in one part, so one larger than that makes a part of its own)."""

    folders: dict[str, str] = field(default_factory=dict)
    max_rows: int = 0
    tag: str = ""  # in the parts' names, to find those never put in place (see BatchPool.close)


@dataclass(frozen=True)
class WrittenPart:
    """A task's rows, written by the worker as hidden parts (temp_part) in its kind's folder."""

    paths: tuple[Path, ...]
    rows: int


# The part spec of this worker process (set when it starts); empty in the main process.
_WORKER_PARTS = PartSpec()


# glibc's mallopt parameters, and what the workers set them to.
_M_TRIM_THRESHOLD, _M_TOP_PAD = -1, -2
_KEEP_FREED_BYTES = 1 << 30
_HEAP_STEP_BYTES = 64 << 20


def _keep_freed_memory() -> None:
    """Have glibc's malloc keep the memory freed at the top of the heap instead of handing it
    back to the system. A worker frees a batch's parsed records (hundreds of MB of small
    objects) just before it makes the next batch's: given back and faulted in again each time,
    that measured a fifth of a worker's time. The worker's size stays at its peak, which is
    what the memory bound counts anyway. Nothing is done without glibc."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_TRIM_THRESHOLD, _KEEP_FREED_BYTES)
    mallopt(_M_TOP_PAD, _HEAP_STEP_BYTES)


def _start_worker(spec: PartSpec) -> None:
    _WORKER_PARTS.folders, _WORKER_PARTS.max_rows = spec.folders, spec.max_rows
    _WORKER_PARTS.tag = spec.tag
    if sys.platform.startswith("linux"):
        _keep_freed_memory()


@dataclass
class _Outcome:
    """One file's result without its rows: those travel in the batch's IPC stream."""

    problems: Problems
    error: str | None
    sizes: list[int]  # rows of each of the file's tables, in order


Batch = list[tuple[InputFile, bytes]]
# Batches one worker reads one after the other, delivered as one.
Task = list[Batch]
# The rows of a task as an Arrow IPC stream, or the paths of the parts they were written to.
Payload = tuple[bytes | list[str], list[_Outcome]]


def _outcomes(results: list[FileResult]) -> list[_Outcome]:
    return [
        _Outcome(result.problems, result.error, [table.num_rows for table in result.tables])
        for result in results
    ]


class _PartFiles:
    """The hidden parts a worker writes a task's rows to: a row group per batch, and a new part
    when the next batch would take this one past max_rows."""

    def __init__(self, folder: Path, max_rows: int) -> None:
        self.folder = folder
        self.max_rows = max_rows
        self.paths: list[str] = []
        self._writer: pq.ParquetWriter | None = None
        self._rows = 0

    def add(self, rows: pa.Table) -> None:
        if rows.num_rows == 0:
            return
        if self._writer is not None and self._rows + rows.num_rows > self.max_rows:
            self.close()
        if self._writer is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = temp_part(self.folder, _WORKER_PARTS.tag)
            self.paths.append(str(path))
            options = part_options(self.folder.name)
            self._writer = pq.ParquetWriter(path, rows.schema, **options)
        self._writer.write_table(rows)
        self._rows += rows.num_rows

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._writer, self._rows = None, 0


def read_task(kind: str, task: Task, chunk_rows: int) -> tuple[list[FileResult], pa.Table]:
    """A task's batches read one after the other in this process, as one result."""
    results: list[FileResult] = []
    tables: list[pa.Table] = []
    for files in task:
        batch_results, whole = read_batch_whole(kind, files, chunk_rows=chunk_rows)
        results.extend(batch_results)
        tables.append(whole)
    if len(tables) == 1:
        return results, tables[0]
    return results, pa.concat_tables(tables) if tables else SCHEMA_OF[kind].empty_table()


def read_encoded(kind: str, task: Task, chunk_rows: int) -> Payload:
    """The worker's side: the task's batches read one after the other, their rows written as
    parts or packed for the trip back."""
    folder = _WORKER_PARTS.folders.get(kind)
    if folder is None:
        results, whole = read_task(kind, task, chunk_rows)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, SCHEMA_OF[kind]) as stream:
            stream.write_table(whole)
        return sink.getvalue().to_pybytes(), _outcomes(results)
    outcomes: list[_Outcome] = []
    parts = _PartFiles(Path(folder), _WORKER_PARTS.max_rows)
    try:
        for files in task:
            results, whole = read_batch_whole(kind, files, chunk_rows=chunk_rows)
            outcomes.extend(_outcomes(results))
            parts.add(whole)
    finally:
        parts.close()
    return parts.paths, outcomes


def _written(
    items: list[InputFile], paths: list[str], outcomes: list[_Outcome]
) -> tuple[list[FileResult], WrittenPart]:
    results = [
        FileResult(item, [], outcome.problems, outcome.error, written=sum(outcome.sizes))
        for item, outcome in zip(items, outcomes, strict=True)
    ]
    rows = sum(result.written for result in results)
    return results, WrittenPart(tuple(Path(p) for p in paths), rows)


def decode(
    items: list[InputFile], payload: Payload
) -> tuple[list[FileResult], pa.Table | WrittenPart]:
    data, outcomes = payload
    if isinstance(data, list):
        return _written(items, data, outcomes)
    table = pa.ipc.open_stream(data).read_all()
    if table.column(0).num_chunks > 1:
        table = table.combine_chunks()  # a table of many rows may come as several batches
    results: list[FileResult] = []
    offset = 0
    for item, outcome in zip(items, outcomes, strict=True):
        tables = []
        for size in outcome.sizes:
            tables.append(table.slice(offset, size))
            offset += size
        results.append(FileResult(item, tables, outcome.problems, outcome.error))
    return results, table


# Called with a task's results and all its rows as one table (see read_batch_whole) or the
# part they were written to (whose files' rows are then counted in FileResult.written), in the
# order the batches were submitted; with None when the worker process died (which one was
# reading which batch is not known, so none are trusted).
Deliver = Callable[[tuple[list[FileResult], pa.Table | WrittenPart] | None], None]


class BatchPool:
    """Batches read in worker processes, delivered in the order they were submitted."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        # fork: the workers start at once with the readers already imported.
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        # The workers are started by the first batches, with the spec as it is then.
        self._parts = PartSpec()
        self._started = False
        self._executor: ProcessPoolExecutor | None = ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=_start_worker, initargs=(self._parts,)
        )
        self._queue: deque[tuple[Task, Deliver, Future[Payload]]] = deque()

    def write_parts_in(self, folders: dict[str, Path], max_rows: int) -> None:
        """Have the workers write batches of up to max_rows rows as parts in the kind's folder
        (folders: kind -> folder); only before the first batch is submitted."""
        if self._started:
            raise RuntimeError("write_parts_in after the workers have started")
        self._parts.folders = {kind: str(folder) for kind, folder in folders.items()}
        self._parts.max_rows = max_rows
        self._parts.tag = f"{uuid.uuid4().hex[:8]}-"

    @property
    def broken(self) -> bool:
        return self._executor is None

    def submit(self, kind: str, task: Task, chunk_rows: int, deliver: Deliver) -> None:
        """Queue one task; delivers finished tasks first while too many are in flight."""
        while len(self._queue) >= self.workers * IN_FLIGHT_PER_WORKER:
            self._deliver_one()
        if self._executor is not None:
            try:
                self._started = True
                future = self._executor.submit(read_encoded, kind, task, chunk_rows)
            except BrokenProcessPool:
                self._break()
            else:
                self._queue.append((task, deliver, future))
                return
        # This task never reached a worker: it is read here, after those before it.
        self.drain()
        deliver(read_task(kind, task, chunk_rows))

    def drain(self) -> None:
        while self._queue:
            self._deliver_one()

    def _deliver_one(self) -> None:
        task, deliver, future = self._queue.popleft()
        try:
            payload = future.result()
        except (BrokenProcessPool, CancelledError):
            self._break()
            deliver(None)
            return
        deliver(decode([item for files in task for item, _ in files], payload))

    def _break(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def close(self) -> None:
        """Stop the workers, and remove the parts they wrote that were never delivered (the
        pool broke, or the caller stopped first): by then the caller has put in place all those
        it will."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if self._parts.tag:
            for folder in self._parts.folders.values():
                for orphan in Path(folder).glob(f".part-{self._parts.tag}*"):
                    orphan.unlink(missing_ok=True)
