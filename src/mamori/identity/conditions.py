"""The Condition element of a policy statement, compiled once into a tight test.

Semantics, each from the AWS IAM User Guide:

- "IAM JSON policy elements: Condition operators": operator names are case-sensitive; values are
  case-sensitive except for the ...IgnoreCase operators; a key absent from the request makes a
  condition false, except that negated operators (StringNotEquals, StringNotEqualsIgnoreCase,
  StringNotLike, NumericNotEquals, DateNotEquals, NotIpAddress, ArnNotEquals, ArnNotLike) are
  true; `...IfExists` (any operator but Null) is true when the key is absent; Null "true" means
  the key is absent, "false" that it is present (a multivalued key with no values counts as
  absent, as "Multivalued context key examples" uses Null false against empty values). A bare
  IP address is a /32 (or /128). Dates are W3C ISO 8601 or epoch seconds. BinaryEquals
  compares bytes against base64 in the policy; the request context carries binary keys
  base64-encoded, as the IAM policy simulator takes them.
- "Conditions with multiple context keys or values": several operators AND, several keys in one
  operator AND, several values of one key OR, and for a negated operator NOR.
- "Single-valued vs. multivalued context keys" and "Creating a condition that tests multiple key
  values (set operations)": ForAllValues is true when every request value matches some policy
  value, and true when the key is absent or resolves to an empty set (no values, or just an empty
  string); ForAnyValue is true when some request value matches, and false when absent or empty.
  With a negated operator the per-value test is "matches none of the policy values".
  AWS does not document a multivalued key under an operator without a set prefix; we take any
  value matching for a positive operator and no value matching for a negated one, so a negated
  operator stays the exact complement of its positive form.

Choices where AWS documents nothing (both hold for Allow and Deny statements alike, since
matches() does not know the effect):

- A request value that cannot be read for a numeric, date, IP, binary or Bool comparison
  satisfies neither the positive nor the negated test, so such a condition is false. For an Allow
  statement the statement then does not apply, which is the safe side; for a Deny statement with
  a negated operator (Deny ... NotIpAddress) the Deny does not apply either: report such values
  as input errors upstream rather than rely on a Deny here.
- A policy value whose variable cannot be resolved matches nothing. AWS says "any attempt to
  match it fails and causes the statement to be invalid" ("IAM policy elements: Variables and
  tags"), so for a negated operator the whole key test is false too (not vacuously true).
"""

from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from mamori.identity.context import EMPTY, RequestContext
from mamori.identity.errors import PolicyError
from mamori.identity.patterns import compile_pattern, compile_template

# A request value against the policy values: True matched one, False matched none,
# None the request value cannot be read for this comparison.
Check = Callable[[str], bool | None]
# Binds the policy values to one request: its Check, and whether a variable failed to resolve.
Prepare = Callable[[RequestContext], tuple[Check, bool]]
Test = Callable[[RequestContext], bool]
Compare = Callable[[Any, Any], bool]

_ANY, _ALL = "ForAnyValue", "ForAllValues"
_IF_EXISTS = "IfExists"
_COMPARES: dict[str, Compare] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "LessThanEquals": operator.le,
    "GreaterThan": operator.gt,
    "GreaterThanEquals": operator.ge,
}


@dataclass(frozen=True, slots=True)
class _Operator:
    family: str
    negated: bool = False
    compare: Compare = operator.eq


def _operator_table() -> dict[str, _Operator]:
    table = {
        "StringEquals": _Operator("string"),
        "StringNotEquals": _Operator("string", negated=True),
        "StringEqualsIgnoreCase": _Operator("string_ic"),
        "StringNotEqualsIgnoreCase": _Operator("string_ic", negated=True),
        "StringLike": _Operator("like"),
        "StringNotLike": _Operator("like", negated=True),
        "Bool": _Operator("bool"),
        "BinaryEquals": _Operator("binary"),
        "IpAddress": _Operator("ip"),
        "NotIpAddress": _Operator("ip", negated=True),
        # "The ArnEquals and ArnLike condition operators behave identically."
        "ArnEquals": _Operator("arn"),
        "ArnLike": _Operator("arn"),
        "ArnNotEquals": _Operator("arn", negated=True),
        "ArnNotLike": _Operator("arn", negated=True),
        "Null": _Operator("null"),
    }
    for family, prefix in (("numeric", "Numeric"), ("date", "Date")):
        for name, compare in _COMPARES.items():
            table[prefix + name] = _Operator(family, compare=compare)
        table[prefix + "NotEquals"] = _Operator(family, negated=True)
    return table


