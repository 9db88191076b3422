"""Dashboard users and sessions in the store: hashed passwords, first-run admin, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select, update
from sqlalchemy.pool import NullPool

from mamori.core import InputError, utcnow
from mamori.hub import Store
from mamori.hub.database import parse_url
from mamori.web.accounts import ADMIN, SESSION_IDLE, Accounts
from mamori.web.tables import sessions, users


def _raw(db_url: str):  # type: ignore[no-untyped-def]
    return create_engine(parse_url(db_url), poolclass=NullPool)


def test_first_run_makes_an_admin_once(db_url: str) -> None:
    with Accounts.open(db_url) as accounts:
        password = accounts.ensure_admin()
        assert password is not None and len(password) >= 20
        assert accounts.ensure_admin() is None
        assert accounts.authenticate(ADMIN, password)
        assert not accounts.authenticate(ADMIN, password + "x")


def test_passwords_are_stored_as_argon2id_hashes(db_url: str) -> None:
    with Accounts.open(db_url) as accounts:
        accounts.add_user("alice", "a long enough password")
    engine = _raw(db_url)
    with engine.connect() as conn:
        stored = conn.scalar(select(users.c.password_hash).where(users.c.name == "alice"))
    engine.dispose()
    assert stored.startswith("$argon2id$")
    assert "a long enough password" not in stored


def test_user_rules(db_url: str) -> None:
    with Accounts.open(db_url) as accounts:
        accounts.add_user("bob", "a long enough password")
        with pytest.raises(InputError, match="already exists"):
            accounts.add_user("bob")
        with pytest.raises(InputError, match="at least 12"):
            accounts.add_user("carol", "short")
        with pytest.raises(InputError, match="not allowed"):
            accounts.add_user("<b>")
        with pytest.raises(InputError, match="no dashboard user"):
            accounts.set_password("nobody")
        with pytest.raises(InputError, match="no dashboard user"):
            accounts.remove_user("nobody")
        assert [u.name for u in accounts.list_users()] == ["bob"]


def test_sessions_end_on_logout_password_change_idleness_and_removal(db_url: str) -> None:
    with Accounts.open(db_url) as accounts:
        accounts.add_user("dave", "a long enough password")
        token, session = accounts.start_session("dave")
        assert accounts.session(token) == session
        assert accounts.session(token + "x") is None
        accounts.end_session(token)
        assert accounts.session(token) is None

        token, _ = accounts.start_session("dave")
        accounts.set_password("dave", "another long password")
        assert accounts.session(token) is None, "a password change must end sessions"

        token, _ = accounts.start_session("dave")
        engine = _raw(db_url)
        with engine.begin() as conn:
            stale = utcnow() - SESSION_IDLE - timedelta(minutes=1)
            conn.execute(update(sessions).values(last_seen_at=stale))
        engine.dispose()
        assert accounts.session(token) is None, "an idle session lives on"

        token, _ = accounts.start_session("dave")
        accounts.remove_user("dave")
        assert accounts.session(token) is None


def test_session_tokens_are_stored_hashed(db_url: str) -> None:
    with Accounts.open(db_url) as accounts:
        accounts.add_user("erin", "a long enough password")
        token, _ = accounts.start_session("erin")
    engine = _raw(db_url)
    with engine.connect() as conn:
        stored = conn.scalars(select(sessions.c.token_hash)).all()
    engine.dispose()
    assert stored and token not in stored


def test_the_tables_live_beside_the_hub(db_url: str) -> None:
    # Both histories in one database: opening either leaves the other's tables alone.
    with Store.open(db_url) as store, Accounts.open(db_url) as accounts:
        accounts.add_user("frank", "a long enough password")
        assert store.count() == 0
    with Accounts.open(db_url) as again:
        assert [u.name for u in again.list_users()] == ["frank"]


@settings(max_examples=30, deadline=None)
@given(name=st.text(max_size=80))
def test_any_user_name_is_taken_or_refused_cleanly(name: str) -> None:
    with Accounts.open("sqlite://") as accounts:
        try:
            accounts.add_user(name, "a long enough password")
        except InputError:
            return
        assert [u.name for u in accounts.list_users()] == [name]


def test_migrations_build_the_tables_the_code_uses(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from mamori.web.tables import metadata

    Accounts.open(db_url).close()
    engine = _raw(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "include_name": lambda name, type_, _parent: (
                        type_ != "table" or (name or "").startswith("web_")
                    )
                },
            )
            diff = compare_metadata(context, metadata)
        assert diff == [], f"tables and migrations disagree: {diff}"
    finally:
        engine.dispose()
