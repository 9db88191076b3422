"""Finding type and ATT&CK tactic as columns (insights group by them); score history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Stored findings get the new columns from their own JSON, with each database's JSON functions:
# one statement, however many findings the store holds.
_BACKFILL = {
    "sqlite": (
        "UPDATE findings SET finding_type = json_extract(data, '$.types[0]'), "
        "mitre_tactic = json_extract(data, '$.mitre[0].tactic')"
    ),
    "postgresql": (
        "UPDATE findings SET finding_type = (data::json -> 'types') ->> 0, "
        "mitre_tactic = ((data::json -> 'mitre') -> 0) ->> 'tactic'"
    ),
}


def upgrade() -> None:
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("finding_type", sa.String(), nullable=True))
        batch.add_column(sa.Column("mitre_tactic", sa.String(), nullable=True))
    op.execute(_BACKFILL[op.get_bind().dialect.name])
    op.create_index("ix_findings_finding_type", "findings", ["finding_type"])

    op.create_table(
        "score_history",
        sa.Column("id", _AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("standard", sa.String(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("no_data", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_history")),
    )
    op.create_index("ix_score_history_standard", "score_history", ["standard", "at"])


def downgrade() -> None:
    op.drop_table("score_history")
    op.drop_index("ix_findings_finding_type", "findings")
    with op.batch_alter_table("findings") as batch:
        batch.drop_column("mitre_tactic")
        batch.drop_column("finding_type")
