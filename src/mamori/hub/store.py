"""The findings store: one place for every finding, its workflow and the scans that wrote it.

The same code runs on SQLite (the embedded default) and PostgreSQL. Writes are upserts by the
finding's deterministic id, committed batch by batch so that a scan killed midway keeps what it
had written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from itertools import islice
from typing import Any, Self, TypeVar

from sqlalchemy import (
    Engine,
    RowMapping,
    Text,
    bindparam,
    case,
    cast,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from mamori.core import (
    ComplianceStatus,
    Finding,
    InputError,
    RecordState,
    SeverityLabel,
    StoreError,
    Workflow,
    WorkflowStatus,
    utcnow,
)
from mamori.hub import lifecycle
from mamori.hub.database import (
    RawJson,
    database_errors,
    mask,
    open_engine,
)
from mamori.hub.migrate import upgrade
from mamori.hub.models import Base, CountRow, FindingRow, HistoryRow, ScanRow, ScoreRow
from mamori.hub.query import (
    FindingFilter,
    conditions,
    counted,
    group_column,
    ordering,
    parse_enum,
)
from mamori.hub.records import (
    CheckState,
    Insight,
    ScanRecord,
    ScanScope,
    ScorePoint,
    UpsertStats,
)

T = TypeVar("T")

# Ids per IN (...) list: far below SQLite's bound-parameter limit, large enough to be one query
# for a default batch.
_ID_CHUNK = 1000

# A batch that PostgreSQL aborted as a deadlock victim or a serialisation failure is written
# again: concurrent writers (two scans, a scan and a person's bulk decision) meet on the rows of
# finding_counts, and one of them losing is normal, not an error.
_ATTEMPTS = 5
_RETRYABLE_STATES = frozenset({"40P01", "40001"})

_FINDINGS = Base.metadata.tables["findings"]
# Findings are read as their JSON text and parsed by pydantic in one step, as they were written.
_DATA_TEXT = cast(FindingRow.data, Text)
_HISTORY = Base.metadata.tables["finding_history"]
# What identifies a finding never changes once stored (its id is derived from them), so an
# update leaves those columns, and the indexes over them, alone: each index a SET list names is
# rewritten for every row, changed or not.
_FIXED_COLUMNS = frozenset(
    {
        "id",
        "source",
        "generator_id",
        "account_id",
        "region",
        "resource_type",
        "resource_id",
        "created_at",
    }
)
# "b_id" is not a column, so it can name the key.
_UPDATE_BY_ID = update(_FINDINGS).where(_FINDINGS.c.id == bindparam("b_id"))

# What an upsert must know of a stored finding, read without parsing its JSON.
_PRIOR_COLUMNS = (
    FindingRow.id,
    FindingRow.compliance_status,
    FindingRow.workflow_status,
    FindingRow.workflow_note,
    FindingRow.workflow_updated_by,
    FindingRow.workflow_updated_at,
    FindingRow.first_observed_at,
    FindingRow.last_observed_at,
    FindingRow.created_at,
    FindingRow.updated_at,
    FindingRow.count,
)


class Store:
    """Open with `Store.open(url)`; close with `close()` or use it as a context manager."""

    def __init__(self, engine: Engine, url: URL) -> None:
        self._engine = engine
        self._url = url
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str | None = None) -> Store:
        """Connect, and create or migrate the schema. None means `default_db_url()`."""
        return cls(*open_engine(url, upgrade, "findings store"))

    @property
    def url(self) -> str:
        """The database URL with its password masked, fit for messages."""
        return mask(self._url)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self, action: str) -> Iterator[Session]:
        """One transaction; a database failure becomes a StoreError naming the store."""
        with database_errors(self._url, "findings store", action), self._sessions.begin() as s:
            yield s

    # -- scans ------------------------------------------------------------------------------

    def begin_scan(self, kind: str, scope: ScanScope) -> str:
        scan_id = uuid.uuid4().hex
        with self._tx("record the scan") as s:
            s.add(
                ScanRow(
                    id=scan_id,
                    kind=kind,
                    source=scope.source,
                    accounts=list(scope.accounts),
                    regions=list(scope.regions),
                    started_at=utcnow(),
                    finished_at=None,
                    status="running",
                )
            )
        return scan_id

    def finish_scan(
        self,
        scan_id: str,
        *,
        status: str = "completed",
        counts: dict[str, int] | None = None,
        errors: list[dict[str, Any]] | None = None,
        archive: bool = True,
    ) -> int:
        """Close the scan record; archive what a complete scan no longer found. Returns the
        number of findings archived."""
        with self._tx("finish the scan") as s:
            scan = s.get(ScanRow, scan_id)
            if scan is None:
                raise StoreError(f"findings store {self.url}: no scan {scan_id!r}")
            scan.finished_at = utcnow()
            scan.status = status
            scan.counts = dict(counts or {})
            scan.errors = list(errors or [])
            # A partial or failed scan did not look everywhere: what it missed may still exist.
            if not (archive and status == "completed"):
                return 0
            return self._archive(s, scan)

    def _archive(self, s: Session, scan: ScanRow) -> int:
        stale = s.scalars(
            select(FindingRow.id).where(
                FindingRow.record_state == RecordState.ACTIVE.value,
                FindingRow.source == scan.source,
                FindingRow.account_id.in_(scan.accounts),
                FindingRow.region.in_(scan.regions),
                or_(FindingRow.last_scan_id.is_(None), FindingRow.last_scan_id != scan.id),
            )
        ).all()
        for chunk in _chunks(stale, _ID_CHUNK):
            now = utcnow()
            rows, history = [], []
            for finding in self._load(s, chunk):
                before = finding.workflow
                change = lifecycle.on_archive(finding.status, before.status)
                after = change.apply(now) if change else before
                stored = finding.model_copy(
                    update={
                        "record_state": RecordState.ARCHIVED,
                        "updated_at": now,
                        "workflow": after,
                    }
                )
                rows.append(_row(stored))
                if change:
                    history.append(_history(finding.id, before.status, after))
            _save(s, [], rows, history)
        return len(stale)

    def scans(self, limit: int = 20) -> list[ScanRecord]:
        with self._tx("list scans") as s:
            rows = s.scalars(
                select(ScanRow)
                .order_by(ScanRow.started_at.desc(), ScanRow.id)
                .limit(_non_negative(limit, "limit"))
            ).all()
            return [_scan_record(r) for r in rows]

    # -- findings ---------------------------------------------------------------------------

    def write(
        self,
        findings: Iterable[Finding],
        scan_id: str | None = None,
        batch_size: int = 500,
        *,
        update_every: timedelta | None = None,
    ) -> UpsertStats:
        """Upsert by id, one transaction per batch. An exception raised by `findings` itself
        propagates after the batches before it are committed. With `update_every`, a finding
        stored less than that long ago is left as it is (counted as deferred) unless its
        workflow changes."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        stats = UpsertStats()
        for batch in _batches(findings, batch_size):
            for attempt in range(_ATTEMPTS):
                try:
                    stats += self._write_batch(batch, scan_id, update_every)
                    break
                except StoreError as exc:
                    if attempt == _ATTEMPTS - 1 or not _retryable(exc):
                        raise
        return stats

    def _write_batch(
        self, batch: list[Finding], scan_id: str | None, update_every: timedelta | None
    ) -> UpsertStats:
        stats = UpsertStats()
        now = utcnow()
        inserts: dict[str, dict[str, Any]] = {}
        updates: dict[str, dict[str, Any]] = {}
        history: list[dict[str, Any]] = []
        with self._tx("write findings") as s:
            priors = _priors(s, {f.id for f in batch})
            for finding in batch:
                prior = priors.get(finding.id)
                if prior is None:
                    stored = lifecycle.fresh(finding)
                    stats.inserted += 1
                elif not lifecycle.update_due(prior, finding, update_every, now):
                    stats.deferred += 1
                    continue
                else:
                    stored, change = lifecycle.merge(prior, finding)
                    stats.updated += 1
                    if change:
                        history.append(_history(finding.id, prior.workflow.status, stored.workflow))
                        _count_change(stats, change)
                # The same id twice in one batch: the second write folds into the first.
                target = inserts if prior is None or finding.id in inserts else updates
                target[finding.id] = _row(stored) | {"last_scan_id": scan_id}
                priors[finding.id] = _prior_of(stored)
            _save(s, list(inserts.values()), list(updates.values()), history)
        return stats

    def get(self, finding_id: str) -> Finding | None:
        with self._tx("read a finding") as s:
            found = self._load(s, [finding_id])
        return found[0] if found else None

    def list_findings(
        self,
        flt: FindingFilter | None = None,
        *,
        limit: int = 100,
        offset: int = 0,
        order: str = "-severity",
    ) -> list[Finding]:
        stmt = (
            select(_DATA_TEXT)
            .where(*conditions(flt))
            .order_by(*ordering(order))
            .limit(_non_negative(limit, "limit"))
            .offset(_non_negative(offset, "offset"))
        )
        with self._tx("list findings") as s:
            return [Finding.model_validate_json(data) for data in s.scalars(stmt)]

    def count(self, flt: FindingFilter | None = None) -> int:
        if counted(flt):
            # A filter on counted fields only: sum the counts table (a few thousand rows).
            stmt = select(func.coalesce(func.sum(CountRow.n), 0)).where(*conditions(flt, CountRow))
        else:
            stmt = select(func.count()).select_from(FindingRow).where(*conditions(flt))
        with self._tx("count findings") as s:
            return int(s.scalar(stmt) or 0)

    def insights(
        self, by: str, flt: FindingFilter | None = None, *, limit: int = 50
    ) -> list[Insight]:
        """Findings grouped by one field (Security Hub's insights): per value, how many, how
        many of them HIGH or worse, and the worst severity; largest groups first."""
        table: Any = FindingRow
        column = group_column(by)
        n: Any = func.count()
        if counted(flt) and (counts := group_column(by, CountRow)) is not None:
            table, column, n = CountRow, counts, CountRow.n
        high = SeverityLabel.HIGH.rank
        total = func.sum(n) if table is CountRow else n
        stmt = (
            select(
                column,
                total,
                func.sum(
                    case((table.severity_rank >= high, n if table is CountRow else 1), else_=0)
                ),
                func.max(table.severity_rank),
            )
            .where(*conditions(flt, table), *([CountRow.n > 0] if table is CountRow else []))
            .group_by(column)
            # Ties by value, "no value" first on both tables and both databases.
            .order_by(total.desc(), column.asc().nulls_first())
            .limit(_non_negative(limit, "limit"))
        )
        with self._tx("group findings") as s:
            return [
                # The counts table keeps '' for "no compliance status".
                Insight(value or None, int(k), int(severe or 0), SeverityLabel.of_rank(int(worst)))
                for value, k, severe, worst in s.execute(stmt)
            ]

    def check_states(self) -> list[CheckState]:
        """Per account and check, how its active compliance findings stand (see CheckState);
        aggregated by the database, so a score never loads the findings themselves."""
        failed = FindingRow.compliance_status == ComplianceStatus.FAILED.value
        suppressed = FindingRow.workflow_status == WorkflowStatus.SUPPRESSED.value
        failing = func.sum(case((failed & ~suppressed, 1), else_=0))
        passing = func.sum(
            case(
                (FindingRow.compliance_status == ComplianceStatus.PASSED.value, 1),
                (failed & suppressed, 1),
                else_=0,
            )
        )
        stmt = (
            select(FindingRow.account_id, FindingRow.generator_id, failing, passing)
            .where(
                FindingRow.record_state == RecordState.ACTIVE.value,
                FindingRow.compliance_status.is_not(None),
            )
            .group_by(FindingRow.account_id, FindingRow.generator_id)
        )
        with self._tx("read control states") as s:
            return [
                CheckState(
                    account,
                    check,
                    "FAILED" if n_fail else "PASSED" if n_pass else "NO_DATA",
                    int(n_fail or 0),
                )
                for account, check, n_fail, n_pass in s.execute(stmt)
            ]

    def record_scores(self, points: Sequence[ScorePoint]) -> None:
        rows = [
            {
                "at": p.at,
                "standard": p.standard,
                "passed": p.passed,
                "failed": p.failed,
                "no_data": p.no_data,
                "reason": p.reason,
            }
            for p in points
        ]
        if rows:
            with self._tx("record scores") as s:
                s.connection().execute(insert(ScoreRow), rows)

    def score_history(self, standard: str | None = None, *, limit: int = 500) -> list[ScorePoint]:
        """The latest `limit` score points (of one standard, or all), oldest first."""
        stmt = select(ScoreRow).order_by(ScoreRow.at.desc(), ScoreRow.id.desc())
        if standard is not None:
            stmt = stmt.where(ScoreRow.standard == standard)
        stmt = stmt.limit(_non_negative(limit, "limit"))
        with self._tx("read score history") as s:
            rows = list(s.scalars(stmt))
        return [_score_point(r) for r in reversed(rows)]

    def latest_scores(self) -> list[ScorePoint]:
        """The last recorded point of every standard: the scores as of the last scan or
        workflow change, read without aggregating the findings (what an overview shows)."""
        last = select(func.max(ScoreRow.id)).group_by(ScoreRow.standard).scalar_subquery()
        stmt = select(ScoreRow).where(ScoreRow.id.in_(last)).order_by(ScoreRow.standard)
        with self._tx("read the latest scores") as s:
            return [_score_point(r) for r in s.scalars(stmt)]

    def history(self, finding_id: str) -> list[dict[str, Any]]:
        """Workflow changes of a finding, oldest first."""
        stmt = (
            select(HistoryRow)
            .where(HistoryRow.finding_id == finding_id)
            .order_by(HistoryRow.at, HistoryRow.id)
        )
        with self._tx("read finding history") as s:
            return [
                {
                    "finding_id": h.finding_id,
                    "at": h.at,
                    "from": h.from_status,
                    "to": h.to_status,
                    "by": h.changed_by,
                    "note": h.note,
                }
                for h in s.scalars(stmt)
            ]

    def set_workflow(
        self, finding_id: str, status: WorkflowStatus | str, *, by: str, note: str | None = None
    ) -> None:
        """A person's decision on a finding (suppress, notified, resolved, reopen)."""
        if not self.set_workflows([finding_id], status, by=by, note=note):
            raise InputError(f"no finding {finding_id!r} in the findings store {self.url}")

    def set_workflows(
        self,
        finding_ids: Iterable[str],
        status: WorkflowStatus | str,
        *,
        by: str,
        note: str | None = None,
    ) -> list[str]:
        """The same decision on many findings (a bulk action), a transaction per thousand;
        returns the ids that were found and changed, in the order given."""
        target = parse_enum(WorkflowStatus, str(status), "workflow status")
        changed: list[str] = []
        for chunk in _chunks(list(dict.fromkeys(finding_ids)), _ID_CHUNK):
            with self._tx("update the workflow") as s:
                now = utcnow()
                after = Workflow(status=target, note=note, updated_by=by, updated_at=now)
                found = {f.id: f for f in self._load(s, chunk, lock=True)}
                rows = [
                    _row(f.model_copy(update={"workflow": after, "updated_at": now}))
                    for f in found.values()
                ]
                history = [_history(f.id, f.workflow.status, after) for f in found.values()]
                _save(s, [], rows, history)
            changed.extend(fid for fid in chunk if fid in found)
        return changed

    @staticmethod
    def _load(s: Session, ids: list[str], *, lock: bool = False) -> list[Finding]:
        stmt = select(_DATA_TEXT).where(FindingRow.id.in_(ids)).order_by(FindingRow.id)
        if lock:
            stmt = stmt.with_for_update()
        return [Finding.model_validate_json(data) for data in s.scalars(stmt)]


