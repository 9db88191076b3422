"""Where the hub lives: database URLs, engines, and the errors a user sees when it is not there."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import platformdirs
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from mamori.core import StoreError

CONNECT_TIMEOUT_S = 5
_BACKENDS = ("sqlite", "postgresql")


def default_db_url() -> str:
    """`MAMORI_DB` if set, else a SQLite file in the user's data directory."""
    configured = os.environ.get("MAMORI_DB", "").strip()
    if configured:
        return configured
    path = Path(platformdirs.user_data_dir("mamori", appauthor=False)) / "mamori.db"
    return f"sqlite:///{path}"


def parse_url(raw: str) -> URL:
    """Parse and normalise a database URL; a plain postgresql:// means the psycopg 3 driver."""
    try:
        url = make_url(raw)
    except ArgumentError:
        # Never echo the text back: it may hold a password.
        raise StoreError(
            "findings store URL is not a database URL "
            "(expected sqlite:///<file> or postgresql://...)"
        ) from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in _BACKENDS:
        raise StoreError(
            f"findings store {mask(url)}: unsupported database (use sqlite or postgresql)"
        )
    return url


def mask(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def is_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


class RawJson(str):
    """JSON text that is already serialised (pydantic's `model_dump_json`): the engine's JSON
    serializer passes it through. Building the text in one step skips an intermediate tree of
    dicts and lists, which is most of the cost of writing a finding."""

    __slots__ = ()


def _json_dumps(value: Any) -> str:
    if isinstance(value, RawJson):
        return str(value)
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        # orjson refuses integers beyond 64 bits, which evidence copied from an API may hold.
        return json.dumps(value, ensure_ascii=False)


def make_engine(url: URL) -> Engine:
    kwargs: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
    if url.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False}
        if is_memory(url):
            # Each new connection to :memory: is a new, empty database: keep exactly one.
            kwargs["poolclass"] = StaticPool
        elif url.database:
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    else:
        # A server that is down or unreachable must fail fast, not hang a command.
        if "connect_timeout" not in url.query:
            kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets the web UI read while a scan writes; NORMAL sync is safe with WAL and
        # avoids an fsync per batch; foreign keys are off in SQLite unless asked for.
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            f"busy_timeout={CONNECT_TIMEOUT_S * 1000}",
        ):
            cursor.execute(f"PRAGMA {pragma}")
    finally:
        cursor.close()


def describe_error(url: URL, exc: BaseException) -> str:
    """The driver's first line of complaint, with any password scrubbed out."""
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    reason = lines[0] if lines else type(orig).__name__
    if url.password:
        reason = reason.replace(str(url.password), "***")
    return reason


def open_engine(
    url: str | None, prepare: Callable[[Engine], None], what: str
) -> tuple[Engine, URL]:
    """An engine for `url` (None: the default), prepared (schema created or migrated) by
    `prepare`; any failure is a StoreError naming `what` and the masked URL."""
    parsed = parse_url(url or default_db_url())
    engine: Engine | None = None
    try:
        engine = make_engine(parsed)
        prepare(engine)
    except (SQLAlchemyError, CommandError, OSError) as exc:
        if engine is not None:
            engine.dispose()
        raise StoreError(
            f"cannot open {what} {mask(parsed)}: {describe_error(parsed, exc)}"
        ) from exc
    return engine, parsed


@contextmanager
def database_errors(url: URL, what: str, action: str) -> Iterator[None]:
    """A database failure inside becomes a StoreError naming `what`, the URL and the action."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise StoreError(
            f"{what} {mask(url)}: cannot {action}: {describe_error(url, exc)}"
        ) from exc
