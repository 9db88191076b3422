"""Batched reading of many small files gives, file by file, what reading each alone gives."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mamori.detect import ingest as ingest_module
from mamori.detect.ingest import Source, dataset_files, ingest
from mamori.detect.readers import InputFile, Problems, read_file
from mamori.detect.readers.batch import read_batch
from mamori.detect.schema import TABLES
from tests.detect.logfiles import (
    CT_DIR,
    FLOW_DIR,
    FLOW_V2_HEADER,
    FLOW_V2_LINES,
    FLOW_V5_HEADER,
    FLOW_V5_LINES,
    assumed_role_call,
    cloudtrail_bytes,
    lines_bytes,
    put,
    s3_data_event,
)

_GOOD_CT = cloudtrail_bytes([assumed_role_call(1), s3_data_event()])
_CT_FILES = {
    "a.json.gz": _GOOD_CT,
    "odd-time.json.gz": cloudtrail_bytes(
        [assumed_role_call(2, eventTime="yesterday"), "not a record", assumed_role_call(3)]
    ),
    "broken.json.gz": _GOOD_CT[: len(_GOOD_CT) // 2],
    "empty.json": b'{"Records": []}',
    "typed.json": b'{"Records": [{"eventTime": "2024-03-05T10:00:00Z", "eventName": 7}]}',
    "b.json.gz": cloudtrail_bytes([assumed_role_call(i) for i in range(4, 9)]),
}
_FLOW_FILES = {
    "v2.log.gz": lines_bytes([FLOW_V2_HEADER, *FLOW_V2_LINES]),
    "v5.log.gz": lines_bytes([FLOW_V5_HEADER, *FLOW_V5_LINES]),
    "v2-again.log": lines_bytes([FLOW_V2_HEADER, *FLOW_V2_LINES[:1]], compress=False),
    "short-line.log.gz": lines_bytes([FLOW_V2_HEADER, *FLOW_V2_LINES, "2 short line"]),
    "no-header.log.gz": lines_bytes(FLOW_V2_LINES),
    "crlf.log": "\r\n".join([FLOW_V2_HEADER, *FLOW_V2_LINES]).encode(),
    "header-only.log.gz": lines_bytes([FLOW_V2_HEADER]),
    "bad-header.log.gz": lines_bytes(["2 x y", *FLOW_V2_LINES]),
    "not-gzip.log.gz": b"plain text",
    "binary.log": b"\xff\xfe\x00binary\x00",
    "blank-lines.log.gz": gzip.compress(
        ("\n".join([FLOW_V2_HEADER, FLOW_V2_LINES[0], "", FLOW_V2_LINES[1]]) + "\n").encode()
    ),
    "bad-number.log.gz": lines_bytes([FLOW_V2_HEADER, FLOW_V2_LINES[0].replace(" 6 ", " x ")]),
}


def _item(name: str) -> InputFile:
    return InputFile(f"logs/{name}", 0, "1", account="123456789012", region="eu-west-1")


def _alone(kind: str, name: str, data: bytes) -> tuple[list[dict[str, Any]], Problems, bool]:
    problems = Problems()
    try:
        tables = list(read_file(kind, data, _item(name), chunk_rows=100, problems=problems))
    except Exception:  # noqa: BLE001 - any error: the batch must report one too
        return [], Problems(), True
    rows = pa.concat_tables(tables).to_pylist() if tables else []
    return rows, problems, False


# Without the files whose odd lines already send their whole group to be read file by file.
_FLOW_VALUES_ONLY = {
    n: _FLOW_FILES[n] for n in ("v2.log.gz", "v2-again.log", "bad-number.log.gz", "v5.log.gz")
}


@pytest.mark.parametrize(
    ("kind", "files"),
    [("cloudtrail", _CT_FILES), ("vpc-flow", _FLOW_FILES), ("vpc-flow", _FLOW_VALUES_ONLY)],
    ids=["cloudtrail", "vpc-flow", "vpc-flow-bad-value"],
)
def test_batch_matches_reading_each_file_alone(kind: str, files: dict[str, bytes]) -> None:
    names = sorted(files)
    results = read_batch(kind, [(_item(n), files[n]) for n in names], chunk_rows=100)
    assert [r.item.uri for r in results] == [f"logs/{n}" for n in names]
    for name, result in zip(names, results, strict=True):
        rows, problems, failed = _alone(kind, name, files[name])
        assert (result.error is not None) == failed, name
        if failed:
            assert f"logs/{name}" in str(result.error)
            continue
        got = pa.concat_tables(result.tables).to_pylist() if result.tables else []
        assert got == rows, name
        assert result.problems == problems, name


def test_flow_batch_fills_each_files_account_and_region() -> None:
    files = [
        (
            InputFile(f"f{n}.log.gz", 0, "1", f"00000000000{n}", "us-east-1"),
            _FLOW_FILES["v5.log.gz"],
        )
        for n in range(3)
    ]
    results = read_batch("vpc-flow", files, chunk_rows=10)
    for n, result in enumerate(results):
        [table] = result.tables
        assert set(table.column("source_file").to_pylist()) == {f"f{n}.log.gz"}
        assert set(table.column("account_id").to_pylist()) == {f"00000000000{n}"}
        assert table.num_rows == len(FLOW_V5_LINES)


def sample_logs(root: Path, copies: int, *, flows: bool = True) -> list[Source]:
    """The sample files (good and broken) `copies` times over under `root`, and their sources."""
    for copy in range(copies):
        for name, content in _CT_FILES.items():
            put(root, f"{CT_DIR}/{copy}-{name}", content)
        for name, content in _FLOW_FILES.items() if flows else ():
            put(root, f"{FLOW_DIR}/{copy}-{name}", content)
    kinds = ["cloudtrail", "vpc-flow"] if flows else ["cloudtrail"]
    return [Source(kind, str(root)) for kind in kinds]


def _parts(data_dir: Path) -> dict[str, list[dict[str, Any]]]:
    return {
        name: sorted(
            (row for p in dataset_files(data_dir, name) for row in pq.read_table(p).to_pylist()),
            key=lambda row: (row["source_file"], row["raw"]),
        )
        for name in TABLES
    }


def test_ingest_in_batches_equals_ingest_file_by_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = tmp_path / "logs"
    for name, content in _CT_FILES.items():
        put(logs, f"{CT_DIR}/{name}", content)
    for name, content in _FLOW_FILES.items():
        put(logs, f"{FLOW_DIR}/{name}", content)
    sources = [Source("cloudtrail", str(logs)), Source("vpc-flow", str(logs))]
    outcomes = []
    for minimum in (1, 10_000):
        monkeypatch.setattr(ingest_module, "BATCH_MIN_FILES", minimum)
        data = tmp_path / f"data-{minimum}"
        report = ingest(sources, data, batch_records=5)
        outcomes.append((report.files_read, report.records, sorted(report.errors), _parts(data)))
    batched, alone = outcomes
    assert batched == alone
    assert alone[0] > 0 and alone[1]["events"] > 0 and alone[1]["flows"] > 0
