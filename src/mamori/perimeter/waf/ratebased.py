"""RateBasedStatement with an in-process counter (one per rule, per process).

A request that passes the scope-down statement is counted under its aggregation key; the rule
matches while that key's count over the evaluation window exceeds the limit. Counts are kept in
one-second buckets, so memory per key is bounded by the window, not by the limit. A request
without a value for a key (a missing header, no forwarded address) is neither counted nor
limited, as AWS documents.

Each rule's counter sits in a `RateBinding` listed in the compiled Web ACL's hooks, so a runtime
can swap it for a shared one after compilation (`bind_counters`; Redis: `ratestore`).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from mamori.perimeter.waf.request import Inspection, as_bytes
from mamori.perimeter.waf.statements import Node, _forwarded, statement
from mamori.perimeter.waf.transforms import apply, chain

if TYPE_CHECKING:
    from mamori.perimeter.waf.compiler import Compiler

KeyPart = Callable[[Inspection], bytes | None]
_WINDOWS = (60, 120, 300, 600)
_MAX_KEYS = 100_000  # past this many live keys the oldest are dropped
RATE_RULES = "rate_rules"  # the hooks entry listing the Web ACL's RateBindings


class RateCounter(Protocol):
    def add(self, key: tuple[bytes, ...]) -> int:
        """Count one request for `key`; the key's count within the window, this one included."""
        ...


@dataclass(slots=True)
class RateBinding:
    """One rate-based statement's counter; `path` names the statement within its Web ACL."""

    path: str
    window: int
    counter: RateCounter


CounterFactory = Callable[[str, int], RateCounter]  # (statement path, window) -> counter


def bind_counters(hooks: dict[str, Any], make: CounterFactory) -> int:
    """Give every rate-based statement of a compiled Web ACL (its `hooks`) a counter from
    `make`; the number of statements rebound."""
    bindings: list[RateBinding] = hooks.get(RATE_RULES, [])
    for binding in bindings:
        binding.counter = make(binding.path, binding.window)
    return len(bindings)


class Counter:
    def __init__(self, window: int, clock: Callable[[], float]) -> None:
        self.window = window
        self.clock = clock
        self.keys: dict[Any, deque[list[int]]] = {}

    def add(self, key: Hashable) -> int:
        """Count one request for `key`; the key's count within the window, this one included."""
        now = int(self.clock())
        buckets = self.keys.get(key)
        if buckets is None:
            if len(self.keys) >= _MAX_KEYS:
                self.keys.pop(next(iter(self.keys)))
            buckets = self.keys[key] = deque()
        while buckets and buckets[0][0] <= now - self.window:
            buckets.popleft()
        if buckets and buckets[-1][0] == now:
            buckets[-1][1] += 1
        else:
            buckets.append([now, 1])
        return sum(b[1] for b in buckets)


def _text_key(getter: Callable[[Inspection], list[bytes]], spec: dict[str, Any]) -> KeyPart:
    steps = chain(spec.get("TextTransformations") or [])

    def part(insp: Inspection) -> bytes | None:
        values = getter(insp)
        return apply(steps, values[0]) if values else None

    return part


def _ip_key(forwarded: dict[str, Any] | None) -> KeyPart:
    addresses = _forwarded(forwarded)

    def part(insp: Inspection) -> bytes | None:
        ips = addresses(insp)
        return None if isinstance(ips, bool) else as_bytes(str(ips[0]))

    return part


def _custom_key(item: dict[str, Any], rate: dict[str, Any], ctx: Compiler, path: str) -> KeyPart:
    ((kind, spec),) = ((k, v) for k, v in item.items() if v is not None)
    spec = spec or {}
    if kind == "Header":
        name = str(spec["Name"])
        return _text_key(lambda i: i.header_values(name), spec)
    if kind == "Cookie":
        cookie = as_bytes(str(spec["Name"]))
        return _text_key(lambda i: [v for k, v in i.cookies if k == cookie], spec)
    if kind == "QueryArgument":
        arg = as_bytes(str(spec["Name"])).lower()
        return _text_key(lambda i: [v for k, v in i.args if k.lower() == arg], spec)
    if kind == "QueryString":
        return _text_key(lambda i: [i.query] if i.query else [], spec)
    if kind == "UriPath":
        return _text_key(lambda i: [i.path], spec)
    if kind == "HTTPMethod":
        return lambda i: as_bytes(i.request.method)
    if kind == "IP":
        return _ip_key(None)
    if kind == "ForwardedIP":
        return _ip_key(rate.get("ForwardedIPConfig"))
    if kind == "LabelNamespace":
        namespace = str(spec["Namespace"])
        return lambda i: as_bytes(",".join(x for x in i.labels if x.startswith(namespace))) or None
    if kind == "ASN":
        lookup = ctx.asn(path)
        return lambda i: (
            None if (ip := i.client_ip()) is None else as_bytes(str(lookup.asn(ip) or 0))
        )
    ctx.warn(f"{path}.{kind}: TLS fingerprints are not seen in-process; key never present")
    return lambda _: None


@statement("RateBasedStatement")
def _rate_based(spec: dict[str, Any], ctx: Compiler, path: str) -> Node:
    window = int(spec.get("EvaluationWindowSec") or 300)
    if window not in _WINDOWS:
        ctx.problem(f"{path}.EvaluationWindowSec: one of 60, 120, 300 or 600")
    limit = int(spec["Limit"])
    aggregate = spec["AggregateKeyType"]
    customs = spec.get("CustomKeys") or []
    if aggregate == "CUSTOM_KEYS" and not customs:
        ctx.problem(f"{path}.CustomKeys: CUSTOM_KEYS needs at least one key")
    if aggregate != "CUSTOM_KEYS" and customs:
        ctx.problem(f"{path}.CustomKeys: only with AggregateKeyType CUSTOM_KEYS")
    if aggregate == "FORWARDED_IP" and not spec.get("ForwardedIPConfig"):
        ctx.problem(f"{path}.ForwardedIPConfig: FORWARDED_IP needs it")
    parts: list[KeyPart]
    if aggregate == "IP":
        parts = [_ip_key(None)]
    elif aggregate == "FORWARDED_IP":
        parts = [_ip_key(spec.get("ForwardedIPConfig"))]
    elif aggregate == "CONSTANT":
        parts = [lambda _: b""]
    else:
        parts = [
            _custom_key(k, spec, ctx, f"{path}.CustomKeys[{i}]") for i, k in enumerate(customs)
        ]
    scope = spec.get("ScopeDownStatement")
    scope_node = ctx.nested(scope, f"{path}.ScopeDownStatement") if scope else None
    binding = RateBinding(path, window, Counter(window, ctx.hooks.get("clock", time.monotonic)))
    ctx.hooks.setdefault(RATE_RULES, []).append(binding)

    def match(insp: Inspection) -> bool:
        if scope_node is not None and not scope_node.match(insp):
            return False
        key = tuple(part(insp) for part in parts)
        if any(value is None for value in key):
            return False
        return binding.counter.add(cast(tuple[bytes, ...], key)) > limit

    steps = sum(
        1
        for key in customs
        for options in key.values()
        for step in (options or {}).get("TextTransformations") or ()
        if step["Type"] != "NONE"
    )
    wcu = 2 + 30 * len(customs) + 10 * steps + (scope_node.wcu if scope_node else 0)
    return Node(match, wcu, 5)
