"""Rule statements: one registered compiler per wafv2 statement type.

A compiler turns the statement's JSON (already checked against the API's shapes) into a `Node`:
the closure that answers "does this request match", the statement's capacity units (WCU, as the
AWS WAF developer guide prices each type) and a relative run-time cost, by which And/Or evaluate
their cheapest members first. Semantic problems the shapes cannot express are reported through
`ctx.problem`, naming the statement's path.
"""

from __future__ import annotations

import base64
import binascii
import bisect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mamori.perimeter.waf import injection
from mamori.perimeter.waf.fields import UNSUPPORTED, compile_field
from mamori.perimeter.waf.patterns import Chain, check_regex, positional
from mamori.perimeter.waf.request import Inspection, parse_ip
from mamori.perimeter.waf.transforms import chain

if TYPE_CHECKING:
    from mamori.perimeter.waf.compiler import Compiler

Matcher = Callable[[Inspection], bool]


@dataclass(frozen=True, slots=True)
class Node:
    match: Matcher
    wcu: int
    cost: int  # relative evaluation cost: 1 a lookup, 10 a pattern pass, 100 a parser


StatementCompiler = Callable[[dict[str, Any], "Compiler", str], Node]
STATEMENTS: dict[str, StatementCompiler] = {}
TOP_LEVEL_ONLY = ("RateBasedStatement", "RuleGroupReferenceStatement", "ManagedRuleGroupStatement")


def statement(name: str) -> Callable[[StatementCompiler], StatementCompiler]:
    def add(fn: StatementCompiler) -> StatementCompiler:
        STATEMENTS[name] = fn
        return fn

    return add


def _never(_: Inspection) -> bool:
    return False


# -- request-component statements -----------------------------------------------------------


def _component_wcu(base: int, spec: dict[str, Any]) -> int:
    """AWS's pricing of a component statement: JSON body doubles the base, all query arguments
    add 10, each text transformation adds 10."""
    kind = next(iter(spec["FieldToMatch"]), "")
    wcu = base * 2 if kind == "JsonBody" else base
    wcu += 10 if kind == "AllQueryArguments" else 0
    steps = spec.get("TextTransformations") or ()
    return wcu + 10 * sum(1 for t in steps if t["Type"] != "NONE")


def _component(spec: dict[str, Any], ctx: Compiler, path: str) -> tuple[str, Any, tuple[str, ...]]:
    kind, extract = compile_field(spec["FieldToMatch"])
    extract = ctx.shared_extractor(spec["FieldToMatch"], extract)
    if kind in UNSUPPORTED:
        ctx.warn(f"{path}.FieldToMatch.{kind}: TLS fingerprints are not seen in-process; its "
                 "FallbackBehavior decides")  # fmt: skip
    steps = spec.get("TextTransformations") or []
    if len({t["Priority"] for t in steps}) != len(steps):
        ctx.problem(f"{path}.TextTransformations: priorities must all be different")
    if len(steps) > 10:
        ctx.problem(f"{path}.TextTransformations: at most 10 transformations")
    return kind, extract, chain(steps)


def _field_cost(kind: str) -> int:
    return 40 if kind in ("Body", "JsonBody", "Headers", "Cookies", "AllQueryArguments") else 10


@statement("ByteMatchStatement")
def _byte_match(spec: dict[str, Any], ctx: Compiler, path: str) -> Node:
    kind, extract, steps = _component(spec, ctx, path)
    needle = ctx.search_string(spec["SearchString"], f"{path}.SearchString")
    constraint = spec["PositionalConstraint"]
    if len(needle) > 200:
        ctx.problem(f"{path}.SearchString: longer than 200 bytes")
    if constraint == "CONTAINS_WORD" and not needle.replace(b"_", b"").isalnum():
        ctx.problem(f"{path}.SearchString: CONTAINS_WORD takes only A-Z, a-z, 0-9 and _")
    group = ctx.group(spec["FieldToMatch"], extract, steps, latin1=True)
    pid = group.add(positional(needle, constraint))
    base = 10 if constraint in ("CONTAINS", "CONTAINS_WORD") else 2
    return Node(_hit(group, pid), _component_wcu(base, spec), _field_cost(kind))


# Most statements of a group find its answer already computed this request (the managed groups
# ask each group several times): the cache is read here, under the key `hits` stores it by,
# which saves a call per statement.


def _hit(group: Any, pid: int) -> Matcher:
    key = id(group)

    def match(insp: Inspection) -> bool:
        hits = insp.cache.get(key)
        if hits is None:
            hits = group.hits(insp)
        return hits if isinstance(hits, bool) else pid in hits

    return match


def _any_hit(group: Any, pids: frozenset[int]) -> Matcher:
    key = id(group)

    def match(insp: Inspection) -> bool:
        hits = insp.cache.get(key)
        if hits is None:
            hits = group.hits(insp)
        return hits if isinstance(hits, bool) else not pids.isdisjoint(hits)

    return match


