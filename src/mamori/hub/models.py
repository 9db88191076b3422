"""The hub's tables.

Each finding is stored whole, as its JSON, so that what an analysis produced is exactly what a
reader gets back. The columns beside it repeat the fields that lists filter and sort on, and the
lifecycle fields (workflow, counts, timestamps) that an upsert must read before it writes: the
hot paths never have to parse the JSON.

The schema itself is created by the Alembic migrations in `migrations/`; these models must match
them (a test compares the two on SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, whatever the database keeps.

    SQLite has no time zone type and hands back naive values; PostgreSQL answers in the session's
    zone. Both are brought back to UTC so that values compare and serialise the same everywhere.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the hub stores aware UTC only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSON, not PostgreSQL's JSONB: JSONB re-encodes numbers (3.0e16 comes back as an integer),
# and a finding must read back exactly as written. Queries use the promoted columns instead.
JsonDocument = JSON()
# SQLite only auto-increments an INTEGER PRIMARY KEY, not a BIGINT one.
AutoId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    # Named constraints, so that later migrations can alter them by name on every database.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UtcDateTime(),
        dict[str, Any]: JsonDocument,
        list[Any]: JsonDocument,
    }


class FindingRow(Base):
    __tablename__ = "findings"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    source: Mapped[str]
    generator_id: Mapped[str]
    severity_label: Mapped[str]
    severity_rank: Mapped[int]
    compliance_status: Mapped[str | None]
    workflow_status: Mapped[str]
    workflow_note: Mapped[str | None] = mapped_column(Text)
    workflow_updated_by: Mapped[str | None]
    workflow_updated_at: Mapped[datetime | None]
    record_state: Mapped[str]
    account_id: Mapped[str]
    region: Mapped[str]
    resource_type: Mapped[str]
    # The first ASFF type and the first ATT&CK tactic: what insights group threats by.
    finding_type: Mapped[str | None]
    mitre_tactic: Mapped[str | None]
    # Text and not indexed: ARNs and titles can exceed a B-tree entry, and the text filter is
    # a substring match that no index serves anyway.
    resource_id: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    first_observed_at: Mapped[datetime]
    last_observed_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    count: Mapped[int]
    # Not a foreign key: scan records may be pruned while their findings stay.
    last_scan_id: Mapped[str | None]
    data: Mapped[dict[str, Any]]

    __table_args__ = (
        # The default listing: active findings, worst first, most recent first; the statuses
        # at its end let a filtered deep page skip rows inside the index.
        Index(
            "ix_findings_list",
            "record_state",
            "severity_rank",
            "last_observed_at",
            "id",
            "compliance_status",
            "workflow_status",
        ),
        # What a finished scan archives: one source, its accounts and regions.
        Index("ix_findings_scope", "source", "account_id", "region"),
        Index("ix_findings_generator", "generator_id"),
        Index("ix_findings_status", "compliance_status", "workflow_status"),
        Index("ix_findings_resource_type", "resource_type"),
        Index("ix_findings_last_scan", "last_scan_id"),
        # Insights by finding type or tactic from the index alone.
        Index(
            "ix_findings_finding_type",
            "record_state",
            "finding_type",
            "mitre_tactic",
            "severity_rank",
        ),
        Index("ix_findings_source_recent", "source", "record_state", "last_observed_at", "id"),
        # Per account and check (scores, insights by account) without reading findings.
        Index(
            "ix_findings_accounts",
            "record_state",
            "account_id",
            "generator_id",
            "compliance_status",
            "workflow_status",
            "severity_rank",
        ),
    )


class ScanRow(Base):
    __tablename__ = "scans"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    kind: Mapped[str]
    source: Mapped[str]
    accounts: Mapped[list[Any]]
    regions: Mapped[list[Any]]
    started_at: Mapped[datetime] = mapped_column(index=True)
    finished_at: Mapped[datetime | None]
    status: Mapped[str]
    counts: Mapped[dict[str, Any] | None]
    errors: Mapped[list[Any] | None]


class HistoryRow(Base):
    __tablename__ = "finding_history"

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    finding_id: Mapped[str] = mapped_column(
        ForeignKey("findings.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    from_status: Mapped[str]
    to_status: Mapped[str]
    changed_by: Mapped[str]
    note: Mapped[str | None] = mapped_column(Text)


class ScoreRow(Base):
    """A standard's security score at one moment (the trend charts' points)."""

    __tablename__ = "score_history"

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    standard: Mapped[str]
    passed: Mapped[int]
    failed: Mapped[int]
    no_data: Mapped[int]
    reason: Mapped[str]  # what changed the score: a scan, a workflow change...

    __table_args__ = (Index("ix_score_history_standard", "standard", "at"),)


class AutomationAuditRow(Base):
    """One automation action taken, planned (dry run), skipped or failed on one finding."""

    __tablename__ = "automation_audit"

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    run_id: Mapped[str]
    rules: Mapped[str]  # the rules file's name
    rule_id: Mapped[str]
    action: Mapped[str]  # the action kind
    action_key: Mapped[str]  # the action's place and parameters, digested
    # Not a foreign key: the audit outlives the findings it acted on.
    finding_id: Mapped[str]
    fingerprint: Mapped[str]  # what the finding said when the action ran
    account_id: Mapped[str]
    resource_id: Mapped[str] = mapped_column(Text)
    dry_run: Mapped[bool]
    result: Mapped[str]  # done, planned, skipped, failed
    detail: Mapped[str] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # Has this action already been done for this finding as it is now?
        Index("ix_automation_audit_done", "rules", "rule_id", "finding_id"),
        Index("ix_automation_audit_at", "at"),
    )


class AutomationStateRow(Base):
    """Per rules file: findings updated after the watermark are new to its next run."""

    __tablename__ = "automation_state"

    rules: Mapped[str] = mapped_column(String, primary_key=True)
    watermark: Mapped[datetime]
    last_run_id: Mapped[str]
    updated_at: Mapped[datetime]


class CountRow(Base):
    """How many findings share these fields; kept by triggers on `findings` (migration 0004).
    compliance_status is '' for findings without one."""

    __tablename__ = "finding_counts"

    source: Mapped[str] = mapped_column(String, primary_key=True)
    generator_id: Mapped[str] = mapped_column(String, primary_key=True)
    severity_label: Mapped[str] = mapped_column(String, primary_key=True)
    severity_rank: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    compliance_status: Mapped[str] = mapped_column(String, primary_key=True)
    workflow_status: Mapped[str] = mapped_column(String, primary_key=True)
    record_state: Mapped[str] = mapped_column(String, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)
