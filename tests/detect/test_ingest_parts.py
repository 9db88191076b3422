"""Worker processes write the parts of the batches they read: the same rows as reading in this
process, put in place and entered in the ledger by the ingest, the larger batches' rows still
sent back, and glibc told to keep the workers' freed memory."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mamori.detect import ingest as ingest_module
from mamori.detect.ingest import LEDGER_NAME, ingest
from mamori.detect.readers import InputFile, parallel
from mamori.detect.readers.batch import FileResult, read_batch_whole
from tests.detect.logfiles import CT_DIR, put
from tests.detect.test_ingest_batch import _CT_FILES, _parts, sample_logs

_Read = tuple[list[FileResult], pa.Table | parallel.WrittenPart] | None


def _batch() -> list[tuple[InputFile, bytes]]:
    return [(InputFile(f"{CT_DIR}/{name}", 0, "1"), data) for name, data in _CT_FILES.items()]


def _read_in_pool(folder: Path, max_rows: int) -> _Read:
    pool = parallel.BatchPool(1)
    pool.write_parts_in({"cloudtrail": folder}, max_rows)
    delivered: list[_Read] = []
    try:
        pool.submit("cloudtrail", _batch(), 100, delivered.append)
        pool.drain()
        [read] = delivered
        if read is not None and isinstance(read[1], parallel.WrittenPart):
            # Hidden until the caller puts it in place, as it does here before the pool closes.
            hidden = read[1].path
            assert hidden.name.startswith(".") and hidden.exists()
            final = parallel.final_part(hidden)
            hidden.rename(final)
            read = (read[0], parallel.WrittenPart(final, read[1].rows))
    finally:
        pool.close()
    return read


def _outcomes(results: list[FileResult]) -> list[tuple[Any, ...]]:
    rows = [sum(t.num_rows for t in r.tables) + r.written for r in results]
    return [(r.item.uri, r.error, r.problems, n) for r, n in zip(results, rows, strict=True)]


def test_a_worker_writes_a_batch_that_fits_as_a_hidden_part(tmp_path: Path) -> None:
    expected, whole = read_batch_whole("cloudtrail", _batch(), chunk_rows=100)
    read = _read_in_pool(tmp_path / "events", whole.num_rows)
    assert read is not None
    results, part = read
    assert isinstance(part, parallel.WrittenPart)
    assert part.path.parent == tmp_path / "events"
    assert part.rows == whole.num_rows > 0
    assert pq.read_table(part.path).equals(whole)
    assert all(not result.tables for result in results)
    assert _outcomes(results) == _outcomes(expected)


def test_a_batch_larger_than_a_part_comes_back_as_rows(tmp_path: Path) -> None:
    expected, whole = read_batch_whole("cloudtrail", _batch(), chunk_rows=100)
    read = _read_in_pool(tmp_path / "events", whole.num_rows - 1)
    assert read is not None
    results, table = read
    assert isinstance(table, pa.Table) and table.equals(whole)
    assert not (tmp_path / "events").exists()  # nothing written
    assert _outcomes(results) == _outcomes(expected)


def test_the_part_folders_are_fixed_before_the_workers_start(tmp_path: Path) -> None:
    pool = parallel.BatchPool(1)
    try:
        pool.submit("cloudtrail", _batch()[:1], 100, lambda read: None)
        with pytest.raises(RuntimeError, match="after the workers have started"):
            pool.write_parts_in({"cloudtrail": tmp_path}, 10)
    finally:
        pool.close()


def test_parts_written_by_workers_are_put_in_place_and_in_the_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = sample_logs(tmp_path / "logs", 4, flows=False)
    monkeypatch.setattr(ingest_module, "BATCH_MIN_FILES", 1)
    monkeypatch.setattr(ingest_module, "WINDOW_FILES", 3)
    written: list[Path] = []

    class Recording(parallel.BatchPool):
        def write_parts_in(self, folders: dict[str, Path], max_rows: int) -> None:
            written.extend(folders.values())
            super().write_parts_in(folders, max_rows)

    monkeypatch.setattr(ingest_module, "BatchPool", Recording)
    outcomes = []
    for cores in (2, 1):
        monkeypatch.setattr(os, "cpu_count", lambda cores=cores: cores)
        data = tmp_path / f"data-{cores}"
        report = ingest(sources, data, batch_records=1000)
        with sqlite3.connect(data / LEDGER_NAME) as db:
            ledger = sorted(uri for (uri,) in db.execute("SELECT uri FROM ingested"))
        assert not list((data / "events").glob(".*"))  # every part renamed in place
        assert not (data / "dns").exists()
        assert sorted(report.parts) == sorted((data / "events").glob("part-*.parquet"))
        outcomes.append((report.records, sorted(report.errors), ledger, _parts(data)))
        # In this process, all rows fit one part; workers write a part for each batch.
        assert (len(report.parts) > 1) == (cores == 2)
    assert tmp_path / "data-2" / "events" in written
    pooled, alone = outcomes
    assert pooled == alone
    assert pooled[0]["events"] > 0 and len(pooled[2]) > len(_CT_FILES)


def test_workers_keep_freed_memory_with_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []

    class Libc:
        def mallopt(self, parameter: int, value: int) -> int:
            calls.append((parameter, value))
            return 1

    monkeypatch.setattr(parallel.ctypes, "CDLL", lambda name: Libc())
    parallel._keep_freed_memory()
    assert calls == [(-1, 1 << 30), (-2, 64 << 20)]  # M_TRIM_THRESHOLD, M_TOP_PAD

    def missing(name: object) -> Any:
        raise OSError("no libc")

    monkeypatch.setattr(parallel.ctypes, "CDLL", missing)
    parallel._keep_freed_memory()  # without glibc: nothing done, no error


def test_parts_never_delivered_are_removed_when_the_pool_closes(tmp_path: Path) -> None:
    pool = parallel.BatchPool(1)
    pool.write_parts_in({"cloudtrail": tmp_path / "events"}, 1000)
    pool.submit("cloudtrail", _batch(), 100, lambda read: None)
    pool.drain()  # delivered, but the caller never put the part in place
    assert list((tmp_path / "events").glob(".part-*"))
    put(tmp_path, "events/.part-other.parquet.tmp", b"another writer's part")
    pool.close()
    assert [p.name for p in (tmp_path / "events").iterdir()] == [".part-other.parquet.tmp"]