@statement("RegexMatchStatement")
def _regex_match(spec: dict[str, Any], ctx: Compiler, path: str) -> Node:
    kind, extract, steps = _component(spec, ctx, path)
    pattern = spec["RegexString"]
    why = check_regex(pattern)
    if why is not None:
        ctx.problem(f"{path}.RegexString: not a supported regular expression: {why}")
        return Node(_never, 3, 1)
    group = ctx.group(spec["FieldToMatch"], extract, steps, latin1=False)
    return Node(_hit(group, group.add(pattern)), _component_wcu(3, spec), _field_cost(kind))


@statement("RegexPatternSetReferenceStatement")
def _regex_set(spec: dict[str, Any], ctx: Compiler, path: str) -> Node:
    kind, extract, steps = _component(spec, ctx, path)
    patterns = ctx.regex_set(spec["ARN"], f"{path}.ARN")
    group = ctx.group(spec["FieldToMatch"], extract, steps, latin1=False)
    pids = set()
    for n, pattern in enumerate(patterns):
        why = check_regex(pattern)
        if why is not None:
            ctx.problem(f"{path}: pattern {n} of {spec['ARN']} is not supported: {why}")
        else:
            pids.add(group.add(pattern))
    wcu = _component_wcu(25, spec)
    return Node(_any_hit(group, frozenset(pids)), wcu, _field_cost(kind))


ValueTest = Callable[[Inspection, bytes], bool]


def _values_matcher(chain: Chain, test: ValueTest) -> Matcher:
    values_of = chain.values

    def match(insp: Inspection) -> bool:
        values = values_of(insp)
        if isinstance(values, bool):
            return values
        return any(test(insp, v) for v in values)

    return match


def _libinjection_sqli(insp: Inspection, value: bytes) -> bool:
    """libinjection's verdict on a value, once per request: a LOW and a HIGH SqliMatch over the
    same component usually see the same bytes (REPLACE_COMMENTS changes nothing without a
    comment)."""
    key = ("sqli", value)
    found = insp.cache.get(key)
    if found is None:
        found = insp.cache[key] = injection.libinjection_sqli(value)
    return found  # type: ignore[no-any-return]


def _sqli_high(insp: Inspection, value: bytes) -> bool:
    return _libinjection_sqli(insp, value) or injection.high_patterns(value)


@statement("SqliMatchStatement")
def _sqli(spec: dict[str, Any], ctx: Compiler, path: str) -> Node:
    _, extract, steps = _component(spec, ctx, path)
    high = spec.get("SensitivityLevel") == "HIGH"
    test = _sqli_high if high else _libinjection_sqli
    return Node(
        _values_matcher(ctx.chain(extract, steps), test),
        _component_wcu(30 if high else 20, spec),
        100,
    )


@statement("XssMatchStatement")
def _xss(spec: dict[str, Any], ctx: Compiler, path: str) -> Node:
    _, extract, steps = _component(spec, ctx, path)
    test: ValueTest = lambda _, v: injection.is_xss(v)  # noqa: E731
    return Node(_values_matcher(ctx.chain(extract, steps), test), _component_wcu(40, spec), 100)


_COMPARE: dict[str, Callable[[int, int], bool]] = {
    "EQ": int.__eq__, "NE": int.__ne__, "LE": int.__le__,
    "LT": int.__lt__, "GE": int.__ge__, "GT": int.__gt__,
}  # fmt: skip


@statement("SizeConstraintStatement")
def _size(spec: dict[str, Any], ctx: Compiler, path: str) -> Node:
    kind, extract, steps = _component(spec, ctx, path)
    compare, size = _COMPARE[spec["ComparisonOperator"]], int(spec["Size"])
    test: ValueTest = lambda _, v: compare(len(v), size)  # noqa: E731
    return Node(
        _values_matcher(ctx.chain(extract, steps), test), _component_wcu(1, spec), _field_cost(kind)
    )


# -- origin statements ----------------------------------------------------------------------


def _forwarded(config: dict[str, Any] | None, position: str = "FIRST") -> Callable[..., Any]:
    """The address(es) a statement looks at: the client's, or those in a forwarded-IP header.
    Returns a function giving a list of addresses, or a bool when the fallback decides."""
    if not config:
        return lambda insp: [ip] if (ip := insp.client_ip()) is not None else False
    header = str(config["HeaderName"])
    fallback = config["FallbackBehavior"] == "MATCH"
    position = str(config.get("Position") or position)

    def addresses(insp: Inspection) -> list[Any] | bool:
        values = insp.header_values(header)
        if not values:
            return False  # AWS does not apply the rule when the header is absent
        parts = [p.strip() for p in values[0].split(b",")]
        chosen = {"FIRST": parts[:1], "LAST": parts[-1:], "ANY": parts}[position]
        ips = [parse_ip(p) for p in chosen]
        if not ips or any(ip is None for ip in ips):
            return fallback
        return ips

    return addresses


class _Ranges:
    """CIDR blocks as sorted, merged integer ranges: a lookup is one bisect."""

    def __init__(self, networks: list[Any]) -> None:
        spans = sorted((int(n.network_address), int(n.broadcast_address)) for n in networks)
        merged: list[list[int]] = []
        for lo, hi in spans:
            if merged and lo <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        self.starts = [lo for lo, _ in merged]
        self.ends = [hi for _, hi in merged]

    def __contains__(self, value: int) -> bool:
        i = bisect.bisect_right(self.starts, value) - 1
        return i >= 0 and value <= self.ends[i]


