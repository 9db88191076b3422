"""The dashboard's users and sessions, kept in the findings store's database.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's second recommended
profile) and re-hashed on login when those defaults change. A session is a random token in a
cookie; the database keeps only its SHA-256, with the session's CSRF token, its last use and
its hard expiry.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Self

from alembic import command
from alembic.config import Config
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError

from mamori.core import InputError, StoreError, utcnow
from mamori.hub.database import database_errors, open_engine
from mamori.web.tables import sessions, users

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
ADMIN = "admin"
MIN_PASSWORD = 12
SESSION_IDLE = timedelta(hours=2)
SESSION_LIFETIME = timedelta(hours=12)
# A session's last use is written at most this often, not on every request.
_TOUCH_EVERY = timedelta(minutes=5)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
_hasher = PasswordHasher()


@dataclass(frozen=True)
class UserInfo:
    name: str
    created_at: datetime
    password_set_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True)
class WebSession:
    user: str
    csrf_token: str
    expires_at: datetime


@cache
def _dummy_hash() -> str:
    """Verified when the user does not exist, so that a wrong name costs as long as a wrong
    password (no probing for user names by timing)."""
    return _hasher.hash(secrets.token_urlsafe(16))


def new_password() -> str:
    """A generated password: 24 URL-safe characters, 144 random bits."""
    return secrets.token_urlsafe(18)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def migrate(connection: Connection) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


def _migrate_engine(engine: Engine) -> None:
    with engine.begin() as conn:
        migrate(conn)


class Accounts:
    """Open with `Accounts.open(url)` (the findings store's URL); close with `close()`."""

    def __init__(self, engine: Engine, url: URL) -> None:
        self._engine = engine
        self._url = url

    @classmethod
    def open(cls, url: str | None = None) -> Accounts:
        return cls(*open_engine(url, _migrate_engine, "the dashboard's users in"))

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self, action: str) -> Iterator[Connection]:
        with database_errors(self._url, "dashboard users in", action), self._engine.begin() as c:
            yield c

    # -- users ------------------------------------------------------------------------------

    def ensure_admin(self) -> str | None:
        """On first use (no user at all), create `admin` with a generated password and return
        it, to be shown once; afterwards None."""
        with self._tx("count users") as conn:
            if conn.scalar(select(func.count()).select_from(users)):
                return None
        return self.add_user(ADMIN)

    def add_user(self, name: str, password: str | None = None) -> str:
        """Create a user; returns its password (generated when none is given)."""
        _check_name(name)
        password = _checked_password(password)
        now = utcnow()
        try:
            with self._tx("add a user") as conn:
                conn.execute(
                    insert(users).values(
                        name=name,
                        password_hash=_hasher.hash(password),
                        created_at=now,
                        password_set_at=now,
                    )
                )
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise InputError(f"user {name!r} already exists") from None
            raise
        return password

    def set_password(self, name: str, password: str | None = None) -> str:
        """Replace a user's password (generated when none is given) and end its sessions."""
        password = _checked_password(password)
        with self._tx("set a password") as conn:
            changed = conn.execute(
                update(users)
                .where(users.c.name == name)
                .values(password_hash=_hasher.hash(password), password_set_at=utcnow())
            ).rowcount
            if not changed:
                raise InputError(f"no dashboard user {name!r}")
            conn.execute(delete(sessions).where(sessions.c.user_name == name))
        return password

    def remove_user(self, name: str) -> None:
        with self._tx("remove a user") as conn:
            conn.execute(delete(sessions).where(sessions.c.user_name == name))
            if not conn.execute(delete(users).where(users.c.name == name)).rowcount:
                raise InputError(f"no dashboard user {name!r}")

    def list_users(self) -> list[UserInfo]:
        with self._tx("list users") as conn:
            rows = conn.execute(
                select(
                    users.c.name, users.c.created_at, users.c.password_set_at, users.c.last_login_at
                ).order_by(users.c.name)
            ).all()
        return [UserInfo(*row) for row in rows]

    def authenticate(self, name: str, password: str) -> bool:
        """Whether the password is the user's; the hash is upgraded if argon2's parameters
        have changed since it was made."""
        with self._tx("read a user") as conn:
            stored = conn.scalar(select(users.c.password_hash).where(users.c.name == name))
        try:
            _hasher.verify(stored or _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return False
        if stored is None:
            return False
        values: dict[str, object] = {"last_login_at": utcnow()}
        if _hasher.check_needs_rehash(stored):
            values["password_hash"] = _hasher.hash(password)
        with self._tx("record a login") as conn:
            conn.execute(update(users).where(users.c.name == name).values(**values))
        return True

    # -- sessions ---------------------------------------------------------------------------

    def start_session(self, name: str) -> tuple[str, WebSession]:
        """A new session for a user who has just logged in: (cookie token, session)."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        session = WebSession(name, secrets.token_urlsafe(32), now + SESSION_LIFETIME)
        with self._tx("start a session") as conn:
            # Expired sessions are swept here, the one place that adds any.
            conn.execute(delete(sessions).where(sessions.c.expires_at < now))
            conn.execute(
                insert(sessions).values(
                    token_hash=_token_hash(token),
                    user_name=name,
                    csrf_token=session.csrf_token,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=session.expires_at,
                )
            )
        return token, session

    def session(self, token: str) -> WebSession | None:
        """The live session of a cookie's token, or None (unknown, idle too long, expired)."""
        key = _token_hash(token)
        now = utcnow()
        with self._tx("read a session") as conn:
            row = conn.execute(
                select(
                    sessions.c.user_name,
                    sessions.c.csrf_token,
                    sessions.c.expires_at,
                    sessions.c.last_seen_at,
                ).where(sessions.c.token_hash == key)
            ).first()
            if row is None:
                return None
            user, csrf, expires_at, last_seen = row
            if now >= expires_at or now - last_seen > SESSION_IDLE:
                conn.execute(delete(sessions).where(sessions.c.token_hash == key))
                return None
            if now - last_seen > _TOUCH_EVERY:
                conn.execute(
                    update(sessions).where(sessions.c.token_hash == key).values(last_seen_at=now)
                )
        return WebSession(user, csrf, expires_at)

    def end_session(self, token: str) -> None:
        with self._tx("end a session") as conn:
            conn.execute(delete(sessions).where(sessions.c.token_hash == _token_hash(token)))


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise InputError(
            f"user name {name!r} is not allowed (letters, digits, '_', '.', '@', '-'; "
            "at most 64 characters)"
        )


def _checked_password(password: str | None) -> str:
    if password is None:
        return new_password()
    if len(password) < MIN_PASSWORD:
        raise InputError(f"a password needs at least {MIN_PASSWORD} characters")
    return password
