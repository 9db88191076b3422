"""Threat intelligence and trusted lists, loaded from the formats GuardDuty accepts.

Threat lists: plain text (one IP, CIDR or domain a line, `#` comments; AlienVault reputation lines
`ip#reliability#risk#activity#...` are recognised), STIX 2.0/2.1 JSON (indicators whose pattern
names `ipv4-addr`, `ipv6-addr`, `domain-name` or `url` values), Open Threat Exchange CSV exports
(`Indicator type`, `Indicator`, `Description`) and a Tor exit list (plain IPs, or the
`ExitAddress` lines of Tor's exit-addresses file). Trusted lists: plain text of IPs and CIDRs.

A list's name is its file name; its threat is what the content says where it says one (STIX
indicator types or labels, AlienVault activities), else the file name without its suffixes.
A malformed entry is reported in `IntelSet.errors` as `file:line: reason` and skipped; a file that
cannot be read or parsed is reported by name; everything else is loaded.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import stix2
from stix2.pattern_visitor import create_pattern_object
from stix2.patterns import (
    EqualityComparisonExpression,
    InComparisonExpression,
    IsSubsetComparisonExpression,
    ListConstant,
    StringConstant,
)

from mamori.detect import schema
from mamori.detect.enrichment import ENRICHMENT_SCHEMA, Enrichment
from mamori.detect.netaddr import (
    ip_to_int,
    ipv4_range,
    network_range,
    network_text,
    normalize_domain,
    parse_network,
)

__all__ = [
    "BUILTIN_LIST",
    "ENRICHMENT_SCHEMA",
    "INTEL_IP_TABLE",
    "TRUSTED_IP_TABLE",
    "Enrichment",
    "IntelSet",
    "ip_to_int",
    "load_intel",
    "network_range",
]

_RANGE_FIELDS = [pa.field("net_lo", pa.int64()), pa.field("net_hi", pa.int64())]
INTEL_IP_TABLE = pa.schema([*schema.INTEL_IP, *_RANGE_FIELDS])
TRUSTED_IP_TABLE = pa.schema([*schema.TRUSTED_IP, *_RANGE_FIELDS])

BUILTIN_LIST = "guardduty-tester-canaries"
BUILTIN_THREAT = "guardduty-test"
# Test domains that GuardDuty's own threat intelligence flags, which AWS's GuardDuty tester and
# finding-type documentation query to raise DNS findings. Matching them lets a user check the
# pipeline end to end with `dig` and no list of their own.
_GUARDDUTY_CANARY_DOMAINS = (
    "guarddutyc2activityb.com",
    "c2.guarddutyc2activityb.com",
    "crypto.guarddutyc2activityb.com",
    "abused-rep.guarddutyc2activityb.com",
    "crypto-rep.guarddutyc2activityb.com",
    "malicious-rep.guarddutyc2activityb.com",
    "suspicious-rep.guarddutyc2activityb.com",
    "guarddutydroppointactivity.com",
    "guarddutyblackholeactivity.com",
    "guarddutyphishingactivity.com",
    "guarddutydrivebyactivity.com",
    "guarddutydgaactivity.com",
)

TOR_THREAT = "tor-exit-node"
MAX_ERRORS_PER_FILE = 100
_OTX_COLUMNS = ("indicator type", "indicator")
_OTX_IP_TYPES = {"ipv4", "ipv6", "cidr"}
_OTX_DOMAIN_TYPES = {"domain", "hostname"}
_OTX_URL_TYPES = {"url", "uri"}


@dataclass
class IntelSet:
    """The tables the engine registers beside the logs, and what could not be loaded."""

    ips: pa.Table
    domains: pa.Table
    trusted: pa.Table
    errors: list[str] = field(default_factory=list)


class _Errors:
    """Collects `file:line: reason` messages, at most MAX_ERRORS_PER_FILE per file, so that a
    binary or wrong-format file cannot flood the report."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self._per_file: dict[str, int] = {}

    def add(self, where: str, line: int | str | None, reason: str) -> None:
        count = self._per_file.get(where, 0) + 1
        self._per_file[where] = count
        if count <= MAX_ERRORS_PER_FILE:
            self.messages.append(f"{where}:{line}: {reason}" if line else f"{where}: {reason}")

    def finish(self) -> list[str]:
        for where, count in self._per_file.items():
            if count > MAX_ERRORS_PER_FILE:
                self.messages.append(
                    f"{where}: {count - MAX_ERRORS_PER_FILE} more errors not shown"
                )
        return self.messages


