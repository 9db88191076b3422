"""Bring a hub database to the current schema with the Alembic revisions shipped in the package."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic Config built in code: the package carries no alembic.ini."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # Paths are split on os.pathsep, so a script location with spaces stays one path.
    cfg.set_main_option("path_separator", "os")
    if url is not None:
        # ConfigParser interpolation would read a '%' in a password as a placeholder.
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def hub_objects(name: str | None, type_: str, _parents: Any) -> bool:
    """Alembic's include_name: the hub's own tables only. The dashboard keeps its tables
    (users, sessions) in the same database under its own history; autogenerate must not
    take them for tables to drop."""
    from mamori.hub.models import Base

    return type_ != "table" or name in Base.metadata.tables


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Create or migrate the schema; a no-op on an up-to-date database."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
