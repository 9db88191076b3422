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
from mamori.investigate import Graph, update, update_after_run
from mamori.investigate import graphdir as gd
from mamori.investigate.tables import SPECS
from tests.investigate.world import ACCOUNT, ATTACK_IP, DAVE, World

_KINDS = ("cloudtrail", "vpc-flow", "dns")


def _tables(data_dir: Path) -> dict[str, list[dict[str, object]]]:
    """Every table of the graph as its readers see it (segments merged), sorted."""
    with Graph.open(data_dir) as graph:
        return {
            name: sorted(graph.rows(f"SELECT * FROM {name}"), key=repr)  # noqa: S608
            for name in [*SPECS, "finding_links"]
        }


def _day(logs: Path, day: str, into: Path) -> Path:
    """A copy of the logs of one day (the tree's delivery layout kept)."""
    for path in logs.rglob(f"*/2026/11/{day}/*"):
        target = into / path.relative_to(logs)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return into


@pytest.mark.parametrize("max_segments", [8, 2])
def test_incremental_builds_equal_a_full_build(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, max_segments: int
) -> None:
    """Logs arriving day by day and kind by kind, the graph taken in after each ingest (six
    builds: kept as segments, or compacted past `max_segments`), give the graph of one build."""
    monkeypatch.setattr(gd, "MAX_SEGMENTS", max_segments)
    data, growing = tmp_path / "data", tmp_path / "logs"
    reports = []
    for day in ("01", "02"):
        _day(world.logs, day, growing)
        for kind in _KINDS:
            before = {t: set((data / t).glob("part-*.parquet")) for t in ("events", "flows", "dns")}
            assert ingest([Source(kind, str(growing))], data).errors == []
            report = update(data, findings=world.findings if day == "02" else [])
            reports.append(report)
            # Only the parts of this ingest were read.
            for table, old in before.items():
                added = set((data / table).glob("part-*.parquet")) - old
                assert report.parts[table] == len(added)
                assert report.records[table] == sum(pq.read_metadata(p).num_rows for p in added)
    assert all(r.changed and not r.rebuilt for r in reports)
    assert max(r.segments for r in reports) <= max_segments
    assert any(r.compacted for r in reports) == (max_segments < len(reports))
    incremental = _tables(data)
    full = tmp_path / "full"
    shutil.copytree(data, full, ignore=shutil.ignore_patterns("graph"))
    rebuilt = update(full, findings=world.findings, rebuild=True)
    assert rebuilt.rebuilt == "asked for" and rebuilt.segments == 1
    assert _tables(full) == incremental
    # And it is the graph the detection run built over the same logs in one go.
    assert _tables(world.data_dir) == incremental
    # Questions read the segments merged: the same answers as from one segment.
    for kind, eid in (("access_key", DAVE.access_key), ("ip", ATTACK_IP), ("account", ACCOUNT)):
        assert _answers(data, kind, eid) == _answers(full, kind, eid)


def _answers(data_dir: Path, kind: str, eid: str) -> tuple[dict[str, object], ...]:
    with Graph.open(data_dir) as graph:
        p = graph.profile(kind, eid, days=1).model_dump(exclude={"graph_built_at"})
        n = graph.neighbourhood(kind, eid, depth=2, limit=40).model_dump()
    return p, n


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
    kept = {p.name for p in gd.graph_dir(data).iterdir() if not p.name.startswith(".")}
    assert kept == {*before.members(), gd.STATE}  # nothing half-written left behind
    with Graph.open(data) as graph:
        assert graph.profile("access_key", DAVE.access_key).seen


def test_an_unreadable_state_is_named_and_a_rebuild_recovers(world: World, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(world.data_dir, data)
    (gd.graph_dir(data) / gd.STATE).write_text(
        '{"format": 1, "segments": ["../../etc"], "links": "links.parquet"}'
    )
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
    """A graph opened before a build still answers after it (the files it reads are kept)."""
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


def test_a_graph_that_cannot_be_written_is_reported_not_fatal(world: World, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(world.data_dir, data, ignore=shutil.ignore_patterns("graph"))
    (data / "graph").write_text("a file where the graph's folder goes")
    with pytest.raises(StoreError, match="cannot keep the investigation graph here"):
        update(data)
    # After a detection run, the same failure is one line of the run's errors.
    [message] = update_after_run(data, world.findings)
    assert message.startswith("investigation graph: ") and str(data / "graph") in message


def test_a_rebuild_keeps_the_finding_links(world: World, tmp_path: Path) -> None:
    """Links come from findings, not from log parts: rebuilding the tables keeps them."""
    data = tmp_path / "data"
    shutil.copytree(world.data_dir, data)
    with Graph.open(data) as graph:
        before = graph.profile("access_key", DAVE.access_key).findings
    assert before
    update(data, rebuild=True)
    with Graph.open(data) as graph:
        assert graph.profile("access_key", DAVE.access_key).findings == before