_OPERATORS = _operator_table()
_BY_LOWER = {name.lower(): name for name in _OPERATORS}


class CompiledCondition:
    """A Condition element: true when every operator block, and every key in it, matches."""

    __slots__ = ("_tests", "keys")

    def __init__(self, tests: tuple[Test, ...], keys: frozenset[str]) -> None:
        self._tests = tests
        self.keys = keys

    def matches(self, ctx: RequestContext) -> bool:
        for test in self._tests:  # noqa: SIM110 - a plain loop is faster on this hot path
            if not test(ctx):
                return False
        return True

    def __repr__(self) -> str:
        return f"CompiledCondition(keys={sorted(self.keys)})"


def compile_condition(raw: object, where: str, *, variables: bool) -> CompiledCondition | None:
    """Compile a Condition element ({operator: {key: value or [values]}}); None when empty.

    `variables` is True only for policy Version 2012-10-17. Malformed input raises PolicyError
    naming `where`, the operator and the key.
    """
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise PolicyError(where, "expected an object of {operator: {key: values}}")
    tests: list[Test] = []
    keys: set[str] = set()
    for name, block in raw.items():
        here = f"{where}, operator {name!r}"
        set_mode, if_exists, spec = _parse_operator(name, here)
        if not isinstance(block, Mapping):
            raise PolicyError(here, "expected an object of {condition key: values}")
        for key, raw_values in block.items():
            if not isinstance(key, str) or not key:
                raise PolicyError(here, f"condition key {key!r} must be a non-empty string")
            at = f"{here}, key {key!r}"
            values = _policy_values(raw_values, at)
            try:
                test = _compile_key(spec, key.lower(), values, set_mode, if_exists, variables)
            except PolicyError as error:
                detail = ": ".join(part for part in (error.where, error.problem) if part)
                raise PolicyError(at, detail) from None
            tests.append(test)
            keys.add(key.lower())
    if not tests:
        return None
    return CompiledCondition(tuple(tests), frozenset(keys))


def _parse_operator(name: object, here: str) -> tuple[str | None, bool, _Operator]:
    if not isinstance(name, str):
        raise PolicyError(here, "a condition operator must be a string")
    set_mode: str | None = None
    base = name
    prefix, colon, rest = name.partition(":")
    if colon:
        if prefix not in (_ANY, _ALL):
            raise PolicyError(here, "the only set operators are ForAnyValue: and ForAllValues:")
        set_mode, base = prefix, rest
    if_exists = base.endswith(_IF_EXISTS) and base[: -len(_IF_EXISTS)] in _OPERATORS
    if if_exists:
        base = base[: -len(_IF_EXISTS)]
    spec = _OPERATORS.get(base)
    if spec is None:
        hint = _BY_LOWER.get(base.lower())
        problem = f"unknown condition operator {base!r}"
        raise PolicyError(here, problem + (f" (names are case-sensitive: {hint})" if hint else ""))
    if spec.family == "null" and (if_exists or set_mode):
        raise PolicyError(here, "Null takes neither IfExists nor a set operator")
    return set_mode, if_exists, spec


def _scalar(value: object, at: str) -> str:
    # JSON scalars become their JSON text: true -> "true", 10 -> "10".
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    try:
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float) and math.isfinite(value):
            return repr(value)
    except ValueError:  # an integer too long to print
        pass
    raise PolicyError(at, f"condition values must be strings, numbers or booleans, not {value!r}")


def _policy_values(raw: object, at: str) -> list[str]:
    items = raw if isinstance(raw, list | tuple) else [raw]
    return [_scalar(item, at) for item in items]


# --- the test for one key ---------------------------------------------------------------


