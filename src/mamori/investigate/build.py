"""Building the graph: the log parts ingested since the last build are aggregated into a new
segment of the tables (see graphdir); findings are linked to the entities they name.

Which parts are new: `state.json` lists every part aggregated so far (name and size). The
ingest writes each part once under a new name and never changes it, so a part not in that list
is new, and one listed with another size than it has now means the data folder was rewritten
under the graph: the graph is then rebuilt from every part. A listed part that is gone (a pruned
log store) keeps what it added, as the detection baselines do.
"""

# ruff: noqa: S608 - SQL assembled from constants written here and our own table names

from __future__ import annotations

import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from mamori.core import Finding, InputError, MamoriError, StoreError
from mamori.detect.schema import TABLES
from mamori.investigate import db, extract, graphdir, links
from mamori.investigate.graphdir import State
from mamori.investigate.tables import FINDING_LINKS, SPECS

if TYPE_CHECKING:
    from mamori.hub import Store

_ROW_GROUP = 64 * 1024  # rows: lookups of one entity read few row groups
_PAGE = 1000


@dataclass
class BuildReport:
    parts: dict[str, int] = field(default_factory=dict)  # table -> new parts aggregated
    records: dict[str, int] = field(default_factory=dict)  # table -> records in them
    findings: int = 0  # findings (re)linked
    rebuilt: str = ""  # why the graph was built from every part, if it was
    segments: int = 0  # segments of the graph after the build
    compacted: bool = False  # every segment was merged into one
    seconds: float = 0.0
    changed: bool = False  # a new state was committed


def _parts(data_dir: Path) -> dict[str, list[Path]]:
    from mamori.detect.ingest import dataset_files

    return {table: dataset_files(data_dir, table) for table in TABLES}


def _rewritten(state: State, current: dict[str, list[Path]]) -> str:
    for table, paths in current.items():
        known = state.parts.get(table, {})
        for path in paths:
            size = known.get(path.name)
            if size is not None and size != path.stat().st_size:
                return f"{path} changed since the graph was built"
    return ""


