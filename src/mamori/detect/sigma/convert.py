"""Sigma rule files -> Mamori detection rules.

Each accepted Sigma rule becomes a `Rule` whose SQL is the rule's condition (converted by
`EventsBackend`) wrapped by `events_matched`/`finding_sql`, so its findings look like built-in
ones. Rules are returned, never registered: a run is given its list of rules explicitly.

Only `logsource: {product: aws, service: cloudtrail}` rules are accepted. Anything that cannot
be used (unreadable file, malformed YAML, unknown modifier, other log source, correlation rule,
a condition the backend cannot convert) is refused with a reason naming the file and the rule;
the other rules are still imported. YAML is read with safe loaders only, and nothing in a rule
is executed: values end up as quoted SQL literals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from mamori.core import InputError
from mamori.detect.rules.base import (
    EVENT_DETAIL,
    Rule,
    events_matched,
    finding_sql,
    sql_str,
)
from mamori.detect.sigma import meta

SUFFIXES = (".yml", ".yaml")
# Top-level fields of a CloudTrail record (AWS's "CloudTrail record contents").
CLOUDTRAIL_FIELDS = frozenset(
    {
        "eventTime",
        "eventVersion",
        "userIdentity",
        "eventSource",
        "eventName",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "errorCode",
        "errorMessage",
        "requestParameters",
        "responseElements",
        "additionalEventData",
        "requestID",
        "eventID",
        "eventType",
        "apiVersion",
        "managementEvent",
        "readOnly",
        "resources",
        "recipientAccountId",
        "serviceEventDetails",
        "sharedEventID",
        "vpcEndpointId",
        "vpcEndpointAccountId",
        "eventCategory",
        "addendum",
        "sessionCredentialFromConsole",
        "edgeDeviceDetails",
        "tlsDetails",
        "insightDetails",
    }
)
RESOURCE = "coalesce(e.resources[1], e.principal_arn, e.principal_name, e.account_id)"
_MAX_FILE = 1_000_000  # a Sigma rule is a few KB; a bigger file is not one
# Problems in descriptive metadata that do not change what a rule detects: the rule is still
# imported (pySigma leaves the field empty). Any other problem refuses the rule.
_METADATA_ERRORS = frozenset(
    f"Sigma{name}Error"
    for name in (
        "Author",
        "Date",
        "Description",
        "FalsePositives",
        "Fields",
        "License",
        "Modified",
        "Name",
        "References",
        "Related",
        "Scope",
        "Status",
        "Tag",
        "Taxonomy",
    )
)


@dataclass(frozen=True)
class Refused:
    file: str
    title: str | None
    sigma_id: str | None
    reason: str

    def message(self) -> str:
        who = f"rule {self.title!r}" if self.title else "rule"
        if self.sigma_id:
            who += f" ({self.sigma_id})"
        return f"{self.file}: {who}: {self.reason}"


@dataclass(frozen=True)
class Converted:
    file: str
    title: str
    sigma_id: str | None
    level: str
    where: str  # the converted condition (WHERE clause over `events e`)
    rule: Rule
    defaulted_attack: bool
    # Fields whose first part is not a CloudTrail record field (e.g. `status`, a SIEM's
    # normalised name): such a field is always missing, so conditions on it never match.
    unknown_fields: tuple[str, ...] = ()


@dataclass
class SigmaImport:
    converted: list[Converted] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)

    @property
    def rules(self) -> list[Rule]:
        return [c.rule for c in self.converted]

    def messages(self) -> list[str]:
        """Refused rules, and rules that can never match, for a run's error list."""
        notes = [f"sigma: {r.message()}" for r in self.refused]
        notes.extend(
            f"sigma: {c.file}: rule {c.title!r}: never matches: "
            f"{', '.join(c.unknown_fields)} is not a CloudTrail record field"
            for c in self.converted
            if c.unknown_fields
        )
        return notes


def sigma_files(paths: Iterable[Path | str]) -> list[Path]:
    """The rule files named: files as given, folders searched for *.yml/*.yaml (sorted)."""
    found: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(f"--sigma {str(item)!r}: no such file or folder")
    return found


def import_sigma(paths: Iterable[Path | str], taken: Iterable[str] = ()) -> SigmaImport:
    """Every Sigma rule in the files/folders given, converted or refused with a reason."""
    result = SigmaImport()
    names = set(taken)
    for path in sigma_files(paths):
        try:
            data = path.read_bytes()
        except OSError as exc:
            result.refused.append(Refused(str(path), None, None, f"cannot read: {exc}"))
            continue
        convert_text(data, str(path), result, names)
    return result


def convert_text(
    data: bytes | str, source: str, into: SigmaImport | None = None, taken: set[str] | None = None
) -> SigmaImport:
    """The Sigma rules of one file's content (one or more YAML documents)."""
    result = into if into is not None else SigmaImport()
    names = taken if taken is not None else set()
    collection, problem = _collection(data)
    if collection is None:
        title, sigma_id = _peek(data)
        result.refused.append(Refused(source, title, sigma_id, problem))
        return result
    if not collection.rules:
        result.refused.append(Refused(source, None, None, problem or "no Sigma rule in the file"))
    for rule in collection.rules:
        outcome = _convert_rule(rule, source, names)
        if isinstance(outcome, Refused):
            result.refused.append(outcome)
        else:
            result.converted.append(outcome)
    return result


