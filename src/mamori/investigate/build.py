"""Building the graph: the log parts ingested since the last build are aggregated and merged
into the stored tables; findings are linked to the entities they name.

Which parts are new: `state.json` lists every part aggregated so far (name and size). The
ingest writes each part once under a new name and never changes it, so a part not in that list
is new, and one listed with another size than it has now means the data folder was rewritten
under the graph: the graph is then rebuilt from every part. A listed part that is gone (a pruned
log store) keeps what it added, as the detection baselines do.
"""

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

from mamori.core import Finding, InputError, MamoriError
from mamori.detect.schema import TABLES
from mamori.investigate import db, extract, graphdir, links
from mamori.investigate.graphdir import State
from mamori.investigate.tables import FINDING_LINKS, LINKS_FILE, SPECS

if TYPE_CHECKING:
    from mamori.hub import Store

_ROW_GROUP = 64 * 1024  # rows: lookups of one entity read few row groups
_PAGE = 1000


@dataclass
class BuildReport:
    parts: dict[str, int] = field(default_factory=dict)  # table -> new parts aggregated
    records: dict[str, int] = field(default_factory=dict)  # table -> records in them
    rows: dict[str, int] = field(default_factory=dict)  # graph table -> rows after the build
    findings: int = 0  # findings (re)linked
    rebuilt: str = ""  # why the graph was built from every part, if it was
    seconds: float = 0.0
    changed: bool = False  # a new generation was committed


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


def _stored(con: duckdb.DuckDBPyConnection, state: State | None, data_dir: Path) -> None:
    """Register the stored tables as `old_<name>` (empty without a graph)."""
    folder = state.folder(data_dir) if state else None
    for spec in SPECS.values():
        path = folder / spec.file if folder else None
        db.view(con, f"old_{spec.name}", [path] if path else [], spec.schema)
    path = folder / LINKS_FILE if folder else None
    db.view(con, "old_links", [path] if path else [], FINDING_LINKS)


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
            previous = on_disk.generation if on_disk else None
            _build(con, data_dir, state, previous, new, chosen, store, report)
        except duckdb.Error as exc:
            raise InputError(
                f"{data_dir}: cannot build the investigation graph from the ingested logs: "
                f"{str(exc).splitlines()[0]}"
            ) from None
        finally:
            con.close()
    report.seconds = time.perf_counter() - started
    return report


def _build(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    state: State | None,
    previous: str | None,
    new: dict[str, list[Path]],
    findings: list[Finding],
    store: Store | None,
    report: BuildReport,
) -> None:
    for table, paths in new.items():
        db.view(con, table, paths, TABLES[table].schema)
        report.parts[table] = len(paths)
        [(count,)] = con.sql(f"SELECT count(*) FROM {table}").fetchall()  # noqa: S608
        report.records[table] = int(count)
    _stored(con, state, data_dir)
    name, folder = graphdir.new_generation(data_dir)
    try:
        fresh = extract.aggregate(con) if any(new.values()) else {}
        for spec in SPECS.values():
            if spec.name in fresh:
                con.register(f"new_{spec.name}", fresh[spec.name])
                merged = con.sql(spec.merge_sql(f"old_{spec.name}", f"new_{spec.name}"))
            else:
                merged = con.table(f"old_{spec.name}")
            table = merged.to_arrow_table().cast(spec.schema)
            _write(table, folder / spec.file)
            report.rows[spec.name] = table.num_rows
        if store is not None:
            findings = [*findings, *store_findings(store)]
        report.findings = len(findings)
        old = con.table("old_links").to_arrow_table().cast(FINDING_LINKS)
        linked = links.link_rows(con, findings)
        table = links.merged_links(con, old, linked, replace_all=store is not None)
        _write(table, folder / LINKS_FILE)
        report.rows["finding_links"] = table.num_rows
        parts = (
            {t: dict(state.parts.get(t, {})) for t in TABLES} if state else {t: {} for t in TABLES}
        )
        for table_name, paths in new.items():
            parts[table_name].update({p.name: p.stat().st_size for p in paths})
        graphdir.commit(data_dir, State(name, parts, datetime.now(UTC).isoformat()))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    report.changed = True
    graphdir.prune(data_dir, {name, *([previous] if previous else [])})


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
    except OSError as exc:
        return [f"investigation graph: {data_dir}: {exc}"]
    return []
