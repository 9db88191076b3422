"""The ledger is written in batches, a part at a time, and only for files whose rows are in
place: a run that fails while writing a part leaves its files out, and the next run reads them,
with no row lost and none read twice."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from mamori.detect import ingest as ingest_module
from mamori.detect.ingest import LEDGER_NAME, Source, dataset_files, ingest
from tests.detect.logfiles import CT_DIR, assumed_role_call, cloudtrail_bytes, put

_FILES = 12


def _logs(root: Path) -> Source:
    for n in range(_FILES):
        put(root, f"{CT_DIR}/f{n:02}.json.gz", cloudtrail_bytes([assumed_role_call(n)]))
    return Source("cloudtrail", str(root))


def _rows_by_file(data: Path) -> Counter[str]:
    return Counter(
        Path(uri).name
        for part in dataset_files(data, "events")
        for uri in pq.read_table(part, columns=["source_file"]).column(0).to_pylist()
    )


def _ledger(data: Path) -> set[str]:
    import sqlite3

    with sqlite3.connect(data / LEDGER_NAME) as db:
        return {Path(uri).name for (uri,) in db.execute("SELECT uri FROM ingested")}


def test_a_failed_part_write_leaves_its_files_out_of_the_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, data = _logs(tmp_path / "logs"), tmp_path / "data"
    write = pq.write_table
    calls = 0

    def failing(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError("disk full")
        write(*args, **kwargs)

    monkeypatch.setattr(ingest_module.pq, "write_table", failing)
    with pytest.raises(OSError, match="disk full"):
        ingest([source], data, batch_records=2)
    written, ledger = _rows_by_file(data), _ledger(data)
    assert ledger and len(ledger) < _FILES
    assert ledger <= set(written)  # every file in the ledger has its rows in a part
    assert not list((data / "events").glob("part-*.tmp"))

    monkeypatch.setattr(ingest_module.pq, "write_table", write)
    again = ingest([source], data, batch_records=2)
    assert again.ok and again.files_read == _FILES - len(ledger)
    assert _rows_by_file(data) == Counter(f"f{n:02}.json.gz" for n in range(_FILES))
    assert _ledger(data) == {f"f{n:02}.json.gz" for n in range(_FILES)}


def test_ledger_entries_are_written_a_part_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, data = _logs(tmp_path / "logs"), tmp_path / "data"
    batches: list[int] = []
    add = ingest_module._Ledger.add

    def counting(self: Any, entries: Any) -> None:
        entries = list(entries)
        batches.append(len(entries))
        add(self, entries)

    monkeypatch.setattr(ingest_module._Ledger, "add", counting)
    report = ingest([source], data, batch_records=5)
    assert report.files_read == _FILES
    assert sum(batches) == _FILES
    assert len([n for n in batches if n]) == len(dataset_files(data, "events")) < _FILES
