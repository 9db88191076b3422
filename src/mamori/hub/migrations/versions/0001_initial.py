"""Initial schema: findings, scans, finding_history.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types, so that later changes to the models cannot rewrite history.
# JSON text, not JSONB: JSONB re-encodes numbers, and findings must read back as written.
_JSON = sa.JSON()
_AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "findings",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("generator_id", sa.String(), nullable=False),
        sa.Column("severity_label", sa.String(), nullable=False),
        sa.Column("severity_rank", sa.Integer(), nullable=False),
        sa.Column("compliance_status", sa.String(), nullable=True),
        sa.Column("workflow_status", sa.String(), nullable=False),
        sa.Column("workflow_note", sa.Text(), nullable=True),
        sa.Column("workflow_updated_by", sa.String(), nullable=True),
        _ts("workflow_updated_at", nullable=True),
        sa.Column("record_state", sa.String(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("region", sa.String(), nullable=False),
        sa.Column("resource_type", sa.String(), nullable=False),
        sa.Column("resource_id", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        _ts("first_observed_at"),
        _ts("last_observed_at"),
        _ts("created_at"),
        _ts("updated_at"),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_scan_id", sa.String(), nullable=True),
        sa.Column("data", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
    )
    indexes = {
        "ix_findings_list": ["record_state", "severity_rank", "last_observed_at"],
        "ix_findings_scope": ["source", "account_id", "region"],
        "ix_findings_generator": ["generator_id"],
        "ix_findings_status": ["compliance_status", "workflow_status"],
        "ix_findings_resource_type": ["resource_type"],
        "ix_findings_last_scan": ["last_scan_id"],
    }
    for name, columns in indexes.items():
        op.create_index(name, "findings", columns)

    op.create_table(
        "scans",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("accounts", _JSON, nullable=False),
        sa.Column("regions", _JSON, nullable=False),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("counts", _JSON, nullable=True),
        sa.Column("errors", _JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scans")),
    )
    op.create_index("ix_scans_started_at", "scans", ["started_at"])

    op.create_table(
        "finding_history",
        sa.Column("id", _AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("finding_id", sa.String(), nullable=False),
        _ts("at"),
        sa.Column("from_status", sa.String(), nullable=False),
        sa.Column("to_status", sa.String(), nullable=False),
        sa.Column("changed_by", sa.String(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["findings.id"],
            ondelete="CASCADE",
            name=op.f("fk_finding_history_finding_id_findings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finding_history")),
    )
    op.create_index("ix_finding_history_finding_id", "finding_history", ["finding_id"])


def downgrade() -> None:
    op.drop_table("finding_history")
    op.drop_table("scans")
    op.drop_table("findings")
