"""Opening the store: URLs, the default location, and the errors a user sees."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from mamori.core import StoreError
from mamori.hub import Store, default_db_url
from mamori.hub.database import parse_url
from tests.hub.builders import posture


def _closed_port() -> int:
    # Bound then released: nothing listens there, so a connection is refused at once.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_postgres_that_does_not_answer_fails_fast_naming_the_url() -> None:
    port = _closed_port()
    url = f"postgresql+psycopg://scanner:s3cr3t-pw@127.0.0.1:{port}/hub"
    started = time.monotonic()
    with pytest.raises(StoreError) as err:
        Store.open(url)
    message = str(err.value)
    assert time.monotonic() - started < 5
    assert f"scanner:***@127.0.0.1:{port}/hub" in message
    assert "s3cr3t-pw" not in message
    assert "\n" not in message
    assert "refused" in message.lower() or "failed" in message.lower()


def test_plain_postgresql_scheme_uses_psycopg() -> None:
    assert parse_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert parse_url("postgres://u@h/db").drivername == "postgresql+psycopg"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url at all", "not a database URL"),
        ("mysql://root:hunter2@db/hub", "unsupported database"),
    ],
)
def test_bad_urls_are_store_errors_without_the_password(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message) as err:
        Store.open(url)
    assert "hunter2" not in str(err.value)


def test_sqlite_file_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot open findings store sqlite:///"):
        Store.open(f"sqlite:///{blocker / 'hub.db'}")


def test_sqlite_directory_is_created_and_tuned(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "hub.db"
    with Store.open(f"sqlite:///{path}") as store:
        store.write([posture()])
        with store._engine.connect() as conn:  # the pragmas are per connection
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert path.exists()
    with Store.open(f"sqlite:///{path}") as reopened:
        assert reopened.count() == 1


def test_default_url_follows_mamori_db(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAMORI_DB", "postgresql://hub@db.internal/mamori")
    assert default_db_url() == "postgresql://hub@db.internal/mamori"


def test_default_url_is_a_file_in_the_user_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MAMORI_DB", raising=False)
    monkeypatch.setattr("platformdirs.user_data_dir", lambda *a, **k: str(tmp_path / "data"))
    assert default_db_url() == f"sqlite:///{tmp_path / 'data' / 'mamori.db'}"
    with Store.open() as store:
        store.write([posture()])
    assert (tmp_path / "data" / "mamori.db").exists()


def test_in_memory_store_keeps_its_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAMORI_DB", "sqlite://")
    with Store.open() as store:
        store.write([posture("a"), posture("b")])
        assert store.count() == 2
        assert store.url == "sqlite://"