# -- rows -------------------------------------------------------------------------------------


def _row(f: Finding) -> dict[str, Any]:
    """The promoted columns and the full JSON of a finding, ready for a bulk statement."""
    res = f.resources[0]
    return {
        "id": f.id,
        "source": f.source,
        "generator_id": f.generator_id,
        "severity_label": f.severity.label.value,
        "severity_rank": f.severity.label.rank,
        "compliance_status": f.status.value if f.status else None,
        "workflow_status": f.workflow.status.value,
        "workflow_note": f.workflow.note,
        "workflow_updated_by": f.workflow.updated_by,
        "workflow_updated_at": f.workflow.updated_at,
        "record_state": f.record_state.value,
        "account_id": f.account_id,
        "region": f.region,
        "resource_type": res.type,
        "resource_id": res.id,
        "finding_type": f.types[0],
        "mitre_tactic": f.mitre[0].tactic if f.mitre else None,
        "title": f.title,
        "first_observed_at": f.first_observed_at,
        "last_observed_at": f.last_observed_at,
        "created_at": f.created_at,
        "updated_at": f.updated_at,
        "count": f.count,
        "data": RawJson(f.model_dump_json()),
    }


def _history(finding_id: str, before: WorkflowStatus, after: Workflow) -> dict[str, Any]:
    return {
        "finding_id": finding_id,
        "at": after.updated_at,
        "from_status": before.value,
        "to_status": after.status.value,
        "changed_by": after.updated_by or "unknown",
        "note": after.note,
    }


