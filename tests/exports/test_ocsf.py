from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from py_ocsf_models import OCSF_VERSION
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from py_ocsf_models.events.findings.detection_finding import DetectionFinding

from mamori.core import (
    ComplianceStatus,
    Finding,
    Mitre,
    RecordState,
    Severity,
    SeverityLabel,
    Workflow,
    WorkflowStatus,
)
from mamori.core.finding import Compliance
from mamori.exports import to_ocsf
from mamori.exports.ocsf import OcsfComplianceFinding
from tests.exports.strategies import ACCOUNT, BUCKET, SEEN, findings, make_finding

SEEN_MS = 1740832245123  # SEEN (2025-03-01T12:30:45.123Z) in epoch milliseconds


def _round_trips(event: dict[str, Any]) -> None:
    """The dict is what the library's own model makes of itself, for either class."""
    ours = OcsfComplianceFinding if event["class_uid"] == 2003 else DetectionFinding
    again = ours.model_validate(event).model_dump(mode="json", exclude_none=True)
    assert again == event
    # The library's own class accepts it too (it drops the attributes it does not declare).
    library = ComplianceFinding if event["class_uid"] == 2003 else DetectionFinding
    parsed = library.model_validate(event)
    assert parsed.finding_info.uid == event["finding_info"]["uid"]
    assert int(parsed.type_uid) == event["type_uid"]
    json.dumps(event)


def test_compliance_finding() -> None:
    event = to_ocsf(make_finding())
    _round_trips(event)
    assert event["class_uid"] == 2003
    assert event["class_name"] == "Compliance Finding"
    assert event["category_uid"] == 2
    assert (event["activity_id"], event["type_uid"]) == (1, 200301)
    assert event["type_name"] == "Compliance Finding: Create"
    assert (event["severity_id"], event["severity"]) == (3, "Medium")
    assert (event["status_id"], event["status"]) == (1, "New")
    assert event["status_detail"] == "no policy statement denies HTTP"
    assert event["time"] == SEEN_MS
    assert event["metadata"]["version"] == OCSF_VERSION
    assert event["metadata"]["product"] == {
        "name": "Mamori",
        "vendor_name": "Mamori",
        "version": "0.1.0",
        "feature": {"name": "posture"},
    }
    assert event["cloud"] == {
        "provider": "AWS",
        "region": "us-east-1",
        "account": {"uid": ACCOUNT, "name": ACCOUNT, "type_id": 10, "type": "AWS Account"},
    }
    info = event["finding_info"]
    assert info["uid"].startswith("mamori-")
    assert info["title"] == "S3 bucket should require requests to use SSL"
    assert info["desc"].startswith("The bucket policy")
    assert info["types"] == ["Software and Configuration Checks/Industry and Regulatory Standards"]
    assert info["created_time"] == info["first_seen_time"] == info["last_seen_time"] == SEEN_MS
    assert info["analytic"] == {
        "uid": "s3.bucket_ssl_requests_only",
        "name": "s3.bucket_ssl_requests_only",
        "type": "Rule",
        "type_id": 1,
    }
    compliance = event["compliance"]
    assert (compliance["status_id"], compliance["status"]) == (3, "Fail")
    assert compliance["standards"] == [
        "AWS Foundational Security Best Practices v1.0.0",
        "CIS AWS Foundations Benchmark v3.0.0",
    ]
    assert compliance["requirements"] == [
        "AWS Foundational Security Best Practices v1.0.0/S3.5",
        "CIS AWS Foundations Benchmark v3.0.0/2.1.1",
    ]
    assert "control" not in compliance  # two controls, no single one
    assert compliance["checks"][0]["uid"] == "s3.bucket_ssl_requests_only"
    assert event["resources"] == [
        {
            "uid": BUCKET,
            "type": "AwsS3Bucket",
            "region": "us-east-1",
            "cloud_partition": "aws",
            "labels": ["team:data"],
            "data": {"tags": {"team": "data"}, "details": {"policy_present": True}},
        }
    ]
    assert event["remediation"]["desc"].startswith("Add a Deny")
    assert event["remediation"]["references"][0].startswith("https://docs.aws")
    assert event["unmapped"]["mamori"]["compliance_status"] == "FAILED"
    assert event["unmapped"]["mamori"]["remediation_cli"].startswith("aws s3api")


