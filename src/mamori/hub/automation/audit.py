"""What automation keeps in the findings store: the audit of every action, each rules file's
watermark, and the findings a run looks at.

The audit is a table, not a file: it sits beside the findings it speaks of, on whichever
database the team shares (SQLite or PostgreSQL), where the dashboard reads it, and it is what
makes runs idempotent: an action done (or found to have nothing to do) for a finding saying
the same thing is not done again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from mamori.core import Finding, RecordState
from mamori.hub.models import AutomationAuditRow, AutomationStateRow, FindingRow
from mamori.hub.store import Store

# Results after which an action is not repeated for the same finding content.
SETTLED = ("done", "skipped")
_ID_CHUNK = 500


@dataclass(frozen=True)
class AuditRecord:
    at: datetime
    run_id: str
    rules: str
    rule_id: str
    action: str
    action_key: str
    finding_id: str
    fingerprint: str
    account_id: str
    resource_id: str
    dry_run: bool
    result: str
    detail: str
    error: str | None = None


# (rule id, action key, finding id, fingerprint)
DoneKey = tuple[str, str, str, str]


class AuditLog:
    """The automation tables of one store (the store's own connection and transactions)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def record(self, records: Sequence[AuditRecord]) -> None:
        if not records:
            return
        rows = [vars(r) for r in records]
        with self._store._tx("write the automation audit") as s:
            s.connection().execute(insert(AutomationAuditRow), rows)

    def settled(self, rules: str, finding_ids: Iterable[str]) -> set[DoneKey]:
        """Actions already done (or with nothing to do) for these findings, by content."""
        ids = sorted(set(finding_ids))
        found: set[DoneKey] = set()
        for start in range(0, len(ids), _ID_CHUNK):
            stmt = select(
                AutomationAuditRow.rule_id,
                AutomationAuditRow.action_key,
                AutomationAuditRow.finding_id,
                AutomationAuditRow.fingerprint,
            ).where(
                AutomationAuditRow.rules == rules,
                AutomationAuditRow.finding_id.in_(ids[start : start + _ID_CHUNK]),
                AutomationAuditRow.result.in_(SETTLED),
                AutomationAuditRow.dry_run.is_(False),
            )
            with self._store._tx("read the automation audit") as s:
                found.update((a, b, c, d) for a, b, c, d in s.execute(stmt))
        return found

    def records(
        self,
        *,
        rules: str | None = None,
        rule_id: str | None = None,
        finding_id: str | None = None,
        limit: int = 100,
    ) -> list[AuditRecord]:
        """The latest records, newest first."""
        stmt = select(AutomationAuditRow)
        for column, value in (
            (AutomationAuditRow.rules, rules),
            (AutomationAuditRow.rule_id, rule_id),
            (AutomationAuditRow.finding_id, finding_id),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        stmt = stmt.order_by(AutomationAuditRow.at.desc(), AutomationAuditRow.id.desc()).limit(
            max(limit, 0)
        )
        with self._store._tx("read the automation audit") as s:
            return [_record(row) for row in s.scalars(stmt)]

    def watermark(self, rules: str) -> datetime | None:
        with self._store._tx("read the automation watermark") as s:
            row = s.get(AutomationStateRow, rules)
            return row.watermark if row is not None else None

    def set_watermark(self, rules: str, at: datetime, run_id: str, now: datetime) -> None:
        with self._store._tx("write the automation watermark") as s:
            row = s.get(AutomationStateRow, rules, with_for_update=True)
            if row is None:
                s.add(
                    AutomationStateRow(
                        rules=rules, watermark=at, last_run_id=run_id, updated_at=now
                    )
                )
            else:
                # Never backwards: a slow run finishing after a newer one keeps the newer mark.
                row.watermark = max(row.watermark, at)
                row.last_run_id = run_id
                row.updated_at = now


def updated_findings(
    store: Store, since: datetime | None, until: datetime, page: int = 500
) -> Iterator[list[Finding]]:
    """Active findings written in (since, until], page by page in id order. Paging continues
    after the last id seen, so findings the run itself changes (their updated_at moves past
    `until`) never shift a page and make the run skip others."""
    cursor = ""
    while True:
        stmt = (
            select(FindingRow.id)
            .where(
                FindingRow.record_state == RecordState.ACTIVE.value,
                FindingRow.updated_at <= until,
                FindingRow.id > cursor,
            )
            .order_by(FindingRow.id)
            .limit(page)
        )
        if since is not None:
            stmt = stmt.where(FindingRow.updated_at > since)
        with store._tx("list findings for automation") as s:
            ids = list(s.scalars(stmt))
            found = Store._load(s, ids) if ids else []
        if not ids:
            return
        yield found
        cursor = ids[-1]


def _record(row: Any) -> AuditRecord:
    return AuditRecord(
        at=row.at,
        run_id=row.run_id,
        rules=row.rules,
        rule_id=row.rule_id,
        action=row.action,
        action_key=row.action_key,
        finding_id=row.finding_id,
        fingerprint=row.fingerprint,
        account_id=row.account_id,
        resource_id=row.resource_id,
        dry_run=row.dry_run,
        result=row.result,
        detail=row.detail,
        error=row.error,
    )