def _save(
    s: Session,
    inserts: list[dict[str, Any]],
    updates: list[dict[str, Any]],
    history: list[dict[str, Any]],
) -> None:
    # Core executemany statements: one round trip per statement, not per finding, and none of
    # the ORM's per-row bookkeeping. History last: it references findings inserted just before.
    conn = s.connection()
    if inserts:
        conn.execute(insert(_FINDINGS), inserts)
    if updates:
        conn.execute(_UPDATE_BY_ID, [_by_id(row) for row in updates])
    if history:
        conn.execute(insert(_HISTORY), history)


def _by_id(row: dict[str, Any]) -> dict[str, Any]:
    params = {k: v for k, v in row.items() if k not in _FIXED_COLUMNS}
    params["b_id"] = row["id"]
    return params


def _priors(s: Session, ids: set[str]) -> dict[str, lifecycle.Prior]:
    found: dict[str, lifecycle.Prior] = {}
    for chunk in _chunks(sorted(ids), _ID_CHUNK):
        # FOR UPDATE (PostgreSQL): a workflow change made meanwhile is not overwritten.
        stmt = select(*_PRIOR_COLUMNS).where(FindingRow.id.in_(chunk)).with_for_update()
        for row in s.connection().execute(stmt):
            # By mapping: as an attribute, "count" would be the tuple method to a type checker.
            found[row.id] = _prior_from_row(row._mapping)
    return found


