"""Reading batches of files in worker processes, so that every core parses.

Parsing JSON into columns is pure Python work and holds the GIL, so threads would not help. A
worker reads one batch (readers.batch.read_batch_whole) and sends back all of its files' rows
as one Arrow IPC record batch plus each file's problems, error and table sizes: one message per
batch (a record batch per file measured a third of a worker's time for CloudTrail, to write and
to read back). The caller gets what read_batch_whole would have given, with each file's tables
as zero-copy slices of the received batch.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import pyarrow as pa

from mamori.detect.readers.batch import SCHEMA_OF, FileResult, read_batch_whole
from mamori.detect.readers.common import Problems
from mamori.detect.readers.sources import InputFile

# Batches queued or being read per worker: one to read next while the other is being read,
# and no more, so that the results waiting in the main process stay few.
IN_FLIGHT_PER_WORKER = 2


@dataclass
class _Outcome:
    """One file's result without its rows: those travel in the batch's IPC stream."""

    problems: Problems
    error: str | None
    sizes: list[int]  # rows of each of the file's tables, in order


def _encode(kind: str, results: list[FileResult], whole: pa.Table) -> tuple[bytes, list[_Outcome]]:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, SCHEMA_OF[kind]) as stream:
        stream.write_table(whole)
    outcomes = [
        _Outcome(result.problems, result.error, [table.num_rows for table in result.tables])
        for result in results
    ]
    return sink.getvalue().to_pybytes(), outcomes


def read_encoded(
    kind: str, files: list[tuple[InputFile, bytes]], chunk_rows: int
) -> tuple[bytes, list[_Outcome]]:
    """The worker's side: read_batch_whole, with the rows packed for the trip back."""
    return _encode(kind, *read_batch_whole(kind, files, chunk_rows=chunk_rows))


def decode(
    items: list[InputFile], payload: tuple[bytes, list[_Outcome]]
) -> tuple[list[FileResult], pa.Table]:
    data, outcomes = payload
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


Batch = list[tuple[InputFile, bytes]]
# Called with a batch's results and all its rows as one table (see read_batch_whole), in the
# order the batches were submitted; with None when the worker process died (which one was
# reading which batch is not known, so none are trusted).
Deliver = Callable[[tuple[list[FileResult], pa.Table] | None], None]


class BatchPool:
    """Batches read in worker processes, delivered in the order they were submitted."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        # fork: the workers start at once with the readers already imported.
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        self._executor: ProcessPoolExecutor | None = ProcessPoolExecutor(
            self.workers, mp_context=context
        )
        self._queue: deque[tuple[Batch, Deliver, Future[tuple[bytes, list[_Outcome]]]]] = deque()

    @property
    def broken(self) -> bool:
        return self._executor is None

    def submit(self, kind: str, files: Batch, chunk_rows: int, deliver: Deliver) -> None:
        """Queue one batch; delivers finished batches first while too many are in flight."""
        while len(self._queue) >= self.workers * IN_FLIGHT_PER_WORKER:
            self._deliver_one()
        if self._executor is not None:
            try:
                future = self._executor.submit(read_encoded, kind, files, chunk_rows)
            except BrokenProcessPool:
                self._break()
            else:
                self._queue.append((files, deliver, future))
                return
        # This batch never reached a worker: it is read here, after those before it.
        self.drain()
        deliver(read_batch_whole(kind, files, chunk_rows=chunk_rows))

    def drain(self) -> None:
        while self._queue:
            self._deliver_one()

    def _deliver_one(self) -> None:
        files, deliver, future = self._queue.popleft()
        try:
            payload = future.result()
        except (BrokenProcessPool, CancelledError):
            self._break()
            deliver(None)
            return
        deliver(decode([item for item, _ in files], payload))

    def _break(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
