"""A detection's result row as a Finding, aggregated the way GuardDuty does: one finding per
finding type, resource and actor, whose count, first and last seen and evidence are updated by
later runs instead of a new finding being created."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from mamori.core import Finding, Mitre, Remediation, Resource, Severity, SeverityLabel, finding_id

if TYPE_CHECKING:
    from mamori.detect.rules.base import Rule

SOURCE = "detect"
_EVIDENCE_IDS = 20


def severity_label(score: float) -> SeverityLabel:
    """GuardDuty's bands (1.0-3.9 Low, 4.0-6.9 Medium, 7.0-8.9 High, 9.0-10.0 Critical) are
    ASFF's normalised bands divided by ten; scores are given to one decimal, so the tenths are
    truncated rather than rounded (3.95 is still Low)."""
    return SeverityLabel.from_normalized(int(score * 10 + 1e-9))


def _tactic_name(tactic: str) -> str:
    """ "TA0005 Defense Evasion" -> "Defense Evasion"."""
    head, _, rest = tactic.partition(" ")
    return rest if head.startswith("TA") and rest else tactic


def _detail(text: Any) -> Any:
    if not isinstance(text, str) or not text:
        return {}
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return {"text": text}


def finding_of(rule: Rule, row: dict[str, Any], *, partition: str = "aws") -> Finding:
    account = str(row.get("account_id") or "")
    region = str(row.get("region") or "global")
    resource = str(row.get("resource_id") or account)
    actor = str(row.get("actor") or "")
    first: datetime | None = row.get("first_seen")
    last: datetime | None = row.get("last_seen")
    count = int(row.get("event_count") or 1)
    label = severity_label(rule.severity)
    detail = _detail(row.get("detail"))
    specific = rule.remediate(detail) if rule.remediate is not None else None
    fields: dict[str, Any] = {}
    if first is not None:
        fields["first_observed_at"] = first
    if last is not None:
        fields["last_observed_at"] = last
    finding = Finding(
        id=finding_id(rule.finding_type, f"{resource}\x1f{actor}", account, region),
        source=SOURCE,
        generator_id=rule.finding_type,
        types=[f"TTPs/{_tactic_name(rule.tactic)}"],
        severity=Severity(label=label, normalized=max(1, min(100, round(rule.severity * 10)))),
        title=rule.title,
        description=f"{rule.description} Actor: {actor or 'unknown'}; resource: {resource}; "
        f"{count} matching record(s).",
        remediation=Remediation(
            text=f"{rule.remediation} {specific}" if specific else rule.remediation
        ),
        resources=[
            Resource(type=rule.resource_type, id=resource, partition=partition, region=region)
        ],
        account_id=account,
        region=region,
        count=max(1, count),
        evidence={
            "actor": actor,
            "event_ids": list(row.get("evidence_ids") or [])[:_EVIDENCE_IDS],
            "detail": detail,
        },
        mitre=[Mitre(tactic=rule.tactic, technique_id=rule.technique_id, technique=rule.technique)],
        product_fields={
            "FindingType": rule.finding_type,
            "DataSource": rule.data_source,
            "GuardDutySeverity": f"{rule.severity:.1f}",
        },
        **fields,
    )
    return finding
