"""The one result type of every Mamori analysis.

Field names follow the AWS Security Finding Format (ASFF) so that the ASFF and OCSF writers
are straight mappings, and so that a finding read back from the hub is the same object that an
analysis produced.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mamori.core.timeutil import utcnow

PRODUCT_NAME = "Mamori"
COMPANY_NAME = "Mamori"


class SeverityLabel(StrEnum):
    INFORMATIONAL = "INFORMATIONAL"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def normalized(self) -> int:
        """The ASFF `Severity.Normalized` value used when an analysis gives no finer score."""
        return _NORMALIZED[self]

    @classmethod
    def parse(cls, text: str) -> SeverityLabel:
        try:
            return cls(text.strip().upper())
        except ValueError:
            names = ", ".join(s.value.lower() for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {names})") from None

    @classmethod
    def of_rank(cls, rank: int) -> SeverityLabel:
        return next(label for label in cls if label.rank == rank)

    @classmethod
    def from_normalized(cls, value: int) -> SeverityLabel:
        # ASFF's documented bands for Normalized -> Label.
        if value >= 90:
            return cls.CRITICAL
        if value >= 70:
            return cls.HIGH
        if value >= 40:
            return cls.MEDIUM
        if value >= 1:
            return cls.LOW
        return cls.INFORMATIONAL


_RANK = {
    SeverityLabel.INFORMATIONAL: 0,
    SeverityLabel.LOW: 1,
    SeverityLabel.MEDIUM: 2,
    SeverityLabel.HIGH: 3,
    SeverityLabel.CRITICAL: 4,
}
_NORMALIZED = {
    SeverityLabel.INFORMATIONAL: 0,
    SeverityLabel.LOW: 30,
    SeverityLabel.MEDIUM: 50,
    SeverityLabel.HIGH: 70,
    SeverityLabel.CRITICAL: 90,
}


class ComplianceStatus(StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    WARNING = "WARNING"
    NOT_AVAILABLE = "NOT_AVAILABLE"


class WorkflowStatus(StrEnum):
    NEW = "NEW"
    NOTIFIED = "NOTIFIED"
    RESOLVED = "RESOLVED"
    SUPPRESSED = "SUPPRESSED"


class RecordState(StrEnum):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=True)


class Severity(_Model):
    label: SeverityLabel
    normalized: int = Field(ge=0, le=100)

    @classmethod
    def of(cls, label: SeverityLabel | str) -> Severity:
        lab = label if isinstance(label, SeverityLabel) else SeverityLabel.parse(label)
        return cls(label=lab, normalized=lab.normalized)


class Remediation(_Model):
    text: str = ""
    url: str | None = None
    cli: str | None = None


class Resource(_Model):
    type: str  # ASFF resource type, e.g. AwsS3Bucket
    id: str  # the ARN where the resource has one
    partition: str = "aws"
    region: str = "global"
    tags: dict[str, str] = Field(default_factory=dict)
    details: dict[str, Any] = Field(default_factory=dict)


class Compliance(_Model):
    status: ComplianceStatus
    # Standard id -> its control ids this finding evidences, e.g.
    # {"cis-aws-foundations-3.0.0": ["2.1.4"]}.
    controls: dict[str, list[str]] = Field(default_factory=dict)
    status_reasons: list[str] = Field(default_factory=list)


class Mitre(_Model):
    tactic: str
    technique_id: str
    technique: str = ""


class Workflow(_Model):
    status: WorkflowStatus = WorkflowStatus.NEW
    note: str | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None


def finding_id(generator_id: str, resource_id: str, account_id: str, region: str) -> str:
    """Stable across runs, so that a re-scan updates a finding instead of duplicating it."""
    key = "\x1f".join((generator_id, resource_id, account_id, region))
    return "mamori-" + hashlib.sha256(key.encode()).hexdigest()[:40]


class Finding(_Model):
    id: str
    source: str  # which Mamori package produced it: posture, identity, detect, perimeter, import
    generator_id: str  # the check id / detection rule id / finding type generator
    product: str = PRODUCT_NAME
    types: list[str] = Field(min_length=1)
    severity: Severity
    title: str = Field(min_length=1)
    description: str = ""
    remediation: Remediation = Field(default_factory=Remediation)
    resources: list[Resource] = Field(min_length=1)
    compliance: Compliance | None = None
    account_id: str
    region: str
    first_observed_at: datetime = Field(default_factory=utcnow)
    last_observed_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    count: int = Field(default=1, ge=1)
    workflow: Workflow = Field(default_factory=Workflow)
    record_state: RecordState = RecordState.ACTIVE
    evidence: dict[str, Any] = Field(default_factory=dict)
    mitre: list[Mitre] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    product_fields: dict[str, str] = Field(default_factory=dict)

    @field_validator("account_id")
    @classmethod
    def _account(cls, v: str) -> str:
        if not (len(v) == 12 and v.isdigit()):
            raise ValueError(f"account id must be 12 digits, got {v!r}")
        return v

    @classmethod
    def build(
        cls,
        *,
        generator_id: str,
        resources: list[Resource],
        account_id: str,
        region: str,
        **fields: Any,
    ) -> Finding:
        """Create a finding with its deterministic id derived from what identifies it."""
        primary = resources[0].id if resources else ""
        fid = finding_id(generator_id, primary, account_id, region)
        return cls(
            id=fid,
            generator_id=generator_id,
            resources=resources,
            account_id=account_id,
            region=region,
            **fields,
        )

    @property
    def status(self) -> ComplianceStatus | None:
        return self.compliance.status if self.compliance else None

    @property
    def is_failing(self) -> bool:
        """A finding that asks for action: a failed control, or any non-compliance finding."""
        if self.record_state is RecordState.ARCHIVED:
            return False
        if self.compliance is None:
            return self.workflow.status is not WorkflowStatus.RESOLVED
        return self.compliance.status is ComplianceStatus.FAILED

    @property
    def resource(self) -> Resource:
        return self.resources[0]