def _compile_key(
    spec: _Operator,
    key: str,
    values: list[str],
    set_mode: str | None,
    if_exists: bool,
    variables: bool,
) -> Test:
    if spec.family == "null":
        return _null_test(key, values)
    check, prepare = _BUILDERS[spec.family](values, spec, variables)
    negated = spec.negated
    absent = if_exists or set_mode == _ALL or (set_mode is None and negated)
    if prepare is not None:
        return _dynamic_test(key, prepare, set_mode, negated, absent)
    if check is None:
        raise AssertionError("a condition builder returned neither a check nor a prepare")
    if set_mode is None and not negated:
        return _any_value_test(key, check, absent)

    def test(ctx: RequestContext) -> bool:
        found = ctx.get(key)
        if found is None:
            return absent
        if set_mode is not None and (not found or found == ("",)):
            return set_mode == _ALL
        return _decide(found, check, False, set_mode, negated)

    return test


def _any_value_test(key: str, check: Check, absent: bool) -> Test:
    """The common case, kept short: any request value matching any policy value."""

    def test(ctx: RequestContext) -> bool:
        found = ctx.get(key)
        if found is None:
            return absent
        for value in found:  # noqa: SIM110 - a plain loop is faster on this hot path
            if check(value) is True:
                return True
        return False

    return test


def _dynamic_test(
    key: str, prepare: Prepare, set_mode: str | None, negated: bool, absent: bool
) -> Test:
    def test(ctx: RequestContext) -> bool:
        found = ctx.get(key)
        if found is None:
            return absent
        if set_mode is not None and (not found or found == ("",)):
            return set_mode == _ALL
        check, failed = prepare(ctx)
        return _decide(found, check, failed, set_mode, negated)

    return test


def _decide(
    found: tuple[str, ...], check: Check, failed: bool, set_mode: str | None, negated: bool
) -> bool:
    if not negated:
        if set_mode == _ALL:
            return all(check(v) is True for v in found)
        return any(check(v) is True for v in found)
    if failed:
        return not found
    if set_mode == _ANY:
        return any(check(v) is False for v in found)
    return all(check(v) is False for v in found)


def _null_test(key: str, values: list[str]) -> Test:
    wanted = {_bool(v) for v in values}
    if None in wanted:
        raise PolicyError("", "Null takes true or false")

    def test(ctx: RequestContext) -> bool:
        found = ctx.get(key)
        return (found is None or not found) in wanted

    return test


# --- families of operators: (static Check, None) or (None, per-request Prepare) -------------

_Built = tuple[Check, None] | tuple[None, Prepare]


def _strings(values: list[str], spec: _Operator, variables: bool) -> _Built:
    fold = spec.family == "string_ic"
    fixed: set[str] = set()
    templates = []
    for value in values:
        template = compile_template(value, variables=variables)
        if template.static is None:
            templates.append(template)
        else:
            fixed.add(template.static.lower() if fold else template.static)
    frozen = frozenset(fixed)
    if not templates:
        if fold:
            return (lambda v: v.lower() in frozen), None
        return frozen.__contains__, None

    def prepare(ctx: RequestContext) -> tuple[Check, bool]:
        rendered = set(frozen)
        failed = False
        for template in templates:
            text = template.render(ctx)
            if text is None:
                failed = True
            else:
                rendered.add(text.lower() if fold else text)
        if fold:
            return (lambda v: v.lower() in rendered), failed
        return rendered.__contains__, failed

    return None, prepare


def _patterns(values: list[str], spec: _Operator, variables: bool) -> _Built:
    mode = "arn" if spec.family == "arn" else "string"
    compiled = [compile_pattern(v, mode=mode, variables=variables) for v in values]
    if any(p.matches_everything for p in compiled):
        return (lambda v: True), None
    exact = frozenset(p.literal for p in compiled if p.literal is not None)
    static = [p.bind(EMPTY) for p in compiled if p.is_static and p.literal is None]
    static_matchers = [m for m in static if m is not None]
    dynamic = [p for p in compiled if not p.is_static]

    def check_static(v: str) -> bool:
        return v in exact or any(m(v) for m in static_matchers)

    if not dynamic:
        return check_static, None

    def prepare(ctx: RequestContext) -> tuple[Check, bool]:
        bound = [m for p in dynamic if (m := p.bind(ctx)) is not None]
        failed = len(bound) < len(dynamic)
        return (lambda v: check_static(v) or any(m(v) for m in bound)), failed

    return None, prepare


