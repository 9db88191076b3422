"""Text helpers shared by the writers: length limits, blank values, JSON text of any value."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, NamedTuple

import orjson

ELLIPSIS = "…"

_JSON_OPTS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def utf16_len(text: str) -> int:
    # AWS counts string lengths in UTF-16 code units (its services are Java), so a character
    # outside the Basic Multilingual Plane (most emoji) counts twice.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def fit(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-16 code units, marked with an ellipsis when cut.

    The cut never splits a surrogate pair, so the result is always valid Unicode.
    """
    if utf16_len(text) <= limit:
        return text
    raw = text.encode("utf-16-le", "surrogatepass")[: (limit - len(ELLIPSIS)) * 2]
    # "ignore" drops the half of a surrogate pair that the byte cut may have left at the end.
    return raw.decode("utf-16-le", "ignore") + ELLIPSIS


def present(text: str | None) -> bool:
    """ASFF rejects strings without a non-whitespace character (its `.*\\S.*` pattern)."""
    return bool(text and text.strip())


def _default(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", "replace")
    return str(value)


def to_json(value: Any) -> bytes:
    """Compact JSON of any value; types JSON cannot hold become their text."""
    try:
        return orjson.dumps(value, default=_default, option=_JSON_OPTS)
    except orjson.JSONEncodeError:
        # orjson refuses integers beyond 64 bits and lone surrogates (text decoded from hostile
        # bytes with surrogateescape); the standard library writes both, escaped as ASCII.
        return json.dumps(value, default=_default, separators=(",", ":")).encode()


def as_text(value: Any) -> str:
    """A free-form value as one string: itself when it is text, else its compact JSON."""
    return value if isinstance(value, str) else to_json(value).decode()


class MapLimits(NamedTuple):
    max_items: int
    key_len: int
    value_len: int


def field_map(pairs: Iterable[tuple[str, Any]], limits: MapLimits) -> dict[str, str]:
    """A string-to-string map within the limits of one of ASFF's key-value maps.

    Blank keys, blank values and None are dropped (ASFF rejects blank strings, and "null"
    would read as a value); the first pair wins when cutting two keys leaves them equal;
    pairs beyond `limits.max_items` are dropped.
    """
    out: dict[str, str] = {}
    for key, value in pairs:
        if len(out) >= limits.max_items:
            break
        text = "" if value is None else as_text(value)
        if present(key) and present(text):
            out.setdefault(fit(key, limits.key_len), fit(text, limits.value_len))
    return out
