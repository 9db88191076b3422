"""Automation: the audit of every action, and each rules file's watermark.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _text(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "automation_audit",
        sa.Column("id", _AUTO_ID, autoincrement=True, nullable=False),
        _ts("at"),
        *(
            _text(name)
            for name in (
                "run_id",
                "rules",
                "rule_id",
                "action",
                "action_key",
                "finding_id",
                "fingerprint",
                "account_id",
            )
        ),
        sa.Column("resource_id", sa.Text(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        _text("result"),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_audit")),
    )
    op.create_index(
        "ix_automation_audit_done", "automation_audit", ["rules", "rule_id", "finding_id"]
    )
    op.create_index("ix_automation_audit_at", "automation_audit", ["at"])
    op.create_table(
        "automation_state",
        _text("rules"),
        _ts("watermark"),
        _text("last_run_id"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("rules", name=op.f("pk_automation_state")),
    )


def downgrade() -> None:
    op.drop_table("automation_state")
    op.drop_table("automation_audit")
