"""The request context an evaluation sees: condition keys and their values.

Keys are matched case-insensitively (AWS does), so they are stored lower-cased. Every value is
kept as a tuple of strings: a single-valued key is a 1-tuple, a multivalued key
(aws:TagKeys, aws:CalledVia...) a tuple of any length, possibly empty. A key that was not given
is absent, which the condition operators treat differently from an empty set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mamori.core import InputError

ContextValue = tuple[str, ...]


def _text(value: Any, key: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    raise InputError(f"context key {key!r}: values must be strings, numbers or booleans")


class RequestContext:
    """Condition keys of one request. Immutable once built; cheap to share."""

    __slots__ = ("_multi", "_values")

    def __init__(self, values: Mapping[str, ContextValue], multi: Iterable[str] = ()) -> None:
        self._values: dict[str, ContextValue] = {k.lower(): tuple(v) for k, v in values.items()}
        # Keys given as a list, even a one-element one, are multivalued.
        self._multi: frozenset[str] = frozenset(k.lower() for k in multi)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None) -> RequestContext:
        """From JSON: a scalar is a single value, a list a multivalued key."""
        values: dict[str, ContextValue] = {}
        multi: list[str] = []
        for key, value in (raw or {}).items():
            if not isinstance(key, str) or not key:
                raise InputError("context keys must be non-empty strings")
            if isinstance(value, list | tuple):
                values[key] = tuple(_text(v, key) for v in value)
                multi.append(key)
            elif value is None:
                continue
            else:
                values[key] = (_text(value, key),)
        return cls(values, multi)

    @classmethod
    def from_pairs(cls, pairs: Iterable[str]) -> RequestContext:
        """From the command line: `key=value`, a key repeated makes it multivalued."""
        values: dict[str, list[str]] = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep or not key:
                raise InputError(f"--context {pair!r}: expected key=value")
            values.setdefault(key, []).append(value)
        multi = [k for k, v in values.items() if len(v) > 1]
        return cls({k: tuple(v) for k, v in values.items()}, multi)

    def get(self, key: str) -> ContextValue | None:
        """Values of `key` (any case), or None when the key is absent."""
        return self._values.get(key.lower())

    def has(self, key: str) -> bool:
        return key.lower() in self._values

    def is_multivalued(self, key: str) -> bool:
        return key.lower() in self._multi

    def with_values(self, extra: Mapping[str, ContextValue]) -> RequestContext:
        """A copy with `extra` added where the request did not already say otherwise."""
        merged = dict(self._values)
        for key, value in extra.items():
            merged.setdefault(key.lower(), tuple(value))
        return RequestContext(merged, self._multi)

    def items(self) -> Iterable[tuple[str, ContextValue]]:
        return self._values.items()

    def __repr__(self) -> str:
        return f"RequestContext({self._values!r})"


EMPTY = RequestContext({})