class _Rows:
    """Rows of one output table, deduplicated so that repeated entries do not multiply joins."""

    def __init__(self, schema_: pa.Schema) -> None:
        self.schema = schema_
        self._seen: dict[tuple[str, ...], None] = {}

    def add(self, *key: str) -> None:
        self._seen.setdefault(key, None)

    def __len__(self) -> int:
        return len(self._seen)

    def table(self) -> pa.Table:
        width = len(self.schema) - (2 if "net_lo" in self.schema.names else 0)
        columns: list[list[Any]] = [list(col) for col in zip(*self._seen, strict=True)]
        columns = columns or [[] for _ in range(width)]
        if width < len(self.schema):
            ranges = [_range_of(net) for net in columns[0]]
            columns += [[lo for lo, _ in ranges], [hi for _, hi in ranges]]
        return pa.table(columns, schema=self.schema)


def _range_of(network: str) -> tuple[int | None, int | None]:
    net = parse_network(network)
    return (None, None) if net is None else ipv4_range(net)


class _Sink:
    """Where the loaders put what they find: one threat list at a time."""

    def __init__(self, ips: _Rows, domains: _Rows, errors: _Errors, where: str) -> None:
        self.ips = ips
        self.domains = domains
        self.errors = errors
        self.where = where
        self.list_name = Path(where).name
        self.default_threat = _threat_from_name(self.list_name)

    def error(self, line: int | str | None, reason: str) -> None:
        self.errors.add(self.where, line, reason)

    def ip(self, text: str, threat: str | None = None) -> bool:
        """Record `text` if it is an IP address or CIDR; False (nothing recorded) if not."""
        net = parse_network(text)
        if net is None:
            return False
        self.ips.add(network_text(net), self.list_name, threat or self.default_threat)
        return True

    def domain(self, text: str, threat: str | None = None) -> bool:
        name = normalize_domain(text)
        if name is None:
            return False
        self.domains.add(name, self.list_name, threat or self.default_threat)
        return True

    def ip_or_domain(self, text: str, line: int | str | None, threat: str | None = None) -> None:
        if not (self.ip(text, threat) or self.domain(text, threat)):
            self.error(line, f"not an IP address, CIDR or domain name: {_clip(text)}")

    def url(self, text: str, line: int | str | None, threat: str | None = None) -> None:
        host = _url_host(text)
        if host is None or not (self.ip(host, threat) or self.domain(host, threat)):
            self.error(line, f"URL without a usable host: {_clip(text)}")


def _threat_from_name(list_name: str) -> str:
    stem = list_name
    for suffix in (".gz", ".txt", ".csv", ".json", ".stix", ".list"):
        stem = stem.removesuffix(suffix)
    return stem or list_name


