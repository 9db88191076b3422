"""Building the graph: incrementally, part by part as logs are ingested, gives the same tables
as one build over everything; only new parts are read; a build is all or nothing."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mamori.core import InputError, StoreError
from mamori.detect.ingest import Source, ingest
from mamori.investigate import Graph, update
from mamori.investigate import graphdir as gd
from mamori.investigate.tables import LINKS_FILE, SPECS
from tests.investigate.world import ACCOUNT, DAVE, World

_KINDS = ("cloudtrail", "vpc-flow", "dns")


def _tables(data_dir: Path) -> dict[str, list[dict[str, object]]]:
    state = gd.read_state(data_dir)
    assert state is not None
    folder = state.folder(data_dir)
    out = {}
    for name in [*SPECS, "finding_links"]:
        table = pq.read_table(folder / (f"{name}.parquet" if name in SPECS else LINKS_FILE))
        out[name] = sorted(table.to_pylist(), key=repr)
    return out


def _ingest(logs: Path, data_dir: Path) -> None:
    report = ingest([Source(kind, str(logs)) for kind in _KINDS], data_dir)
    assert report.errors == []


def _day(logs: Path, day: str, into: Path) -> Path:
    """A copy of the logs of one day (the tree's delivery layout kept)."""
    for path in logs.rglob(f"*/2026/11/{day}/*"):
        target = into / path.relative_to(logs)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return into


def test_incremental_builds_equal_a_full_build(world: World, tmp_path: Path) -> None:
    data = tmp_path / "data"
    # Day one is ingested and taken in, then day two on top of it, from the same files.
    growing = _day(world.logs, "01", tmp_path / "logs")
    _ingest(growing, data)
    first = update(data, findings=world.findings[:2])
    assert first.changed and first.parts["events"] >= 1 and not first.rebuilt
    _day(world.logs, "02", growing)
    _ingest(growing, data)
    second = update(data, findings=world.findings[2:])
    # Only the new parts were read: day two's records, not day one's again.
    for table in ("events", "flows", "dns"):
        parts = list((data / table).glob("part-*.parquet"))
        total = sum(pq.read_metadata(p).num_rows for p in parts)
        assert second.parts[table] == len(parts) - first.parts[table] >= 1
        assert second.records[table] == total - first.records[table] > 0
    incremental = _tables(data)
    full = tmp_path / "full"
    shutil.copytree(data, full, ignore=shutil.ignore_patterns("graph"))
    rebuilt = update(full, findings=world.findings, rebuild=True)
    assert rebuilt.rebuilt == "asked for"
    assert _tables(full) == incremental
    # And it is the graph the detection run built over the same logs in one go.
    assert _tables(world.data_dir) == incremental


def test_a_build_without_new_parts_changes_nothing(world: World, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(world.data_dir, data)
    before = gd.read_state(data)
    report = update(data)
    assert not report.changed and report.parts == {}
    assert gd.read_state(data) == before


def test_a_rewritten_part_rebuilds_the_graph(world: World, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(world.data_dir, data)
    part = sorted((data / "dns").glob("part-*.parquet"))[0]
    table = pq.read_table(part)
    pq.write_table(table.slice(0, table.num_rows // 2), part)
    report = update(data)
    assert report.changed
    assert str(part) in report.rebuilt
    with Graph.open(data) as graph:
        [(records,)] = graph.con.sql(
            "SELECT sum(records) FROM entities WHERE kind = 'domain'"
        ).fetchall()
    assert records == table.num_rows // 2 + _other_dns_rows(data, part)


def _other_dns_rows(data: Path, rewritten: Path) -> int:
    others = [p for p in (data / "dns").glob("part-*.parquet") if p != rewritten]
    return sum(pq.read_metadata(p).num_rows for p in others)


def test_a_failed_build_leaves_the_graph_as_it_was(world: World, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(world.data_dir, data)
    before = gd.read_state(data)
    assert before is not None
    (data / "events" / "part-broken.parquet").write_bytes(b"PAR1 this is no parquet PAR1")
    with pytest.raises(InputError, match="cannot build the investigation graph"):
        update(data)
    assert gd.read_state(data) == before
    assert [p.name for p in gd.graph_dir(data).glob("gen-*")] == [before.generation]
    with Graph.open(data) as graph:
        assert graph.profile("access_key", DAVE.access_key).seen


def test_an_unreadable_state_is_named_and_a_rebuild_recovers(world: World, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(world.data_dir, data)
    (gd.graph_dir(data) / gd.STATE).write_text('{"format": 1, "generation": "../../etc"}')
    with pytest.raises(InputError, match=r"state.json: not a valid investigation graph state"):
        update(data)
    with pytest.raises(InputError, match="--rebuild"):
        Graph.open(data)
    report = update(data, rebuild=True)
    assert report.changed
    with Graph.open(data) as graph:
        assert graph.profile("account", ACCOUNT).seen


def test_one_build_at_a_time(world: World, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(world.data_dir, data)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with gd.build_lock(data, wait=1):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(10)
        with pytest.raises(StoreError, match="another build"):
            update(data, rebuild=True, wait=0.3)
    finally:
        release.set()
        thread.join()
    assert update(data, rebuild=True, wait=1).changed


def test_readers_survive_builds_committed_meanwhile(world: World, tmp_path: Path) -> None:
    """A graph opened before a build still answers after it (its generation is kept)."""
    data = tmp_path / "data"
    shutil.copytree(world.data_dir, data)
    with Graph.open(data) as graph:
        update(data, rebuild=True)
        assert graph.profile("access_key", DAVE.access_key).seen


def test_a_missing_data_dir_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such data directory"):
        update(tmp_path / "nowhere")


def test_parts_of_an_older_schema_are_refused_by_name(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "events").mkdir(parents=True)
    pq.write_table(pa.table({"event_id": ["e1"]}), data / "events" / "part-old.parquet")
    with pytest.raises(InputError, match="cannot build the investigation graph"):
        update(data)
