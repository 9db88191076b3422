"""The shared kernel: the Finding type, ARNs, time helpers and error types."""

from mamori.core.arn import Arn, build_arn, parse_arn, partition_of
from mamori.core.errors import (
    AwsAccessError,
    DataUnavailable,
    InputError,
    MamoriError,
    StoreError,
)
from mamori.core.finding import (
    Compliance,
    ComplianceStatus,
    Finding,
    Mitre,
    RecordState,
    Remediation,
    Resource,
    Severity,
    SeverityLabel,
    Workflow,
    WorkflowStatus,
    finding_id,
)
from mamori.core.timeutil import age_days, as_utc, iso, utcnow

__all__ = [
    "Arn",
    "AwsAccessError",
    "Compliance",
    "ComplianceStatus",
    "DataUnavailable",
    "Finding",
    "InputError",
    "MamoriError",
    "Mitre",
    "RecordState",
    "Remediation",
    "Resource",
    "Severity",
    "SeverityLabel",
    "StoreError",
    "Workflow",
    "WorkflowStatus",
    "age_days",
    "as_utc",
    "build_arn",
    "finding_id",
    "iso",
    "parse_arn",
    "partition_of",
    "utcnow",
]