def _clip(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _url_host(url: str) -> str | None:
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    return host or None


def _read_text(path: Path, errors: _Errors) -> str | None:
    """The file as text (gzip undone, BOM dropped), or None after reporting why it cannot be."""
    try:
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
        return data.decode("utf-8-sig")
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        errors.add(str(path), None, f"cannot read: {exc}")
    except UnicodeDecodeError as exc:
        errors.add(str(path), None, f"not UTF-8 text (byte {exc.start})")
    return None


def _entry(line: str) -> str:
    """The entry of a list line: text before a `#` or `;` comment, stripped."""
    for mark in ("#", ";"):
        cut = line.find(mark)
        if cut >= 0:
            line = line[:cut]
    return line.strip()


def _alienvault(line: str) -> tuple[str, str] | None:
    """(ip, activities) of an AlienVault reputation line `ip#rel#risk#activity#...`, else None."""
    fields = line.strip().split("#")
    if len(fields) < 4 or not (fields[1].strip().isdigit() and fields[2].strip().isdigit()):
        return None
    threat = ",".join(a.strip() for a in fields[3].split(";") if a.strip())
    return fields[0].strip(), threat


def _load_txt(text: str, sink: _Sink) -> None:
    for number, line in enumerate(text.splitlines(), 1):
        reputation = _alienvault(line)
        if reputation is not None:
            ip, threat = reputation
            if not sink.ip(ip, threat or None):
                sink.error(number, f"not an IP address: {_clip(ip)}")
            continue
        entry = _entry(line)
        if not entry:
            continue
        if len(entry.split()) > 1:
            sink.error(number, f"expected one entry a line: {_clip(entry)}")
            continue
        sink.ip_or_domain(entry, number)


def _load_tor(text: str, sink: _Sink) -> None:
    for number, line in enumerate(text.splitlines(), 1):
        words = _entry(line).split()
        if not words:
            continue
        if words[0] == "ExitAddress" and len(words) > 1:
            candidate = words[1]
        elif words[0] in {"ExitNode", "Published", "LastStatus"}:
            continue  # the other lines of a node's record in Tor's exit-addresses file
        elif len(words) == 1:
            candidate = words[0]
        else:
            sink.error(number, f"not a Tor exit list line: {_clip(line.strip())}")
            continue
        if not sink.ip(candidate, TOR_THREAT):
            sink.error(number, f"not an IP address: {_clip(candidate)}")


def _load_otx_csv(text: str, sink: _Sink) -> None:
    reader = csv.reader(io.StringIO(text, newline=""))
    columns: dict[str, int] | None = None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            sink.error(reader.line_num, f"bad CSV: {exc}")
            continue
        if not any(cell.strip() for cell in row):
            continue
        if columns is None:
            columns = {name.strip().lower(): i for i, name in enumerate(row)}
            missing = [name for name in _OTX_COLUMNS if name not in columns]
            if missing:
                sink.error(reader.line_num, f"not an OTX CSV header, missing {', '.join(missing)}")
                return
            continue
        _otx_row(row, columns, reader.line_num, sink)


def _otx_row(row: list[str], columns: dict[str, int], line: int, sink: _Sink) -> None:
    type_at, value_at = columns["indicator type"], columns["indicator"]
    if max(type_at, value_at) >= len(row):
        sink.error(line, f"expected {len(columns)} columns, found {len(row)}")
        return
    kind, value = row[type_at].strip().lower(), row[value_at].strip()
    if kind in _OTX_IP_TYPES:
        if not sink.ip(value):
            sink.error(line, f"not an IP address or CIDR: {_clip(value)}")
    elif kind in _OTX_DOMAIN_TYPES:
        if not sink.domain(value):
            sink.error(line, f"not a domain name: {_clip(value)}")
    elif kind in _OTX_URL_TYPES:
        sink.url(value, line)
    # Hashes, e-mail addresses, mutexes, CVEs...: nothing in the network logs to match them.


_STIX_KINDS = {"ipv4-addr", "ipv6-addr", "domain-name", "url"}
_STIX_COMPARISONS = (
    EqualityComparisonExpression,
    InComparisonExpression,
    IsSubsetComparisonExpression,
)


def _load_stix(text: str, sink: _Sink) -> None:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        sink.error(exc.lineno, f"not JSON: {exc.msg}")
        return
    version: str | None = None
    if isinstance(doc, dict) and doc.get("type") == "bundle":
        # A 2.0 bundle states the version for its objects, which do not carry one themselves.
        version = "2.0" if doc.get("spec_version") == "2.0" else None
        objects = doc.get("objects") or []
    else:
        objects = doc if isinstance(doc, list) else [doc]
    if not isinstance(objects, list):
        sink.error(None, "a STIX bundle's objects must be a list")
        return
    for index, obj in enumerate(objects):
        if not isinstance(obj, dict):
            sink.error(f"objects[{index}]", "not a STIX object")
        elif obj.get("type") == "indicator":
            _stix_indicator(obj, f"objects[{index}]", version, sink)


def _stix_indicator(obj: dict[str, Any], where: str, version: str | None, sink: _Sink) -> None:
    where = str(obj.get("id") or where)[:100]
    try:
        indicator = stix2.parse(obj, allow_custom=True, version=version)
        if indicator.get("revoked") or indicator.get("pattern_type", "stix") != "stix":
            return
        pattern = create_pattern_object(
            indicator.pattern, version=indicator.get("spec_version", "2.0")
        )
    except Exception as exc:  # noqa: BLE001 - stix2 and its ANTLR parser raise many types on bad input
        sink.error(where, f"invalid STIX indicator: {_clip(str(exc), 200)}")
        return
    kinds = [*indicator.get("indicator_types", []), *indicator.get("labels", [])]
    threat = ",".join(dict.fromkeys(kinds)) or None
    # Patterns over hashes, e-mail addresses and the like are skipped: nothing in the network logs
    # to match them against.
    for kind, value in _pattern_values(pattern):
        if kind == "url":
            sink.url(value, where, threat)
        elif kind == "domain-name":
            if not sink.domain(value, threat):
                sink.error(where, f"not a domain name: {_clip(value)}")
        elif not sink.ip(value, threat):
            sink.error(where, f"not an IP address or CIDR: {_clip(value)}")


def _pattern_values(expr: object) -> Iterator[tuple[str, str]]:
    """(object type, value) of each positive `value` comparison that names an address, a domain
    or a URL, anywhere in the pattern. A value under AND or FOLLOWEDBY is taken on its own too:
    seeing it is already worth a look, and it keeps one simple pattern shape per indicator."""
    if isinstance(expr, _STIX_COMPARISONS):
        lhs = expr.lhs
        path = [part.property_name for part in lhs.property_path]
        if expr.negated or lhs.object_type_name not in _STIX_KINDS or path != ["value"]:
            return
        constants = expr.rhs.value if isinstance(expr.rhs, ListConstant) else [expr.rhs]
        for constant in constants:
            if isinstance(constant, StringConstant):
                yield lhs.object_type_name, constant.value
        return
    for attr in ("operands", "operand", "expression", "observation_expression"):
        child = getattr(expr, attr, None)
        for item in child if isinstance(child, list) else [child]:
            if item is not None:
                yield from _pattern_values(item)


def _is_stix(path: Path, text: str) -> bool:
    return path.name.removesuffix(".gz").endswith((".json", ".stix")) or text.lstrip().startswith(
        "{"
    )


def _is_otx_csv(path: Path, text: str) -> bool:
    if path.name.removesuffix(".gz").endswith(".csv"):
        return True
    first = text.lstrip().split("\n", 1)[0].lower()
    return all(name in first for name in _OTX_COLUMNS)


def _load_threat_file(path: Path, sink: _Sink, text: str) -> None:
    if _is_stix(path, text):
        _load_stix(text, sink)
    elif _is_otx_csv(path, text):
        _load_otx_csv(text, sink)
    else:
        _load_txt(text, sink)


def _load_trusted(text: str, where: str, rows: _Rows, errors: _Errors) -> None:
    name = Path(where).name
    for number, line in enumerate(text.splitlines(), 1):
        entry = _entry(line)
        if not entry:
            continue
        net = parse_network(entry)
        if net is None:
            errors.add(
                where, number, f"trusted lists hold IP addresses and CIDRs only: {_clip(entry)}"
            )
            continue
        rows.add(network_text(net), name)


def load_intel(
    threat_files: Sequence[Path],
    trusted_files: Iterable[Path] = (),
    *,
    tor_exit_list: Path | None = None,
    include_builtin: bool = True,
) -> IntelSet:
    """Load threat and trusted lists into the engine's tables; never raises for bad content."""
    errors = _Errors()
    ips, domains = _Rows(INTEL_IP_TABLE), _Rows(schema.INTEL_DOMAIN)
    trusted = _Rows(TRUSTED_IP_TABLE)
    if include_builtin:
        for name in _GUARDDUTY_CANARY_DOMAINS:
            domains.add(name, BUILTIN_LIST, BUILTIN_THREAT)
    for path in _paths(threat_files):
        text = _read_text(path, errors)
        if text is not None:
            _load_threat_file(path, _Sink(ips, domains, errors, str(path)), text)
    if tor_exit_list is not None:
        text = _read_text(tor_exit_list, errors)
        if text is not None:
            _load_tor(text, _Sink(ips, domains, errors, str(tor_exit_list)))
    for path in _paths(trusted_files):
        text = _read_text(path, errors)
        if text is not None:
            _load_trusted(text, str(path), trusted, errors)
    return IntelSet(ips.table(), domains.table(), trusted.table(), errors.finish())


def _paths(paths: Iterable[Path]) -> Iterator[Path]:
    # A CLI may hand over strings; a directory is expanded to the files directly inside it.
    for item in paths:
        path = Path(item)
        if path.is_dir():
            yield from sorted(p for p in path.iterdir() if p.is_file())
        else:
            yield path
