"""A batch of files staged whole (one table for all its files) gives the rows, report and ledger
that staging file by file gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from mamori.detect import ingest as ingest_module
from mamori.detect.ingest import ingest
from mamori.detect.readers.batch import read_batch_whole
from tests.detect.test_ingest_batch import _CT_FILES, _FLOW_FILES, _item, _parts, sample_logs


def _sorted_rows(tables: list[pa.Table]) -> list[dict[str, Any]]:
    rows = [row for table in tables for row in table.to_pylist()]
    return sorted(rows, key=lambda row: (row["source_file"], row["raw"]))


@pytest.mark.parametrize(
    ("kind", "files"), [("cloudtrail", _CT_FILES), ("vpc-flow", _FLOW_FILES)], ids=["ct", "flow"]
)
def test_the_whole_table_holds_every_files_rows(kind: str, files: dict[str, bytes]) -> None:
    batch = [(_item(name), data) for name, data in sorted(files.items())]
    results, whole = read_batch_whole(kind, batch, chunk_rows=100)
    tables = [table for result in results for table in result.tables]
    assert whole.num_rows == sum(t.num_rows for t in tables) > 0
    assert _sorted_rows([whole]) == _sorted_rows(tables)
    if kind == "cloudtrail":  # sent between processes in the files' order, as one chunk
        assert whole.column(0).num_chunks == 1
        assert whole.to_pylist() == [row for table in tables for row in table.to_pylist()]


def test_staging_whole_batches_equals_staging_file_by_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = sample_logs(tmp_path / "logs", 3)
    monkeypatch.setattr(ingest_module, "BATCH_MIN_FILES", 1)
    monkeypatch.setattr(ingest_module, "WINDOW_FILES", 7)
    outcomes = []
    for records in (100_000, 3):  # whole batches fit in a part; then none does
        data = tmp_path / f"data-{records}"
        report = ingest(sources, data, batch_records=records)
        outcomes.append((report.files_read, report.records, sorted(report.errors), _parts(data)))
    whole, by_file = outcomes
    assert whole == by_file
    assert by_file[1]["events"] > 0 and by_file[1]["flows"] > 0
