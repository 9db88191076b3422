"""Worker processes write the parts of the tasks they read: the same rows as reading in this
process, a row group per batch and parts within the most rows a part may have, put in place and
entered in the ledger by the ingest, and glibc told to keep the workers' freed memory."""

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
from mamori.detect.readers.batch import FileResult
from tests.detect.logfiles import CT_DIR, put
from tests.detect.test_ingest_batch import _CT_FILES, _parts, sample_logs

_Read = tuple[list[FileResult], pa.Table | parallel.WrittenPart] | None


def _batch() -> list[tuple[InputFile, bytes]]:
    return [(InputFile(f"{CT_DIR}/{name}", 0, "1"), data) for name, data in _CT_FILES.items()]


def _task(batches: int) -> parallel.Task:
    """The sample files `batches` times over, a batch each time."""
    return [_batch() for _ in range(batches)]


def _read_in_pool(folder: Path, max_rows: int, task: parallel.Task) -> _Read:
    pool = parallel.BatchPool(1)
    pool.write_parts_in({"cloudtrail": folder}, max_rows)
    delivered: list[_Read] = []
    try:
        pool.submit("cloudtrail", task, 100, delivered.append)
        pool.drain()
        [read] = delivered
        if read is not None and isinstance(read[1], parallel.WrittenPart):
            # Hidden until the caller puts them in place, as it does here before the pool closes.
            finals = []
            for hidden in read[1].paths:
                assert hidden.name.startswith(".") and hidden.exists()
                finals.append(parallel.final_part(hidden))
                hidden.rename(finals[-1])
            read = (read[0], parallel.WrittenPart(tuple(finals), read[1].rows))
    finally:
        pool.close()
    return read


def _outcomes(results: list[FileResult]) -> list[tuple[Any, ...]]:
    rows = [sum(t.num_rows for t in r.tables) + r.written for r in results]
    return [(r.item.uri, r.error, r.problems, n) for r, n in zip(results, rows, strict=True)]


def _expected(batches: int) -> tuple[list[FileResult], pa.Table]:
    return parallel.read_task("cloudtrail", _task(batches), 100)


def test_a_worker_writes_a_task_that_fits_as_one_hidden_part(tmp_path: Path) -> None:
    expected, whole = _expected(3)
    read = _read_in_pool(tmp_path / "events", whole.num_rows, _task(3))
    assert read is not None
    results, part = read
    assert isinstance(part, parallel.WrittenPart)
    [path] = part.paths
    assert path.parent == tmp_path / "events"
    assert part.rows == whole.num_rows > 0
    assert pq.read_table(path).equals(whole)
    assert pq.ParquetFile(path).num_row_groups == 3  # a row group per batch
    assert all(not result.tables for result in results)
    assert _outcomes(results) == _outcomes(expected)


def test_a_task_larger_than_a_part_is_written_as_several(tmp_path: Path) -> None:
    expected, whole = _expected(5)
    one_batch = _expected(1)[1].num_rows
    read = _read_in_pool(tmp_path / "events", 2 * one_batch, _task(5))
    assert read is not None
    results, part = read
    assert isinstance(part, parallel.WrittenPart)
    assert [pq.read_metadata(p).num_rows for p in part.paths] == [
        2 * one_batch,
        2 * one_batch,
        one_batch,
    ]
    assert pa.concat_tables([pq.read_table(p) for p in part.paths]).equals(whole)
    assert _outcomes(results) == _outcomes(expected)


def test_a_batch_larger_than_a_part_is_a_part_of_its_own(tmp_path: Path) -> None:
    one_batch = _expected(1)[1].num_rows
    read = _read_in_pool(tmp_path / "events", one_batch - 1, _task(2))
    assert read is not None and isinstance(read[1], parallel.WrittenPart)
    assert [pq.read_metadata(p).num_rows for p in read[1].paths] == [one_batch, one_batch]


def test_without_part_folders_the_rows_come_back(tmp_path: Path) -> None:
    expected, whole = _expected(2)
    pool = parallel.BatchPool(1)
    delivered: list[_Read] = []
    try:
        pool.submit("cloudtrail", _task(2), 100, delivered.append)
        pool.drain()
    finally:
        pool.close()
    [read] = delivered
    assert read is not None
    results, table = read
    assert isinstance(table, pa.Table) and table.equals(whole)
    assert _outcomes(results) == _outcomes(expected)


def test_the_part_folders_are_fixed_before_the_workers_start(tmp_path: Path) -> None:
    pool = parallel.BatchPool(1)
    try:
        pool.submit("cloudtrail", [_batch()[:1]], 100, lambda read: None)
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
        _assert_bloom_filtered(report.parts)
        assert not (data / "dns").exists()
        assert sorted(report.parts) == sorted((data / "events").glob("part-*.parquet"))
        outcomes.append((report.records, sorted(report.errors), ledger, _parts(data)))
        # In this process, all rows fit one part; workers write a part for each task, of one
        # batch at first, then of two, four...: a row group each.
        assert (len(report.parts) > 1) == (cores == 2)
        groups = sorted(pq.ParquetFile(p).num_row_groups for p in report.parts)
        assert groups == ([1] if cores == 1 else [1, 1, 2, 4][: len(groups)])
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
    pool.submit("cloudtrail", _task(1), 100, lambda read: None)
    pool.drain()  # delivered, but the caller never put the part in place
    assert list((tmp_path / "events").glob(".part-*"))
    put(tmp_path, "events/.part-other.parquet.tmp", b"another writer's part")
    pool.close()
    assert [p.name for p in (tmp_path / "events").iterdir()] == [".part-other.parquet.tmp"]


def _assert_bloom_filtered(parts: list[Path]) -> None:
    """Every row group of every part rules out, by its Bloom filter, an API no record called;
    the API of a part's first record is not ruled out everywhere."""
    import duckdb

    def excluded(part: Path, name: str) -> list[bool]:
        rows = duckdb.sql(
            "SELECT bloom_filter_excludes FROM parquet_bloom_probe(?, 'event_name', ?)",
            params=[str(part), name],
        ).fetchall()
        return [bool(row[0]) for row in rows]

    for part in parts:
        present = pq.read_table(part, columns=["event_name"]).column(0)[0].as_py()
        assert all(excluded(part, "NoSuchApiEverCalled")), part
        assert not all(excluded(part, present)), part