def _prior_from_row(col: RowMapping) -> lifecycle.Prior:
    return lifecycle.Prior(
        status=ComplianceStatus(col["compliance_status"]) if col["compliance_status"] else None,
        # Values the store wrote itself: no need to validate them again.
        workflow=Workflow.model_construct(
            status=WorkflowStatus(col["workflow_status"]),
            note=col["workflow_note"],
            updated_by=col["workflow_updated_by"],
            updated_at=col["workflow_updated_at"],
        ),
        first_observed_at=col["first_observed_at"],
        last_observed_at=col["last_observed_at"],
        created_at=col["created_at"],
        count=col["count"],
        updated_at=col["updated_at"],
    )


def _prior_of(f: Finding) -> lifecycle.Prior:
    return lifecycle.Prior(
        status=f.status,
        workflow=f.workflow,
        first_observed_at=f.first_observed_at,
        last_observed_at=f.last_observed_at,
        created_at=f.created_at,
        count=f.count,
        updated_at=f.updated_at,
    )


def _scan_record(r: ScanRow) -> ScanRecord:
    return ScanRecord(
        id=r.id,
        kind=r.kind,
        scope=ScanScope(r.source, tuple(r.accounts), tuple(r.regions)),
        started_at=r.started_at,
        finished_at=r.finished_at,
        status=r.status,
        counts=dict(r.counts or {}),
        errors=list(r.errors or []),
    )


# -- small helpers ----------------------------------------------------------------------------


def _retryable(exc: StoreError) -> bool:
    driver_error = getattr(exc.__cause__, "orig", None)
    return getattr(driver_error, "sqlstate", None) in _RETRYABLE_STATES


def _score_point(r: ScoreRow) -> ScorePoint:
    return ScorePoint(r.at, r.standard, r.passed, r.failed, r.no_data, r.reason)


def _count_change(stats: UpsertStats, change: lifecycle.Transition) -> None:
    if change.to is WorkflowStatus.RESOLVED:
        stats.resolved += 1
    else:
        stats.reopened += 1


def _non_negative(value: int, what: str) -> int:
    if value < 0:
        raise InputError(f"{what} must not be negative, got {value}")
    return value


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
