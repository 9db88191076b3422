"""EventBridge-style content filtering over a JSON document, compiled once into closures.

The pattern language is Amazon EventBridge's, as AWS documents it for event patterns:

- a pattern is an object whose keys name fields of the document; every key must match (AND);
- a nested object matches the nested object of the document; against a list of objects (ASFF
  `Resources`) it matches when one element matches all of it;
- a leaf is a non-empty list whose items are alternatives (OR): a literal (string, number,
  true, false, null: exact match, numbers compared as numbers) or one filter object:
  `prefix`, `suffix` (either may hold `{"equals-ignore-case": ...}`), `equals-ignore-case`,
  `wildcard` (`*` for any run of characters, `\\*` and `\\\\` for a literal star and backslash),
  `anything-but` (a value, a list of strings or of numbers, or a `prefix`, `suffix`,
  `equals-ignore-case` or `wildcard` object), `numeric` (`["=", 5]`, `[">", 0, "<=", 5]`),
  `exists` (true or false), `cidr` (an IPv4 or IPv6 network);
- when the document's field is a list of values, the leaf matches if any value matches;
- `$or` holds two or more patterns of which one must match, beside the object's other keys.

Anything else is an InputError naming the place in the pattern; compiled matchers never raise,
whatever the document holds (a value of an unexpected type simply does not match).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Mapping
from typing import Any

from mamori.core import InputError

# A compiled pattern: is this document matched?
Matcher = Callable[[Mapping[str, Any]], bool]
# A compiled leaf filter, applied to one scalar value of the document.
_Test = Callable[[Any], bool]

_MISSING = object()
_EMPTY: Mapping[str, Any] = {}
_LOWER = (">", ">=")
_UPPER = ("<", "<=")
_FILTERS = (
    "prefix",
    "suffix",
    "equals-ignore-case",
    "wildcard",
    "anything-but",
    "numeric",
    "exists",
    "cidr",
)


def compile_pattern(pattern: Any, where: str = "pattern") -> Matcher:
    """The matcher of an event pattern; InputError naming `where` and the path at fault."""
    if not isinstance(pattern, Mapping) or not pattern:
        raise InputError(f"{where or 'pattern'}: a pattern is a non-empty mapping of field names")
    return _object(pattern, where)


# -- objects ------------------------------------------------------------------------------------


def _object(pattern: Mapping[Any, Any], path: str) -> Matcher:
    tests: list[Matcher] = []
    for key, value in pattern.items():
        if not isinstance(key, str) or not key:
            raise InputError(f"{path or 'pattern'}: field name {key!r} is not a non-empty string")
        here = f"{path}.{key}" if path else key
        if key == "$or":
            tests.append(_or(value, here))
        elif isinstance(value, Mapping):
            if not value:
                raise InputError(f"{here}: an empty nested pattern")
            tests.append(_nested(key, _object(value, here)))
        elif isinstance(value, list):
            tests.append(_field(key, _leaf(value, here)))
        else:
            raise InputError(
                f"{here}: expected a list of values or a nested pattern, got {_kind(value)}"
            )
    return lambda doc: all(test(doc) for test in tests)


def _or(value: Any, path: str) -> Matcher:
    if not isinstance(value, list) or len(value) < 2:
        raise InputError(f"{path}: $or takes a list of at least two patterns")
    branches = []
    for i, branch in enumerate(value):
        if not isinstance(branch, Mapping) or not branch:
            raise InputError(f"{path}[{i}]: each $or branch is a non-empty pattern")
        branches.append(_object(branch, f"{path}[{i}]"))
    return lambda doc: any(b(doc) for b in branches)


def _nested(key: str, sub: Matcher) -> Matcher:
    def test(doc: Mapping[str, Any]) -> bool:
        value = doc.get(key, _MISSING)
        if isinstance(value, Mapping):
            return sub(value)
        if isinstance(value, list):
            objects = [v for v in value if isinstance(v, Mapping)]
            if objects:
                return any(sub(v) for v in objects)
        # Missing (or not an object): only `exists: false` inside can hold.
        return sub(_EMPTY)

    return test


def _field(key: str, leaf: Callable[[Any], bool]) -> Matcher:
    return lambda doc: leaf(doc.get(key, _MISSING))


# -- leaves -------------------------------------------------------------------------------------


def _leaf(items: list[Any], path: str) -> Callable[[Any], bool]:
    """The alternatives of one field. `exists` looks at presence; every other filter at each
    scalar value (a list in the document matches when any of its values does)."""
    if not items:
        raise InputError(f"{path}: an empty list can never match")
    presence: list[bool] = []
    tests: list[_Test] = []
    for i, item in enumerate(items):
        here = f"{path}[{i}]"
        if isinstance(item, Mapping):
            name, arg = _single(item, here)
            if name == "exists":
                if not isinstance(arg, bool):
                    raise InputError(f"{here}.exists: expected true or false, got {_kind(arg)}")
                presence.append(arg)
            else:
                tests.append(_filter(name, arg, f"{here}.{name}"))
        else:
            tests.append(_literal(item, here))

    def match(value: Any) -> bool:
        if value is _MISSING:
            return False in presence
        if isinstance(value, Mapping):
            return False  # an object is not a leaf: no value filter applies to it
        if True in presence and (not isinstance(value, list) or value):
            return True
        values = value if isinstance(value, list) else [value]
        scalars = [v for v in values if not isinstance(v, Mapping | list)]
        return any(test(v) for v in scalars for test in tests)

    return match


def _single(item: Mapping[Any, Any], path: str) -> tuple[str, Any]:
    if len(item) != 1:
        raise InputError(f"{path}: a filter object has exactly one key (one of {_names()})")
    name, arg = next(iter(item.items()))
    if name not in _FILTERS:
        raise InputError(f"{path}: unknown filter {name!r} (expected one of {_names()})")
    return str(name), arg


def _names() -> str:
    return ", ".join(_FILTERS)


def _literal(item: Any, path: str) -> _Test:
    if item is None:
        return lambda v: v is None
    if isinstance(item, bool):
        return lambda v: v is item
    if isinstance(item, int | float):
        number = _finite(item, path)
        return lambda v: _is_number(v) and v == number
    if isinstance(item, str):
        return lambda v: isinstance(v, str) and v == item
    raise InputError(f"{path}: expected a string, number, boolean or null, got {_kind(item)}")


def _filter(name: str, arg: Any, path: str) -> _Test:
    if name == "prefix":
        return _affix(arg, path, str.startswith)
    if name == "suffix":
        return _affix(arg, path, str.endswith)
    if name == "equals-ignore-case":
        wanted = _string(arg, path).casefold()
        return lambda v: isinstance(v, str) and v.casefold() == wanted
    if name == "wildcard":
        return _wildcard(_string(arg, path), path)
    if name == "anything-but":
        return _anything_but(arg, path)
    if name == "numeric":
        return _numeric(arg, path)
    return _cidr(arg, path)


def _affix(arg: Any, path: str, test: Callable[[str, str], bool]) -> _Test:
    if isinstance(arg, Mapping):
        name, inner = _single(arg, path)
        if name != "equals-ignore-case":
            raise InputError(f"{path}: only equals-ignore-case may qualify it, not {name!r}")
        folded = _string(inner, f"{path}.{name}").casefold()
        return lambda v: isinstance(v, str) and test(v.casefold(), folded)
    text = _string(arg, path)
    return lambda v: isinstance(v, str) and test(v, text)


def _anything_but(arg: Any, path: str) -> _Test:
    if isinstance(arg, Mapping):
        name, inner = _single(arg, path)
        here = f"{path}.{name}"
        if name in ("prefix", "suffix"):
            excluded = _affix(_string(inner, here), here, _AFFIX_TESTS[name])
        elif name in ("equals-ignore-case", "wildcard"):
            options = inner if isinstance(inner, list) else [inner]
            if not options:
                raise InputError(f"{here}: an empty list")
            tests = [_filter(name, o, f"{here}[{i}]") for i, o in enumerate(options)]
            return lambda v: isinstance(v, str) and not any(t(v) for t in tests)
        else:
            raise InputError(
                f"{here}: anything-but takes prefix, suffix, equals-ignore-case or wildcard"
            )
        return lambda v: isinstance(v, str) and not excluded(v)
    values = arg if isinstance(arg, list) else [arg]
    if not values:
        raise InputError(f"{path}: an empty list")
    if all(isinstance(v, str) for v in values):
        strings = frozenset(values)
        return lambda v: not (isinstance(v, str) and v in strings)
    if all(_is_number(v) for v in values):
        numbers = [_finite(v, path) for v in values]
        return lambda v: not (_is_number(v) and any(v == n for n in numbers))
    raise InputError(f"{path}: expected a string, a number, or a list of only strings or numbers")


_AFFIX_TESTS: dict[str, Callable[[str, str], bool]] = {
    "prefix": str.startswith,
    "suffix": str.endswith,
}


def _numeric(arg: Any, path: str) -> _Test:
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        raise InputError(f'{path}: expected ["op", number] or ["op", number, "op", number]')
    pairs = [(arg[i], _finite(arg[i + 1], f"{path}[{i + 1}]")) for i in range(0, len(arg), 2)]
    ops = [op for op, _ in pairs]
    if any(op not in ("=", *_LOWER, *_UPPER) for op in ops):
        raise InputError(f"{path}: operators are =, <, <=, > and >=, got {ops}")
    if len(pairs) == 2:
        lower = [p for p in pairs if p[0] in _LOWER]
        upper = [p for p in pairs if p[0] in _UPPER]
        if len(lower) != 1 or len(upper) != 1:
            raise InputError(f"{path}: a range takes one lower (>, >=) and one upper (<, <=) bound")
        if lower[0][1] >= upper[0][1]:
            raise InputError(f"{path}: the lower bound must be below the upper bound")
    tests = [_COMPARE[op](bound) for op, bound in pairs]
    return lambda v: _is_number(v) and all(t(v) for t in tests)


_COMPARE: dict[str, Callable[[float], _Test]] = {
    "=": lambda b: lambda v: v == b,
    ">": lambda b: lambda v: v > b,
    ">=": lambda b: lambda v: v >= b,
    "<": lambda b: lambda v: v < b,
    "<=": lambda b: lambda v: v <= b,
}


def _cidr(arg: Any, path: str) -> _Test:
    try:
        network = ipaddress.ip_network(_string(arg, path), strict=False)
    except ValueError as exc:
        raise InputError(f"{path}: not a network ({exc})") from None

    def test(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        try:
            address = ipaddress.ip_address(value.strip())
        except ValueError:
            return False
        return address.version == network.version and address in network

    return test


def _wildcard(text: str, path: str) -> _Test:
    """Literal runs between stars, matched left to right with str.find: linear in the value's
    length whatever the pattern (a regular expression with several `.*` could backtrack)."""
    parts: list[str] = []
    run: list[str] = []
    chars = iter(text)
    previous_star = False
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            if nxt not in ("*", "\\"):
                raise InputError(f"{path}: a backslash may only escape * or \\")
            run.append(nxt)
            previous_star = False
        elif ch == "*":
            if previous_star:
                raise InputError(f"{path}: consecutive wildcard characters are not allowed")
            parts.append("".join(run))
            run = []
            previous_star = True
        else:
            run.append(ch)
            previous_star = False
    parts.append("".join(run))
    if len(parts) == 1:
        exact = parts[0]
        return lambda v: isinstance(v, str) and v == exact
    head, middle, tail = parts[0], parts[1:-1], parts[-1]

    def test(value: Any) -> bool:
        if not isinstance(value, str) or len(value) < len(head) + len(tail):
            return False
        if not (value.startswith(head) and value.endswith(tail)):
            return False
        pos, end = len(head), len(value) - len(tail)
        for part in middle:
            found = value.find(part, pos, end)
            if found < 0:
                return False
            pos = found + len(part)
        return True

    return test


# -- values -------------------------------------------------------------------------------------


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{path}: expected a string, got {_kind(value)}")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite(value: Any, path: str) -> float:
    if not _is_number(value) or not math.isfinite(value):
        raise InputError(f"{path}: expected a finite number, got {_kind(value)}")
    return float(value) if isinstance(value, float) else value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if _is_number(value):
        return f"the number {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    # YAML turns unquoted dates and times into objects of their own: say which, and how.
    return f"a {type(value).__name__} (quote it to match it as text)"
