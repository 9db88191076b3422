"""What the identity analyses share when they turn results into Findings."""

from __future__ import annotations

from typing import Any, TypedDict

from mamori.core import (
    Compliance,
    ComplianceStatus,
    Finding,
    Remediation,
    Resource,
    Severity,
    SeverityLabel,
    finding_id,
)

SOURCE = "identity"
BEST_PRACTICES = "Software and Configuration Checks/AWS Security Best Practices"


class Place(TypedDict):
    """What places a finding: its key (one finding per generator and key), resources, account
    and region; spread into `identity_finding` or `not_available`."""

    key: str
    resources: list[Resource]
    account_id: str
    region: str


def identity_finding(
    *,
    generator_id: str,
    key: str,
    resources: list[Resource],
    account_id: str,
    region: str,
    **fields: Any,
) -> Finding:
    """Finding.build, with the id derived from `key` instead of the first resource: one resource
    may carry several findings of one generator (a bucket shared with two accounts)."""
    finding = Finding.build(
        generator_id=generator_id,
        resources=resources,
        account_id=account_id,
        region=region,
        source=SOURCE,
        **fields,
    )
    finding.id = finding_id(generator_id, key, account_id, region)
    return finding


def not_available(
    *,
    generator_id: str,
    key: str,
    resources: list[Resource],
    account_id: str,
    region: str,
    title: str,
    reason: str,
    remediation: Remediation,
    types: list[str] | None = None,
    evidence: dict[str, Any] | None = None,
) -> Finding:
    """The finding for data that could not be read: never a pass, never a failure."""
    return identity_finding(
        generator_id=generator_id,
        key=key,
        resources=resources,
        account_id=account_id,
        region=region,
        types=types or [BEST_PRACTICES],
        severity=Severity.of(SeverityLabel.INFORMATIONAL),
        title=title,
        description=reason,
        remediation=remediation,
        compliance=Compliance(
            status=ComplianceStatus.NOT_AVAILABLE, status_reasons=[reason[:1000]]
        ),
        evidence={"reason": reason, **(evidence or {})},
    )