def _text(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    return data.decode("utf-8")


def _collection(data: bytes | str) -> tuple[Any, str]:
    from sigma.collection import SigmaCollection

    if len(data) > _MAX_FILE:
        return None, f"larger than {_MAX_FILE} bytes: not a Sigma rule file"
    try:
        docs = list(yaml.safe_load_all(_text(data)))
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    except yaml.YAMLError as exc:
        return None, "malformed YAML: " + " ".join(str(exc).split())
    if not all(doc is None or isinstance(doc, dict) for doc in docs):
        return None, "not a Sigma rule: a YAML document is not a mapping"
    try:
        return SigmaCollection.from_dicts(docs, collect_errors=True), ""
    # pySigma raises assorted exception types (AttributeError, TypeError...) on documents that
    # are valid YAML but not Sigma-shaped; any of them means "not a Sigma rule", never a crash.
    except Exception as exc:  # noqa: BLE001
        return None, f"not a Sigma rule: {_reason(exc)}"


def _peek(data: bytes | str) -> tuple[str | None, str | None]:
    """Title and id of a file pySigma refused, for the message, if the YAML reads at all."""
    try:
        doc = next(iter(yaml.safe_load_all(_text(data))), None)
    except Exception:  # noqa: BLE001 - best effort only: the reason is reported either way
        return None, None
    if not isinstance(doc, dict):
        return None, None
    title, sigma_id = doc.get("title"), doc.get("id")
    return (
        str(title)[:200] if title is not None else None,
        str(sigma_id)[:80] if sigma_id is not None else None,
    )


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:500]


def _convert_rule(rule: Any, source: str, taken: set[str]) -> Converted | Refused:
    from sigma.rule import SigmaRule

    title = str(getattr(rule, "title", "") or "") or None
    sigma_id = str(rule.id) if getattr(rule, "id", None) else None

    def refuse(reason: str) -> Refused:
        return Refused(source, title, sigma_id, reason)

    if not isinstance(rule, SigmaRule):
        return refuse(f"{type(rule).__name__} (correlation or filter rules) is not supported")
    errors = [e for e in rule.errors if type(e).__name__ not in _METADATA_ERRORS]
    if errors:
        return refuse("; ".join(_reason(e) for e in errors[:3]))
    logsource = rule.logsource
    product = (logsource.product or "").lower()
    service = (logsource.service or "").lower()
    if (product, service) != ("aws", "cloudtrail"):
        shown = f"product: {logsource.product}, service: {logsource.service}"
        if logsource.category:
            shown += f", category: {logsource.category}"
        return refuse(f"logsource ({shown}) is not product: aws, service: cloudtrail")
    if not getattr(rule, "_output", True):
        return refuse("only a building block of a correlation rule, which lacks `generate: true`")
    unknown = unknown_fields(rule)
    try:
        where = _where(rule)
    except Exception as exc:  # noqa: BLE001 - pySigma's errors are of many types; see _collection
        return refuse(f"cannot convert: {_reason(exc)}")
    if not title:
        return refuse("the rule has no title")
    made = _make(rule, title, sigma_id, where, source, taken)
    return replace(made, unknown_fields=unknown) if isinstance(made, Converted) else made


def unknown_fields(rule: Any) -> tuple[str, ...]:
    """The rule's detection fields that no CloudTrail record has (see CLOUDTRAIL_FIELDS)."""
    found: set[str] = set()

    def walk(item: Any) -> None:
        for child in getattr(item, "detection_items", ()):
            walk(child)
        name = getattr(item, "field", None)
        if isinstance(name, str) and name.split(".")[0] not in CLOUDTRAIL_FIELDS:
            found.add(name)

    for detection in rule.detection.detections.values():
        walk(detection)
    return tuple(sorted(found))


def _where(rule: Any) -> str:
    from mamori.detect.sigma.backend import EventsBackend, where_conditions

    conditions = where_conditions(EventsBackend(), rule)
    if not conditions:
        raise ValueError("the rule has no condition")
    if len(conditions) == 1:
        return conditions[0]
    return " OR ".join(f"({c})" for c in conditions)


def _make(
    rule: Any, title: str, sigma_id: str | None, where: str, source: str, taken: set[str]
) -> Converted | Refused:
    level = rule.level.name.lower() if rule.level is not None else meta.DEFAULT_LEVEL
    tags = [(str(t.namespace), str(t.name)) for t in rule.tags]
    att = meta.attack(tags)
    file_name = Path(source).name
    described = " ".join(str(rule.description or "").split()) or title
    reference = f"Sigma rule {sigma_id or title!r} ({file_name})"
    raw_fps = rule.falsepositives or []
    # A text block instead of a list is a metadata slip some rules make: one entry, not letters.
    falsepositives = [
        " ".join(str(f).split()) for f in ([raw_fps] if isinstance(raw_fps, str) else raw_fps)
    ]
    falsepositives = [f for f in falsepositives if f]
    remediation = (
        "Investigate the matching CloudTrail records: who made the calls, from where, and "
        "whether they were expected."
    )
    if falsepositives:
        remediation += " Known false positives (see falsepositives): " + "; ".join(falsepositives)
    detail = {**EVENT_DETAIL, "sigma_id": sql_str(sigma_id or ""), "sigma_level": sql_str(level)}
    sql = finding_sql(events_matched(f"({where})", RESOURCE), detail)
    candidate = meta.finding_type(title, sigma_id, set(taken))
    try:
        made = Rule(
            finding_type=candidate,
            severity=meta.severity(level),
            data_source="cloudtrail",
            tactic=att.tactic,
            technique_id=att.technique_id,
            technique=att.technique,
            title=title[:200],
            description=f"{described.rstrip('.')}. Imported from {reference}.",
            remediation=remediation,
            sql=sql,
            resource_type="Other",
        )
    except InputError as exc:
        return Refused(source, title, sigma_id, str(exc))
    taken.add(candidate)
    return Converted(source, title, sigma_id, level, where, made, att.defaulted)
