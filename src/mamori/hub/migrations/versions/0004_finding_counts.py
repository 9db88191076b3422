"""finding_counts and list indexes that end with the id.

finding_counts: the number of findings per source, check, severity, status, workflow and
record state, kept by triggers on `findings`, so that the counts a dashboard shows (and every
count or insight filtered on those fields) read a few thousand rows instead of a million.

Triggers rather than application code: every path that changes a finding (upserts, workflow
decisions, archiving, a DBA's manual UPDATE or DELETE) keeps the counts right.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 00:00:00
"""

# SQL here is assembled from the constant column names below only, never from input.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The counted fields. compliance_status is NULL for findings without one; the counts keep ''
# instead, because a unique key (hence ON CONFLICT) treats NULLs as all distinct.
_DIMS = (
    "source",
    "generator_id",
    "severity_label",
    "severity_rank",
    "compliance_status",
    "workflow_status",
    "record_state",
)
_KEY = ", ".join(_DIMS)
_LIST = ["record_state", "severity_rank", "last_observed_at"]
_TYPES = ["record_state", "finding_type", "mitre_tactic", "severity_rank"]
_ACCOUNTS = [
    "record_state",
    "account_id",
    "generator_id",
    "compliance_status",
    "workflow_status",
    "severity_rank",
]


def _values(row: str) -> str:
    return ", ".join(
        f"coalesce({row}.{d}, '')" if d == "compliance_status" else f"{row}.{d}" for d in _DIMS
    )


def _match(row: str) -> str:
    return " AND ".join(
        f"compliance_status = coalesce({row}.{d}, '')"
        if d == "compliance_status"
        else f"{d} = {row}.{d}"
        for d in _DIMS
    )


_CHANGED = " OR ".join(f"OLD.{d} IS DISTINCT FROM NEW.{d}" for d in _DIMS)
_CHANGED_SQLITE = " OR ".join(f"OLD.{d} IS NOT NEW.{d}" for d in _DIMS)


def _add(row: str) -> str:
    return (
        f"INSERT INTO finding_counts ({_KEY}, n) VALUES ({_values(row)}, 1) "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET n = finding_counts.n + 1"
    )


def _remove(row: str) -> str:
    return f"UPDATE finding_counts SET n = n - 1 WHERE {_match(row)}"


def _sqlite_triggers() -> list[str]:
    return [
        f"CREATE TRIGGER findings_count_insert AFTER INSERT ON findings BEGIN {_add('NEW')}; END",
        f"CREATE TRIGGER findings_count_delete AFTER DELETE ON findings "
        f"BEGIN {_remove('OLD')}; END",
        f"CREATE TRIGGER findings_count_update AFTER UPDATE ON findings "
        f"WHEN {_CHANGED_SQLITE} BEGIN {_remove('OLD')}; {_add('NEW')}; END",
    ]


def _postgresql_triggers() -> list[str]:
    return [
        f"""CREATE FUNCTION findings_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NOT ({_CHANGED}) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_remove("OLD")};
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        {_add("NEW")};
    END IF;
    RETURN NULL;
END $$""",
        "CREATE TRIGGER findings_count AFTER INSERT OR UPDATE OR DELETE ON findings "
        "FOR EACH ROW EXECUTE FUNCTION findings_count()",
    ]


def upgrade() -> None:
    op.create_table(
        "finding_counts",
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("generator_id", sa.String(), nullable=False),
        sa.Column("severity_label", sa.String(), nullable=False),
        sa.Column("severity_rank", sa.Integer(), nullable=False),
        sa.Column("compliance_status", sa.String(), nullable=False),
        sa.Column("workflow_status", sa.String(), nullable=False),
        sa.Column("record_state", sa.String(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*_DIMS, name=op.f("pk_finding_counts")),
    )
    op.execute(
        f"INSERT INTO finding_counts ({_KEY}, n) "
        f"SELECT source, generator_id, severity_label, severity_rank, "
        f"coalesce(compliance_status, ''), workflow_status, record_state, count(*) "
        f"FROM findings GROUP BY {_KEY}"
    )
    dialect = op.get_bind().dialect.name
    for statement in _sqlite_triggers() if dialect == "sqlite" else _postgresql_triggers():
        op.execute(statement)
    # The id ends both list indexes: the orderings' last tie-breaker, so that a page of the
    # default order (and the overview's newest findings of a source) walks an index in order
    # instead of sorting every finding that ties on severity and time.
    op.drop_index("ix_findings_list", "findings")
    # The statuses after it: a filtered deep page skips rows inside the index, never reading
    # the findings it skips.
    op.create_index(
        "ix_findings_list", "findings", [*_LIST, "id", "compliance_status", "workflow_status"]
    )
    op.create_index(
        "ix_findings_source_recent",
        "findings",
        ["source", "record_state", "last_observed_at", "id"],
    )
    # Scores (state per account and check) and insights by account, read from the index alone.
    op.create_index("ix_findings_accounts", "findings", _ACCOUNTS)
    # Insights by finding type or tactic likewise.
    op.drop_index("ix_findings_finding_type", "findings")
    op.create_index("ix_findings_finding_type", "findings", _TYPES)


def downgrade() -> None:
    op.drop_index("ix_findings_finding_type", "findings")
    op.create_index("ix_findings_finding_type", "findings", ["finding_type"])
    op.drop_index("ix_findings_accounts", "findings")
    op.drop_index("ix_findings_source_recent", "findings")
    op.drop_index("ix_findings_list", "findings")
    op.create_index("ix_findings_list", "findings", _LIST)
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER findings_count_{name}")
    else:
        op.execute("DROP TRIGGER findings_count ON findings")
        op.execute("DROP FUNCTION findings_count()")
    op.drop_table("finding_counts")
