"""The dashboard's own tables, beside the hub's in the same database: its users and their
sessions. They have their own metadata and their own Alembic history (version table
`mamori_web_version`), so the hub's schema and the dashboard's change independently."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, MetaData, String, Table

from mamori.hub.models import UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users = Table(
    "web_users",
    metadata,
    Column("name", String, primary_key=True),
    # argon2id PHC string: algorithm, parameters, salt and hash in one value.
    Column("password_hash", String, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("password_set_at", UtcDateTime(), nullable=False),
    Column("last_login_at", UtcDateTime(), nullable=True),
)

sessions = Table(
    "web_sessions",
    metadata,
    # SHA-256 of the cookie's token: a copy of the table cannot be replayed as cookies.
    Column("token_hash", String, primary_key=True),
    Column(
        "user_name",
        String,
        ForeignKey("web_users.name", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("csrf_token", String, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_seen_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Index("ix_web_sessions_user", "user_name"),
    Index("ix_web_sessions_expires", "expires_at"),
)
