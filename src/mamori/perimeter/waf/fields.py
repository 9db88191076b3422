"""Request components (`FieldToMatch`): one registered extractor per component type.

An extractor returns the values to inspect (a statement matches when any of them does), or
True / False when AWS's oversize or fallback handling decides the match without inspection.
Limits follow AWS's for regional resources: the first 8 KB / 200 headers and cookies, and the
Web ACL's body inspection size (16 KB unless its AssociationConfig says otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from mamori.perimeter.waf.request import Inspection, as_bytes

Values = list[bytes] | bool
Extractor = Callable[[Inspection], Values]
FIELDS: dict[str, Callable[[dict[str, Any]], Extractor]] = {}
UNSUPPORTED = ("JA3Fingerprint", "JA4Fingerprint")  # no TLS handshake is seen in-process

MAP_LIMIT_BYTES = 8 * 1024
MAP_LIMIT_COUNT = 200


def field_type(name: str) -> Callable[[Callable[[dict[str, Any]], Extractor]], Any]:
    def add(factory: Callable[[dict[str, Any]], Extractor]) -> Any:
        FIELDS[name] = factory
        return factory

    return add


def compile_field(spec: dict[str, Any]) -> tuple[str, Extractor]:
    """The one component a FieldToMatch names (validated before), and its extractor."""
    ((kind, options),) = spec.items()
    return kind, FIELDS[kind](options or {})


def field_key(spec: dict[str, Any]) -> bytes:
    """A stable identity of a FieldToMatch, for sharing transformed values between rules."""
    return orjson.dumps(spec, option=orjson.OPT_SORT_KEYS)


@field_type("UriPath")
def _uri_path(_: dict[str, Any]) -> Extractor:
    return lambda insp: [insp.path]


@field_type("QueryString")
def _query_string(_: dict[str, Any]) -> Extractor:
    return lambda insp: [insp.query]


@field_type("Method")
def _method(_: dict[str, Any]) -> Extractor:
    return lambda insp: [as_bytes(insp.request.method)]


@field_type("SingleQueryArgument")
def _single_arg(options: dict[str, Any]) -> Extractor:
    name = as_bytes(options["Name"]).lower()  # AWS matches argument names case-insensitively
    return lambda insp: [v for k, v in insp.args if k.lower() == name]


@field_type("AllQueryArguments")
def _all_args(_: dict[str, Any]) -> Extractor:
    return lambda insp: [v for _, v in insp.args]


@field_type("SingleHeader")
def _single_header(options: dict[str, Any]) -> Extractor:
    name = str(options["Name"])
    return lambda insp: insp.header_values(name)[:1]


@field_type("UriFragment")
def _fragment(options: dict[str, Any]) -> Extractor:
    fallback = options.get("FallbackBehavior") == "MATCH"

    def extract(insp: Inspection) -> Values:
        found = insp.fragment
        return [found] if found is not None else fallback

    return extract


def _oversize(options: dict[str, Any]) -> str:
    return str(options.get("OversizeHandling") or "CONTINUE")


@field_type("Body")
def _body(options: dict[str, Any]) -> Extractor:
    handling = _oversize(options)

    def extract(insp: Inspection) -> Values:
        if insp.body_oversize and handling != "CONTINUE":
            return handling == "MATCH"
        return [insp.body]

    return extract


def _pairs_in_scope(pairs: list[tuple[bytes, bytes]], scope: str) -> list[bytes]:
    if scope == "KEY":
        return [k for k, _ in pairs]
    if scope == "VALUE":
        return [v for _, v in pairs]
    return [part for pair in pairs for part in pair]


def _map_field(
    options: dict[str, Any],
    pairs_of: Callable[[Inspection], list[tuple[bytes, bytes]]],
    included_key: str,
    excluded_key: str,
    fold_case: bool,
) -> Extractor:
    """Headers and Cookies: a match pattern over names, a scope, and AWS's oversize limits."""
    pattern = options.get("MatchPattern") or {}
    scope = str(options.get("MatchScope") or "ALL")
    handling = _oversize(options)

    def norm(name: bytes | str) -> bytes:
        raw = as_bytes(name) if isinstance(name, str) else name
        return raw.lower() if fold_case else raw

    included = {norm(n) for n in pattern.get(included_key) or ()} or None
    excluded = {norm(n) for n in pattern.get(excluded_key) or ()}

    def extract(insp: Inspection) -> Values:
        pairs = pairs_of(insp)
        size = sum(len(k) + len(v) for k, v in pairs)
        if size > MAP_LIMIT_BYTES or len(pairs) > MAP_LIMIT_COUNT:
            if handling != "CONTINUE":
                return handling == "MATCH"
            pairs = _within_limits(pairs)
        chosen = [
            (k, v)
            for k, v in pairs
            if (included is None or norm(k) in included) and norm(k) not in excluded
        ]
        return _pairs_in_scope(chosen, scope)

    return extract


