"""The ingest's memory limit: sizes as DuckDB takes them, and the rows buffered for a part
derived from the limit."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from mamori.core import InputError
from mamori.detect import ingest as ingest_module
from mamori.detect.ingest import (
    DEFAULT_BATCH_RECORDS,
    Source,
    batch_records_for,
    dataset_files,
    ingest,
    memory_bytes,
)
from tests.detect.logfiles import CT_DIR, assumed_role_call, cloudtrail_bytes, put


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("2GB", 2 * 10**9),
        ("2 GiB", 2 * 2**30),
        ("512mb", 512 * 10**6),
        ("1.5GB", 15 * 10**8),
        ("64KiB", 64 * 1024),
        ("1000", 1000),
    ],
)
def test_sizes_read_as_duckdb_reads_them(text: str, size: int) -> None:
    assert memory_bytes(text) == size


@pytest.mark.parametrize("text", ["", "lots", "2XB", "-1GB", "1e9", "2iB"])
def test_a_bad_size_is_named(text: str) -> None:
    with pytest.raises(InputError, match=f"--memory-limit {text!r}"):
        memory_bytes(text)


def test_batch_grows_with_the_limit_within_bounds() -> None:
    sizes = [batch_records_for(limit) for limit in ("512MB", "1GB", "2GB", "4GB", "1TB")]
    assert sizes == sorted(sizes)
    assert sizes[0] == sizes[1] == 10_000  # below what the processes need: the floor
    assert sizes[-1] == 2_000_000
    assert 100_000 < batch_records_for("2GB") < 1_000_000
    assert batch_records_for(None) == DEFAULT_BATCH_RECORDS


def test_ingest_buffers_what_the_limit_allows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Scaled down: no fixed part, 1 KB a row, so that 4KB means parts of 4 rows.
    monkeypatch.setattr(ingest_module, "_FIXED_BYTES", 0)
    monkeypatch.setattr(ingest_module, "_BYTES_PER_ROW", 1000)
    monkeypatch.setattr(ingest_module, "_MIN_BATCH_RECORDS", 1)
    logs = tmp_path / "logs"
    for n in range(10):
        put(logs, f"{CT_DIR}/f{n}.json.gz", cloudtrail_bytes([assumed_role_call(n)]))
    report = ingest([Source("cloudtrail", str(logs))], tmp_path / "data", memory_limit="4KB")
    sizes = [
        pq.ParquetFile(p).metadata.num_rows for p in dataset_files(tmp_path / "data", "events")
    ]
    assert sum(sizes) == report.records["events"] == 10
    assert max(sizes) <= 4 and len(sizes) >= 3
    with pytest.raises(InputError, match="--memory-limit 'much'"):
        ingest([Source("cloudtrail", str(logs))], tmp_path / "other", memory_limit="much")
