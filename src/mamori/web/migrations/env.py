"""Alembic environment for the dashboard's tables (see mamori.web.tables); run by
`mamori.web.migrate` with an open connection, never from an alembic.ini."""

from __future__ import annotations

from alembic import context

from mamori.web.tables import metadata

VERSION_TABLE = "mamori_web_version"

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
    # The hub's tables share the database; they are the hub's migrations' business.
    include_name=lambda name, type_, _parent: type_ != "table" or (name or "").startswith("web_"),
)
with context.begin_transaction():
    context.run_migrations()
