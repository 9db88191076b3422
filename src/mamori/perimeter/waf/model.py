"""Reading wafv2 documents: Web ACLs, rule groups, IP sets and regex pattern sets.

Each file may hold what the CLI's `get-...` call prints (`{"WebACL": {...}, "LockToken": ...}`)
or the bare object. Every document is checked against the API's shapes (schema.py) before it is
compiled; what the shapes cannot say (one statement type per statement, unique priorities,
references that resolve, RE2-compatible regexes...) is checked by the compiler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from mamori.core import InputError
from mamori.perimeter.waf.compiler import (
    Compiler,
    Resources,
    WebAcl,
    compile_rule_group,
    compile_web_acl,
)
from mamori.perimeter.waf.schema import DOCUMENTS, check_shape

# A bare object is recognised by a member only its own shape has.
_MARKERS = {
    "DefaultAction": "WebACL",
    "Addresses": "IPSet",
    "RegularExpressionList": "RegexPatternSet",
    "Capacity": "RuleGroup",
}
_MAX_FILE = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Document:
    kind: str  # WebACL, RuleGroup, IPSet, RegexPatternSet
    body: dict[str, Any]
    source: str


def parse_document(data: Any, source: str, expect: str | None = None) -> Document:
    """Recognise and shape-check one wafv2 document."""
    if not isinstance(data, dict):
        raise InputError(f"{source}: expected a JSON object, not {type(data).__name__}")
    wrapped = [k for k in DOCUMENTS if k in data]
    if len(wrapped) == 1 and isinstance(data[wrapped[0]], dict):
        kind, body = wrapped[0], data[wrapped[0]]
    else:
        kinds = {_MARKERS[k] for k in data if k in _MARKERS}
        if "WebACL" in kinds:
            kinds = {"WebACL"}  # a Web ACL reports its consumed Capacity too
        if len(kinds) != 1:
            raise InputError(
                f"{source}: not a wafv2 WebACL, RuleGroup, IPSet or RegexPatternSet "
                "(neither wrapped as get-web-acl prints it nor a bare object)"
            )
        kind, body = kinds.pop(), data
    if expect is not None and kind != expect:
        raise InputError(f"{source}: holds a {kind}, expected a {expect}")
    check_shape(kind, body, source)
    return Document(kind, body, source)


def read_document(path: Path | str, expect: str | None = None) -> Document:
    path = Path(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(_MAX_FILE + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(raw) > _MAX_FILE:
        raise InputError(f"{path}: larger than {_MAX_FILE // (1024 * 1024)} MiB")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON: {exc}") from None
    return parse_document(data, str(path), expect)


def collect_resources(
    documents: Iterable[Document], geo_db: str | None = None, asn_db: str | None = None
) -> Resources:
    """Index rule groups, IP sets and regex pattern sets by ARN, as statements refer to them."""
    resources = Resources(geo_db=geo_db, asn_db=asn_db)
    targets = {
        "RuleGroup": resources.rule_groups,
        "IPSet": resources.ip_sets,
        "RegexPatternSet": resources.regex_sets,
    }
    for doc in documents:
        if doc.kind not in targets:
            raise InputError(f"{doc.source}: a {doc.kind} cannot be a referenced resource")
        targets[doc.kind][str(doc.body["ARN"])] = doc.body
    return resources


def build_web_acl(
    doc: Document,
    resources: Resources | None = None,
    *,
    search_string_encoding: str = "base64",
    strict_resources: bool = True,
    clock: Callable[[], float] | None = None,
) -> WebAcl:
    """Compile a checked Web ACL document; `clock` drives rate-based counters (tests)."""
    if doc.kind != "WebACL":
        raise InputError(f"{doc.source}: holds a {doc.kind}, expected a WebACL")
    ctx = Compiler(
        resources or Resources(),
        source=doc.source,
        search_string_encoding=search_string_encoding,
        strict_resources=strict_resources,
        clock=clock,
    )
    return compile_web_acl(doc.body, ctx)


def load_web_acl(
    path: Path | str,
    *,
    resources: Iterable[Path | str] = (),
    geo_db: Path | str | None = None,
    asn_db: Path | str | None = None,
    search_string_encoding: str = "base64",
) -> WebAcl:
    """Read, check and compile a Web ACL file and the files of what it references."""
    docs = [read_document(p) for p in resources]
    res = collect_resources(docs, _opt(geo_db), _opt(asn_db))
    return build_web_acl(read_document(path), res, search_string_encoding=search_string_encoding)


def _opt(path: Path | str | None) -> str | None:
    return None if path is None else str(path)


@dataclass(frozen=True, slots=True)
class Report:
    """What `mamori waf validate` prints."""

    kind: str
    name: str
    capacity: int
    rules: int
    warnings: tuple[str, ...]


def validate(
    path: Path | str,
    *,
    resources: Iterable[Path | str] = (),
    search_string_encoding: str = "base64",
) -> Report:
    """Check a Web ACL or rule group like the API does; references that were not supplied and
    missing MMDB files are warnings here, not errors."""
    doc = read_document(path)
    res = collect_resources(read_document(p) for p in resources)
    ctx = Compiler(
        res, source=doc.source, search_string_encoding=search_string_encoding,
        strict_resources=False,
    )  # fmt: skip
    if doc.kind == "WebACL":
        acl = compile_web_acl(doc.body, ctx)
        capacity, warnings = acl.capacity, acl.warnings
    elif doc.kind == "RuleGroup":
        capacity, warnings = compile_rule_group(doc.body, ctx)
    else:
        capacity, warnings = 0, []
    rules = len(doc.body.get("Rules") or ())
    return Report(doc.kind, str(doc.body.get("Name", "")), capacity, rules, tuple(warnings))
