"""Batches read in worker processes give what reading in-process gives; a dead worker costs
only the files it may have been reading, named, and the next run reads them."""

from __future__ import annotations

import os
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from mamori.detect import ingest as ingest_module
from mamori.detect.ingest import Source, ingest
from mamori.detect.readers import parallel
from tests.detect.logfiles import CT_DIR, put
from tests.detect.test_ingest_batch import _CT_FILES, _parts, sample_logs

_COPIES = 4  # each sample file this many times, for several batches of two files


def _logs(root: Path) -> list[Source]:
    return sample_logs(root, _COPIES)


class _CountingPool(parallel.BatchPool):
    made = 0

    def __init__(self, workers: int | None = None) -> None:
        type(self).made += 1
        super().__init__(workers)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> type[_CountingPool]:
    monkeypatch.setattr(ingest_module, "BATCH_MIN_FILES", 1)
    monkeypatch.setattr(ingest_module, "WINDOW_FILES", 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(_CountingPool, "made", 0)
    monkeypatch.setattr(ingest_module, "BatchPool", _CountingPool)
    return _CountingPool


def _outcome(data: Path, sources: list[Source]) -> tuple[Any, ...]:
    report = ingest(sources, data, batch_records=5)
    return report.files_read, report.records, sorted(report.errors), _parts(data)


def test_workers_give_what_in_process_reading_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_batches: type[_CountingPool]
) -> None:
    sources = _logs(tmp_path / "logs")
    pooled = _outcome(tmp_path / "pooled", sources)
    assert small_batches.made == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    alone = _outcome(tmp_path / "alone", sources)
    assert small_batches.made == 1
    assert pooled == alone
    assert alone[1]["events"] > 0 and alone[1]["flows"] > 0


def test_few_files_start_no_pool(tmp_path: Path, small_batches: type[_CountingPool]) -> None:
    root = tmp_path / "logs"
    put(root, f"{CT_DIR}/a.json.gz", _CT_FILES["a.json.gz"])
    put(root, f"{CT_DIR}/b.json.gz", _CT_FILES["b.json.gz"])
    report = ingest([Source("cloudtrail", str(root))], tmp_path / "data")
    assert report.files_read == 2 and report.ok
    assert small_batches.made == 0


_READ_ENCODED = parallel.read_encoded


def _die_on_poison(kind: str, task: parallel.Task, chunk_rows: int) -> parallel.Payload:
    if any("poison" in item.uri for files in task for item, _ in files):
        os._exit(3)
    return _READ_ENCODED(kind, task, chunk_rows)


def _ledger(data: Path) -> set[str]:
    """The files an ingest into `data` read (its ledger)."""
    import sqlite3

    with closing(sqlite3.connect(data / ingest_module.LEDGER_NAME)) as con:
        return {uri for (uri,) in con.execute("SELECT uri FROM ingested")}


def test_a_dead_worker_costs_only_its_files_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_batches: type[_CountingPool]
) -> None:
    sources = _logs(tmp_path / "logs")
    put(tmp_path / "logs", f"{CT_DIR}/1-poison.json.gz", _CT_FILES["a.json.gz"])
    expected = _outcome(tmp_path / "expected", sources)
    monkeypatch.setattr(parallel, "read_encoded", _die_on_poison)
    data = tmp_path / "data"
    report = ingest(sources, data, batch_records=5)
    died = [uri for uri, message in report.errors if "worker process" in message]
    assert any("poison" in uri for uri in died)
    assert all(uri in message for uri, message in report.errors)
    # A broken sample file that shared the dying batch is named as lost with it; it would not
    # have been read anyway, so only the readable ones count against the files read.
    readable = _ledger(tmp_path / "expected")
    readable_died = [uri for uri in died if uri in readable]
    assert report.files_read + len(readable_died) == expected[0]
    assert report.records["flows"] > 0  # the files after the death were still read
    monkeypatch.setattr(parallel, "read_encoded", _READ_ENCODED)
    again = ingest(sources, data, batch_records=5)
    assert again.files_read == len(readable_died)
    assert _parts(data) == expected[3]
