"""Time helpers: everything Mamori stores is timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | str | None) -> datetime | None:
    """Accept AWS's timestamp forms (datetime or ISO 8601 text) and return aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso(value: datetime) -> str:
    """ISO 8601 with a Z suffix and millisecond precision, the form ASFF documents."""
    aware = as_utc(value)
    assert aware is not None
    return aware.strftime("%Y-%m-%dT%H:%M:%S.") + f"{aware.microsecond // 1000:03d}Z"


def age_days(value: datetime | str | None, now: datetime | None = None) -> float | None:
    moment = as_utc(value)
    if moment is None:
        return None
    return ((now or utcnow()) - moment).total_seconds() / 86400.0