def _write(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd", row_group_size=_ROW_GROUP)


def store_findings(store: Store) -> Iterator[Finding]:
    """Every detection finding in the hub, archived ones too (an investigation wants them)."""
    from mamori.detect.findings import SOURCE
    from mamori.hub import FindingFilter

    flt = FindingFilter(source=SOURCE, record_state=None)
    offset = 0
    while True:
        page = store.list_findings(flt, limit=_PAGE, offset=offset, order="first_observed_at")
        yield from page
        offset += len(page)
        if len(page) < _PAGE:
            return


def update(
    data_dir: Path,
    *,
    findings: Iterable[Finding] = (),
    store: Store | None = None,
    rebuild: bool = False,
    wait: float = 600.0,
) -> BuildReport:
    """Bring the graph under `data_dir` up to date with the ingested logs.

    `findings` are linked to their entities, replacing their earlier links; with `store`, every
    detection finding in it is read and the links are replaced by theirs (the hub is then the
    truth). `rebuild` aggregates every part again instead of only the new ones. Waits up to
    `wait` seconds for a build under way elsewhere."""
    started = time.perf_counter()
    report = BuildReport()
    if not data_dir.is_dir():
        raise InputError(f"{data_dir}: no such data directory (ingest logs with `mamori detect`)")
    with graphdir.build_lock(data_dir, wait):
        on_disk = _committed(data_dir, rebuild)
        state = None if rebuild else on_disk
        if rebuild:
            report.rebuilt = "asked for"
        current = _parts(data_dir)
        if state is not None and (why := _rewritten(state, current)):
            state, report.rebuilt = None, why
        known = state.parts if state else {}
        new = {
            t: [p for p in paths if p.name not in known.get(t, {})] for t, paths in current.items()
        }
        chosen = list(findings)
        if state is not None and not any(new.values()) and not chosen and store is None:
            report.seconds = time.perf_counter() - started
            return report
        con = db.connect()
        try:
            built = _build(con, data_dir, state, on_disk, new, chosen, store, report)
        except duckdb.Error as exc:
            raise InputError(
                f"{data_dir}: cannot build the investigation graph from the ingested logs: "
                f"{str(exc).splitlines()[0]}"
            ) from None
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(
                f"{graphdir.graph_dir(data_dir)}: cannot write the investigation graph: {exc}"
            ) from None
        finally:
            con.close()
        graphdir.prune(data_dir, built.members() | (on_disk.members() if on_disk else set()))
    report.seconds = time.perf_counter() - started
    return report


def _build(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    state: State | None,
    on_disk: State | None,
    new: dict[str, list[Path]],
    findings: list[Finding],
    store: Store | None,
    report: BuildReport,
) -> State:
    """Write what the build adds to `state` (None: build from nothing) and commit it; what it
    wrote is removed if it fails. The finding links go on from those `on_disk` even when the
    tables are rebuilt: they come from findings, not from the parts."""
    for table, paths in new.items():
        db.view(con, table, paths, TABLES[table].schema)
        report.parts[table] = len(paths)
        [(count,)] = con.sql(f"SELECT count(*) FROM {table}").fetchall()
        report.records[table] = int(count)
    segments = list(state.segments) if state else []
    links_name = on_disk.links if on_disk else ""
    written: list[Path] = []
    try:
        if any(new.values()):
            name, folder = graphdir.new_segment(data_dir)
            written.append(folder)
            compact = len(segments) >= graphdir.MAX_SEGMENTS
            _segment(con, extract.aggregate(con), state if compact else None, data_dir, folder)
            segments = [name] if compact else [*segments, name]
            report.compacted = compact
        if findings or store is not None or not links_name:
            links_name, path = graphdir.new_links(data_dir)
            written.append(path)
            report.findings = _link(con, on_disk, data_dir, findings, store, path)
        parts = {t: dict(state.parts.get(t, {})) if state else {} for t in TABLES}
        for table_name, paths in new.items():
            parts[table_name].update({p.name: p.stat().st_size for p in paths})
        built = State(segments, links_name, parts, datetime.now(UTC).isoformat())
        graphdir.commit(data_dir, built)
    except BaseException:
        for path in written:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        raise
    report.changed = True
    report.segments = len(segments)
    return built


def _segment(
    con: duckdb.DuckDBPyConnection,
    fresh: dict[str, pa.Table],
    merge_with: State | None,
    data_dir: Path,
    folder: Path,
) -> None:
    """The new aggregate as a segment, merged with every segment of `merge_with` if given (a
    compaction), each table sorted by its keys."""
    for spec in SPECS.values():
        con.register(f"new_{spec.name}", fresh[spec.name])
        source = f"new_{spec.name}"
        if merge_with is not None:
            db.view(
                con, f"old_{spec.name}", merge_with.segment_files(data_dir, spec.file), spec.schema
            )
            source = f"(SELECT * FROM old_{spec.name} UNION ALL BY NAME SELECT * FROM {source}) u"
        table = con.sql(spec.merged_sql(source, ordered=True)).to_arrow_table().cast(spec.schema)
        _write(table, folder / spec.file)


def _link(
    con: duckdb.DuckDBPyConnection,
    on_disk: State | None,
    data_dir: Path,
    findings: list[Finding],
    store: Store | None,
    path: Path,
) -> int:
    """The finding links with `findings` (and the hub's, which replace all) linked anew."""
    if store is not None:
        findings = [*findings, *store_findings(store)]
    old_files = [on_disk.links_file(data_dir)] if on_disk else []
    db.view(con, "old_links", old_files, FINDING_LINKS)
    old = con.table("old_links").to_arrow_table().cast(FINDING_LINKS)
    linked = links.link_rows(con, findings)
    _write(links.merged_links(con, old, linked, replace_all=store is not None), path)
    return len(findings)


def _committed(data_dir: Path, rebuild: bool) -> State | None:
    """The graph on disk; an unreadable state is an error unless it is being rebuilt."""
    try:
        return graphdir.read_state(data_dir)
    except InputError:
        if rebuild:
            return None
        raise


def update_after_run(data_dir: Path, findings: Iterable[Finding]) -> list[str]:
    """The graph brought up to date after a detection run (its findings linked); what went
    wrong, as messages for the run's report: a graph that cannot be built never fails the
    detection that ran before it."""
    try:
        update(data_dir, findings=findings)
    except MamoriError as exc:
        return [f"investigation graph: {exc}"]
    return []
