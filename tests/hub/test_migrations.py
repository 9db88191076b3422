"""The shipped Alembic revisions build the schema the models describe, on both databases."""

from __future__ import annotations

import io

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, insert, inspect, text
from sqlalchemy.pool import NullPool

from mamori.hub import Store
from mamori.hub.database import make_engine, parse_url
from mamori.hub.migrate import (
    MIGRATIONS,
    alembic_config,
    current_revision,
    head_revision,
    hub_objects,
    upgrade,
)
from mamori.hub.models import Base
from mamori.hub.store import _row
from tests.hub.builders import detection, posture

TABLES = {"findings", "scans", "finding_history", "score_history", "alembic_version"}
# The newest revision shipped: the highest-numbered file in the versions folder.
LATEST = max(p.name.split("_")[0] for p in (MIGRATIONS / "versions").glob("[0-9]*.py"))


def test_migrates_an_empty_database_to_the_models(db_url: str) -> None:
    engine = make_engine(parse_url(db_url))
    try:
        upgrade(engine)
        with engine.connect() as conn:
            assert current_revision(conn) == head_revision() == LATEST
            assert set(inspect(conn).get_table_names()) >= TABLES
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
    finally:
        engine.dispose()


def test_reopening_is_a_no_op_that_keeps_data(db_url: str) -> None:
    with Store.open(db_url) as store:
        store.write([posture()])
    with Store.open(db_url) as again:
        assert again.count() == 1


def test_downgrade_removes_the_schema(db_url: str) -> None:
    Store.open(db_url).close()
    engine = create_engine(parse_url(db_url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "base")
        with engine.connect() as conn:
            assert not (TABLES - {"alembic_version"}) & set(inspect(conn).get_table_names())
            assert current_revision(conn) is None
    finally:
        engine.dispose()
    with Store.open(db_url) as rebuilt:
        assert rebuilt.count() == 0


def test_offline_sql_for_a_dba() -> None:
    # `alembic upgrade --sql`: the DDL for PostgreSQL without connecting to it.
    cfg = alembic_config(url="postgresql+psycopg://hub:p%40ss@db.internal/mamori")
    cfg.output_buffer = io.StringIO()
    command.upgrade(cfg, "head", sql=True)
    ddl = cfg.output_buffer.getvalue()
    assert "CREATE TABLE findings" in ddl
    assert "CREATE INDEX ix_findings_list ON findings (record_state, severity_rank" in ddl
    assert "REFERENCES findings (id) ON DELETE CASCADE" in ddl


def test_0002_fills_type_and_tactic_of_stored_findings(db_url: str) -> None:
    # A store written before 0002: its findings get the new columns from their own JSON.
    engine = make_engine(parse_url(db_url))
    found = detection("AKIAOLD")
    old_row = {k: v for k, v in _row(found).items() if k not in {"finding_type", "mitre_tactic"}}
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0001")
            conn.execute(insert(Base.metadata.tables["findings"]).values(**old_row))
        upgrade(engine)
        with engine.connect() as conn:
            row = conn.execute(text("SELECT finding_type, mitre_tactic FROM findings")).one()
    finally:
        engine.dispose()
    assert tuple(row) == (found.types[0], "Initial Access")


def test_the_dashboard_s_tables_are_not_the_hub_s(db_url: str) -> None:
    from mamori.web.accounts import Accounts

    Store.open(db_url).close()
    Accounts.open(db_url).close()  # its own tables and history in the same database
    engine = make_engine(parse_url(db_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_name": hub_objects})
            assert compare_metadata(context, Base.metadata) == []
            assert current_revision(conn) == LATEST
    finally:
        engine.dispose()
