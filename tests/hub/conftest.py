"""Every store test runs on SQLite (a temporary file) and on PostgreSQL.

PostgreSQL comes from MAMORI_TEST_PG_URL, which scripts/test.sh (`make test`) sets after
starting a throwaway server. Without it the PostgreSQL variants are skipped, except under
CI=true, where a missing server is a failure: CI must exercise PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from mamori.hub import Store

PG_ENV = "MAMORI_TEST_PG_URL"


@pytest.fixture(scope="session")
def pg_url() -> str:
    url = os.environ.get(PG_ENV, "").strip()
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{PG_ENV} is not set: CI must run the PostgreSQL tests (scripts/test.sh)")
        pytest.skip(f"{PG_ENV} is not set; scripts/test.sh starts PostgreSQL")
    return url


@contextmanager
def _pg_schema(pg_url: str) -> Iterator[str]:
    """A URL whose search_path is a fresh schema: tests (and xdist workers) never share tables."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(pg_url, poolclass=NullPool)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def _database(request: pytest.FixtureRequest, directory: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{directory / 'hub.db'}"
    else:
        with _pg_schema(str(request.getfixturevalue("pg_url"))) as url:
            yield url


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind, for one test."""
    with _database(request, tmp_path) as url:
        yield url


@pytest.fixture(scope="module", params=BACKENDS)
def module_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database of each kind, shared by a module's read-only tests."""
    with _database(request, tmp_path_factory.mktemp("hub")) as url:
        yield url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store.open(db_url)
    try:
        yield opened
    finally:
        opened.close()