def _within_limits(pairs: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    kept, size = [], 0
    for k, v in pairs[:MAP_LIMIT_COUNT]:
        size += len(k) + len(v)
        if size > MAP_LIMIT_BYTES:
            break
        kept.append((k, v))
    return kept


def _header_pairs(insp: Inspection) -> list[tuple[bytes, bytes]]:
    return [(as_bytes(k), as_bytes(v)) for k, v in insp.request.headers]


@field_type("Headers")
def _headers(options: dict[str, Any]) -> Extractor:
    return _map_field(options, _header_pairs, "IncludedHeaders", "ExcludedHeaders", True)


@field_type("Cookies")
def _cookies(options: dict[str, Any]) -> Extractor:
    return _map_field(options, lambda i: i.cookies, "IncludedCookies", "ExcludedCookies", False)


@field_type("HeaderOrder")
def _header_order(options: dict[str, Any]) -> Extractor:
    handling = _oversize(options)

    def extract(insp: Inspection) -> Values:
        names = [as_bytes(k) for k, _ in insp.request.headers]
        if len(names) > MAP_LIMIT_COUNT and handling != "CONTINUE":
            return handling == "MATCH"
        return [b":".join(names[:MAP_LIMIT_COUNT])]

    return extract


@field_type("JsonBody")
def _json_body(options: dict[str, Any]) -> Extractor:
    pattern = options.get("MatchPattern") or {}
    paths = [_pointer(p) for p in pattern.get("IncludedPaths") or ()]
    scope = str(options.get("MatchScope") or "ALL")
    fallback = options.get("InvalidFallbackBehavior")
    handling = _oversize(options)

    def extract(insp: Inspection) -> Values:
        if insp.body_oversize and handling != "CONTINUE":
            return handling == "MATCH"
        valid, doc = insp.json_body()
        if not valid:
            if fallback in ("MATCH", "NO_MATCH"):
                return fallback == "MATCH"
            # EVALUATE_AS_STRING, and (deliberately stricter than AWS's partial parse) no
            # fallback at all: the raw body is inspected.
            return [insp.body]
        roots = [doc] if not paths else [n for p in paths for n in _resolve(doc, p)]
        keys: list[bytes] = []
        values: list[bytes] = []
        for root in roots:
            _walk(root, keys, values)
        if scope == "KEY":
            return keys
        return values if scope == "VALUE" else keys + values

    return extract


def _pointer(text: str) -> list[str]:
    """RFC 6901 JSON Pointer ("/a/0/b", "" for the whole document) as reference tokens."""
    if not text:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in text.split("/")[1:]]


def _resolve(doc: Any, tokens: list[str]) -> list[Any]:
    node = doc
    for token in tokens:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return []
    return [node]


def _walk(node: Any, keys: list[bytes], values: list[bytes]) -> None:
    """Every object key under `node` into `keys`, every scalar into `values` (iteratively:
    a hostile body may nest deeper than Python's recursion limit)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            keys.extend(as_bytes(str(k)) for k in item)
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
        else:
            values.append(_scalar(item))


def _scalar(value: Any) -> bytes:
    if isinstance(value, str):
        return as_bytes(value)
    if value is None:
        return b"null"
    if isinstance(value, bool):
        return b"true" if value else b"false"
    return as_bytes(str(value))