def test_detection_finding_with_attacks() -> None:
    f = make_finding(
        source="detect",
        compliance=None,
        types=["TTPs/Credential Access"],
        count=7,
        severity=Severity.of(SeverityLabel.HIGH),
        evidence={"source_ip": "203.0.113.9"},
        mitre=[
            Mitre(
                tactic="Credential Access",
                technique_id="T1552.005",
                technique="Unsecured Credentials: Cloud Instance Metadata API",
            ),
            Mitre(
                tactic="TA0010", technique_id="T1537", technique="Transfer Data to Cloud Account"
            ),
        ],
    )
    event = to_ocsf(f)
    _round_trips(event)
    assert (event["class_uid"], event["type_uid"]) == (2004, 200401)
    assert event["class_name"] == "Detection Finding"
    assert event["count"] == 7
    assert event["severity_id"] == 4
    assert "compliance" not in event
    assert event["cloud"]["account"]["uid"] == ACCOUNT
    assert event["evidences"][0]["data"] == {"source_ip": "203.0.113.9"}
    assert event["finding_info"]["attacks"] == [
        {
            "tactic": {"name": "Credential Access"},
            "technique": {"uid": "T1552", "name": "Unsecured Credentials"},
            "sub_technique": {"uid": "T1552.005", "name": "Cloud Instance Metadata API"},
        },
        {
            "tactic": {"uid": "TA0010"},
            "technique": {"uid": "T1537", "name": "Transfer Data to Cloud Account"},
        },
    ]


@pytest.mark.parametrize(
    ("label", "severity_id"),
    [
        (SeverityLabel.INFORMATIONAL, 1),
        (SeverityLabel.LOW, 2),
        (SeverityLabel.MEDIUM, 3),
        (SeverityLabel.HIGH, 4),
        (SeverityLabel.CRITICAL, 5),
    ],
)
def test_severity_ids(label: SeverityLabel, severity_id: int) -> None:
    assert to_ocsf(make_finding(severity=Severity.of(label)))["severity_id"] == severity_id


@pytest.mark.parametrize(
    ("workflow", "status_id", "status"),
    [
        (WorkflowStatus.NEW, 1, "New"),
        (WorkflowStatus.NOTIFIED, 2, "In Progress"),
        (WorkflowStatus.SUPPRESSED, 3, "Suppressed"),
        (WorkflowStatus.RESOLVED, 4, "Resolved"),
    ],
)
def test_workflow_status(workflow: WorkflowStatus, status_id: int, status: str) -> None:
    event = to_ocsf(make_finding(workflow=Workflow(status=workflow)))
    assert (event["status_id"], event["status"]) == (status_id, status)


@pytest.mark.parametrize(
    ("status", "status_id"),
    [
        (ComplianceStatus.PASSED, 1),
        (ComplianceStatus.WARNING, 2),
        (ComplianceStatus.NOT_AVAILABLE, 2),
        (ComplianceStatus.FAILED, 3),
    ],
)
def test_compliance_status(status: ComplianceStatus, status_id: int) -> None:
    event = to_ocsf(
        make_finding(
            compliance=Compliance(status=status, controls={"cis-aws-foundations-3.0.0": ["1.4"]})
        )
    )
    assert event["compliance"]["status_id"] == status_id
    assert event["unmapped"]["mamori"]["compliance_status"] == status.value
    # One control: OCSF's single `control` names it.
    assert event["compliance"]["control"] == "CIS AWS Foundations Benchmark v3.0.0/1.4"


def test_updated_and_archived_findings() -> None:
    updated = to_ocsf(make_finding(updated_at=SEEN + timedelta(days=1)))
    assert (updated["activity_id"], updated["type_uid"]) == (2, 200302)
    assert updated["finding_info"]["modified_time"] == SEEN_MS + 86_400_000
    archived = to_ocsf(make_finding(record_state=RecordState.ARCHIVED, compliance=None))
    assert (archived["activity_id"], archived["type_uid"]) == (3, 200403)
    assert (archived["status_id"], archived["status"]) == (5, "Archived")


def test_unknown_standard_keeps_its_id() -> None:
    event = to_ocsf(
        make_finding(
            compliance=Compliance(status=ComplianceStatus.PASSED, controls={"in-house-2": ["A.1"]})
        )
    )
    assert event["compliance"]["standards"] == ["in-house-2"]
    assert event["compliance"]["requirements"] == ["in-house-2/A.1"]


def test_values_json_cannot_hold_still_export() -> None:
    f = make_finding(evidence={"ports": {443, 22}, "raw": b"\xff", "big": 2**70})
    event = to_ocsf(f)
    _round_trips(event)
    assert event["evidences"][0]["data"] == {"ports": [22, 443], "raw": "\ufffd", "big": 2**70}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(findings())
def test_any_finding_is_a_valid_ocsf_event(finding: Finding) -> None:
    event = to_ocsf(finding)
    _round_trips(event)
    assert event["class_uid"] == (2003 if finding.compliance else 2004)
    assert event["type_uid"] == event["class_uid"] * 100 + event["activity_id"]
    assert event["finding_info"]["uid"] == finding.id
    assert event["cloud"]["account"]["uid"] == finding.account_id
    assert len(event["resources"]) == len(finding.resources)