def _parsed(parse: Callable[[str], Any], what: str) -> Callable[..., _Built]:
    """A family whose values are parsed (numbers, dates, ...) and compared with spec.compare."""

    def build(values: list[str], spec: _Operator, variables: bool) -> _Built:
        wanted = []
        for value in values:
            parsed = parse(value)
            if parsed is None:
                raise PolicyError("", f"{value!r} is not {what}")
            wanted.append(parsed)
        compare = spec.compare

        def check(v: str) -> bool | None:
            got = parse(v)
            if got is None:
                return None
            return any(compare(got, target) for target in wanted)

        return check, None

    return build


def _bools(values: list[str], spec: _Operator, variables: bool) -> _Built:
    fixed: set[bool] = set()
    templates = []
    for value in values:
        template = compile_template(value, variables=variables)
        if template.static is None:
            templates.append(template)
            continue
        parsed = _bool(template.static)
        if parsed is None:
            raise PolicyError("", f"{value!r} is not true or false")
        fixed.add(parsed)

    def check_with(wanted: set[bool]) -> Check:
        def check(v: str) -> bool | None:
            got = _bool(v)
            return None if got is None else got in wanted

        return check

    if not templates:
        return check_with(fixed), None

    def prepare(ctx: RequestContext) -> tuple[Check, bool]:
        wanted = set(fixed)
        failed = False
        for template in templates:
            got = _bool(template.render(ctx) or "")
            if got is None:
                failed = True
            else:
                wanted.add(got)
        return check_with(wanted), failed

    return None, prepare


def _networks(values: list[str], spec: _Operator, variables: bool) -> _Built:
    nets = []
    for value in values:
        try:
            net = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            raise PolicyError("", f"{value!r} is not an IP address or CIDR range") from None
        nets.append((net.version, int(net.network_address), int(net.netmask)))

    def check(v: str) -> bool | None:
        address = _address(v)
        if address is None:
            return None
        version, number = address
        return any(version == nv and number & mask == base for nv, base, mask in nets)

    return check, None


# --- parsing values (cached: the same request values recur across statements) ---------------

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_YEAR_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_MAX_EPOCH_DIGITS = 14  # epoch seconds beyond year 9999 are not dates


@functools.lru_cache(maxsize=4096)
def _number(text: str) -> Decimal | None:
    # Decimal, not float: 9007199254740993 must not equal 9007199254740992.
    return Decimal(text) if _NUMBER.fullmatch(text) else None


@functools.lru_cache(maxsize=4096)
def _date(text: str) -> int | None:
    """Microseconds since the epoch, from epoch seconds or W3C ISO 8601 (UTC when no zone)."""
    if _NUMBER.fullmatch(text):
        seconds = Decimal(text)
        if seconds.adjusted() >= _MAX_EPOCH_DIGITS:
            return None
        return int(seconds * 1_000_000)
    try:
        year_month = _YEAR_MONTH.fullmatch(text)
        if year_month:
            moment = datetime(int(year_month[1]), int(year_month[2]), 1)
        else:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MICROSECOND


def _bool(text: str) -> bool | None:
    lowered = text.lower()
    if lowered == "true":
        return True
    return False if lowered == "false" else None


@functools.lru_cache(maxsize=1024)
def _binary(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


@functools.lru_cache(maxsize=4096)
def _address(text: str) -> tuple[int, int] | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    return address.version, int(address)


_BUILDERS: dict[str, Callable[[list[str], _Operator, bool], _Built]] = {
    "string": _strings,
    "string_ic": _strings,
    "like": _patterns,
    "arn": _patterns,
    "bool": _bools,
    "ip": _networks,
    "numeric": _parsed(_number, "a number"),
    "date": _parsed(_date, "an ISO 8601 date or epoch seconds"),
    "binary": _parsed(_binary, "base64"),
}
