"""Alembic environment for the findings hub.

Mamori runs its migrations itself (`mamori.hub.migrate`), handing over an open connection in
`config.attributes["connection"]`; there is no alembic.ini. To write a new revision, build the
same Config in code, e.g.:

    from alembic import command
    from mamori.hub.migrate import alembic_config
    command.revision(alembic_config(url="sqlite:///dev.db"), "what changes", autogenerate=True)

On SQLite, a batch operation that recreates `findings` drops its triggers (0004's counts):
a revision doing that must create them again.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, create_engine, pool

from mamori.hub.migrate import hub_objects
from mamori.hub.models import Base, UtcDateTime

config = context.config


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Revisions must not import application code, which changes after they are written: the
    # custom UTC type is stored as a plain aware timestamp.
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=Base.metadata,
        render_item=_render_item,
        include_name=hub_objects,
        compare_type=True,
        **kwargs,
    )


def run_offline() -> None:
    """`alembic upgrade --sql`: print the DDL for a DBA instead of running it."""
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("mamori.hub migrations need a connection or sqlalchemy.url")
    with create_engine(url, poolclass=pool.NullPool).connect() as conn:
        _run(conn)


if context.is_offline_mode():
    run_offline()
else:
    run_online()