@statement("IPSetReferenceStatement")
def _ip_set(spec: dict[str, Any], ctx: Compiler, path: str) -> Node:
    networks = ctx.ip_set(spec["ARN"], f"{path}.ARN")
    v4 = _Ranges([n for n in networks if n.version == 4])
    v6 = _Ranges([n for n in networks if n.version == 6])
    config = spec.get("IPSetForwardedIPConfig")
    addresses = _forwarded(config)

    def match(insp: Inspection) -> bool:
        ips = addresses(insp)
        if isinstance(ips, bool):
            return ips
        return any(int(ip) in (v4 if ip.version == 4 else v6) for ip in ips)

    any_position = config is not None and config.get("Position") == "ANY"
    return Node(match, 5 if any_position else 1, 1)


@statement("GeoMatchStatement")
def _geo(spec: dict[str, Any], ctx: Compiler, path: str) -> Node:
    codes = set(spec.get("CountryCodes") or ())
    if not codes:
        ctx.problem(f"{path}.CountryCodes: at least one country code")
    lookup = ctx.geo(f"{path}")
    addresses = _forwarded(spec.get("ForwardedIPConfig"))

    def match(insp: Inspection) -> bool:
        ips = addresses(insp)
        if isinstance(ips, bool):
            return ips
        for ip in ips:
            country, region = lookup.country(ip)
            if country:
                insp.labels_add(f"awswaf:clientip:geolocation:country:{country}")
                if region:
                    insp.labels_add(f"awswaf:clientip:geolocation:region:{country}-{region}")
                if country in codes:
                    return True
        return False

    return Node(match, 1, 2)


@statement("AsnMatchStatement")
def _asn(spec: dict[str, Any], ctx: Compiler, path: str) -> Node:
    wanted = {int(a) for a in spec["AsnList"]}
    lookup = ctx.asn(path)
    addresses = _forwarded(spec.get("ForwardedIPConfig"))

    def match(insp: Inspection) -> bool:
        ips = addresses(insp)
        if isinstance(ips, bool):
            return ips
        return any(lookup.asn(ip) in wanted for ip in ips)

    return Node(match, 1, 2)


@statement("LabelMatchStatement")
def _label(spec: dict[str, Any], ctx: Compiler, path: str) -> Node:
    key = str(spec["Key"])
    if spec["Scope"] == "LABEL":
        # A full name, or the trailing part of one (a label named without its namespace).
        suffix = ":" + key

        def match(insp: Inspection) -> bool:
            return any(label == key or label.endswith(suffix) for label in insp.labels)
    else:
        prefix = key if key.endswith(":") else key + ":"
        inner = ":" + prefix

        def match(insp: Inspection) -> bool:
            return any(label.startswith(prefix) or inner in label for label in insp.labels)

    return Node(match, 1, 1)


# -- logical statements ---------------------------------------------------------------------


def _members(spec: dict[str, Any], ctx: Compiler, path: str) -> list[Node]:
    items = spec["Statements"]
    if len(items) < 2:
        ctx.problem(f"{path}.Statements: needs at least 2 statements")
    nodes = [ctx.nested(s, f"{path}.Statements[{i}]") for i, s in enumerate(items)]
    return sorted(nodes, key=lambda n: n.cost)  # cheap first: most requests stop early


@statement("AndStatement")
def _and(spec: dict[str, Any], ctx: Compiler, path: str) -> Node:
    nodes = _members(spec, ctx, path)
    matchers = tuple(n.match for n in nodes)

    def match(insp: Inspection) -> bool:
        # a plain loop: cheaper per call than all()/any() over a generator (SIM110)
        for member in matchers:  # noqa: SIM110
            if not member(insp):
                return False
        return True

    return Node(
        match,
        sum(n.wcu for n in nodes),
        sum(n.cost for n in nodes),
    )


@statement("OrStatement")
def _or(spec: dict[str, Any], ctx: Compiler, path: str) -> Node:
    nodes = _members(spec, ctx, path)
    matchers = tuple(n.match for n in nodes)

    def match(insp: Inspection) -> bool:
        for member in matchers:  # noqa: SIM110
            if member(insp):
                return True
        return False

    return Node(
        match,
        sum(n.wcu for n in nodes),
        sum(n.cost for n in nodes),
    )


@statement("NotStatement")
def _not(spec: dict[str, Any], ctx: Compiler, path: str) -> Node:
    inner = ctx.nested(spec["Statement"], f"{path}.Statement")
    return Node(lambda insp: not inner.match(insp), inner.wcu, inner.cost)


def decode_search_string(raw: str, encoding: str) -> bytes | None:
    """SearchString as bytes: the API's JSON carries the blob base64-encoded; Terraform-style
    files carry the text itself."""
    if encoding == "text":
        return raw.encode("utf-8")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return None
