"""One Finding as an OCSF event, built with py-ocsf-models: a Compliance Finding (2003) for a
posture result, a Detection Finding (2004) for everything else."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from py_ocsf_models.events.findings.activity_id import ActivityID
from py_ocsf_models.events.findings.class_uid import ClassUID
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from py_ocsf_models.events.findings.compliance_finding_type_id import ComplianceFindingTypeID
from py_ocsf_models.events.findings.detection_finding import DetectionFinding
from py_ocsf_models.events.findings.detection_finding_type_id import DetectionFindingTypeID
from py_ocsf_models.events.findings.severity_id import SeverityID
from py_ocsf_models.events.findings.status_id import StatusID
from py_ocsf_models.objects.account import Account
from py_ocsf_models.objects.account import TypeID as AccountTypeID
from py_ocsf_models.objects.analytic import Analytic
from py_ocsf_models.objects.check import Check
from py_ocsf_models.objects.cloud import Cloud
from py_ocsf_models.objects.compliance import Compliance
from py_ocsf_models.objects.compliance_status import StatusID as CheckStatusID
from py_ocsf_models.objects.evidence_artifacts import EvidenceArtifacts
from py_ocsf_models.objects.finding_info import FindingInformation
from py_ocsf_models.objects.metadata import Metadata
from py_ocsf_models.objects.mitre_attack import MITREAttack, SubTechnique, Tactic, Technique
from py_ocsf_models.objects.product import Feature, Product
from py_ocsf_models.objects.remediation import Remediation
from py_ocsf_models.objects.resource_details import ResourceDetails

from mamori import __version__
from mamori.core import (
    ComplianceStatus,
    Finding,
    Mitre,
    RecordState,
    Resource,
    SeverityLabel,
    WorkflowStatus,
    as_utc,
)
from mamori.core.finding import COMPANY_NAME, PRODUCT_NAME
from mamori.exports._standards import control_pairs, requirement, standard_label
from mamori.exports._text import present, to_json


class OcsfCompliance(Compliance):
    # OCSF's compliance object carries the caption of its status_id; the library omits it.
    status: str | None = None


class OcsfComplianceFinding(ComplianceFinding):
    # The cloud profile applies to every OCSF class; the library declares `cloud` only on
    # Detection Finding.
    cloud: Cloud | None = None
    compliance: OcsfCompliance


_SEVERITY = {
    SeverityLabel.INFORMATIONAL: SeverityID.Informational,
    SeverityLabel.LOW: SeverityID.Low,
    SeverityLabel.MEDIUM: SeverityID.Medium,
    SeverityLabel.HIGH: SeverityID.High,
    SeverityLabel.CRITICAL: SeverityID.Critical,
}
_STATUS = {
    WorkflowStatus.NEW: StatusID.New,
    WorkflowStatus.NOTIFIED: StatusID.InProgress,
    WorkflowStatus.SUPPRESSED: StatusID.Suppressed,
    WorkflowStatus.RESOLVED: StatusID.Resolved,
}
_STATUS_CAPTION = {StatusID.InProgress: "In Progress"}
# OCSF's Warning is "the check did not yield a result due to missing information", which is
# what NOT_AVAILABLE means; the ASFF status itself is kept under unmapped.
_CHECK_STATUS = {
    ComplianceStatus.PASSED: CheckStatusID.Pass,
    ComplianceStatus.FAILED: CheckStatusID.Fail,
    ComplianceStatus.WARNING: CheckStatusID.Warning,
    ComplianceStatus.NOT_AVAILABLE: CheckStatusID.Warning,
}
_ANALYTIC_RULE = 1  # OCSF analytic type_id: every Mamori check and detection is a rule
_TACTIC_ID = re.compile(r"TA\d{4}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# created_at and updated_at of a new finding are set microseconds apart; a later update is a
# later scan or a workflow change, seconds apart at least.
_UPDATE_GAP_MS = 1000


def to_ocsf(f: Finding) -> dict[str, Any]:
    """One OCSF event as a JSON-ready dict (None-valued attributes left out)."""
    activity = _activity(f)
    status = (
        StatusID.Archived if f.record_state is RecordState.ARCHIVED else _STATUS[f.workflow.status]
    )
    severity = _SEVERITY[f.severity.label]
    reasons = f.compliance.status_reasons if f.compliance else []
    common: dict[str, Any] = {
        "activity_id": activity,
        "activity_name": activity.name,
        "metadata": Metadata(
            product=Product(
                name=PRODUCT_NAME,
                vendor_name=COMPANY_NAME,
                version=__version__,
                feature=Feature(name=f.source),
            ),
            event_code=f.generator_id,
            profiles=["cloud"],
        ),
        "severity_id": severity,
        "severity": severity.name,
        "status_id": status,
        "status": _STATUS_CAPTION.get(status, status.name),
        "status_detail": "; ".join(r for r in reasons if present(r)) or None,
        "message": f.description if present(f.description) else f.title,
        "finding_info": _finding_info(f),
        "cloud": Cloud(
            provider="AWS",
            region=f.region,
            account=Account(
                uid=f.account_id,
                name=f.account_id,
                type_id=AccountTypeID.AWS_Account,
                type="AWS Account",
            ),
        ),
        "resources": [_resource(r) for r in f.resources],
        "remediation": _remediation(f),
        "evidences": [EvidenceArtifacts(data=_plain(f.evidence))] if f.evidence else None,
        "time": _ms(f.updated_at),
        "start_time": _ms(f.first_observed_at),
        "end_time": _ms(f.last_observed_at),
        "unmapped": _unmapped(f),
    }
    event: ComplianceFinding | DetectionFinding
    if f.compliance is None:
        event = DetectionFinding(
            **common,
            class_name="Detection Finding",
            count=f.count,
            type_uid=DetectionFindingTypeID(ClassUID.DetectionFinding * 100 + activity),
            type_name=f"Detection Finding: {activity.name}",
        )
    else:
        event = OcsfComplianceFinding(
            **common,
            class_name="Compliance Finding",
            compliance=_compliance(f),
            type_uid=ComplianceFindingTypeID(ClassUID.ComplianceFinding * 100 + activity),
            type_name=f"Compliance Finding: {activity.name}",
        )
    return event.model_dump(mode="json", exclude_none=True)


def _activity(f: Finding) -> ActivityID:
    if f.record_state is RecordState.ARCHIVED:
        return ActivityID.Close
    gap = _ms(f.updated_at) - _ms(f.created_at)
    return ActivityID.Update if gap >= _UPDATE_GAP_MS else ActivityID.Create


def _ms(moment: datetime) -> int:
    """OCSF timestamps are milliseconds since the epoch."""
    aware = as_utc(moment)
    assert aware is not None
    return (aware - _EPOCH) // timedelta(milliseconds=1)


def _plain(value: dict[str, Any]) -> dict[str, Any]:
    # Free-form data may hold values JSON cannot (sets, bytes, objects): pass it through JSON
    # once so the model dump never meets a type it cannot serialise.
    # The standard library reads back what to_json may write that orjson cannot read.
    plain: dict[str, Any] = json.loads(to_json(value))
    return plain


def _finding_info(f: Finding) -> FindingInformation:
    return FindingInformation(
        uid=f.id,
        title=f.title,
        desc=f.description or None,
        types=list(f.types),
        created_time=_ms(f.created_at),
        first_seen_time=_ms(f.first_observed_at),
        last_seen_time=_ms(f.last_observed_at),
        modified_time=_ms(f.updated_at),
        analytic=Analytic(
            uid=f.generator_id, name=f.generator_id, type="Rule", type_id=_ANALYTIC_RULE
        ),
        attacks=[_attack(m) for m in f.mitre] or None,
    )


def _attack(m: Mitre) -> MITREAttack:
    parent, _, sub = m.technique_id.partition(".")
    # ATT&CK names a sub-technique "Technique: Sub-technique" (Valid Accounts: Cloud Accounts).
    name, _, sub_name = m.technique.partition(": ") if sub else (m.technique, "", "")
    tactic = None
    if present(m.tactic):
        is_id = _TACTIC_ID.fullmatch(m.tactic)
        tactic = Tactic(uid=m.tactic) if is_id else Tactic(name=m.tactic)
    return MITREAttack(
        tactic=tactic,
        technique=Technique(uid=parent, name=name or parent),
        sub_technique=SubTechnique(uid=m.technique_id, name=sub_name or None) if sub else None,
    )


def _resource(r: Resource) -> ResourceDetails:
    data = {k: v for k, v in (("tags", r.tags), ("details", _plain(r.details))) if v}
    return ResourceDetails(
        uid=r.id,
        type=r.type,
        region=r.region,
        cloud_partition=r.partition,
        # OCSF labels are plain strings; the tags keep their exact keys and values in data.
        labels=[f"{k}:{v}" for k, v in r.tags.items()] or None,
        data=data or None,
    )


def _remediation(f: Finding) -> Remediation | None:
    refs = [u for u in dict.fromkeys((f.remediation.url, *f.references)) if u]
    if not (present(f.remediation.text) or refs):
        return None
    return Remediation(desc=f.remediation.text, references=refs or None)


def _compliance(f: Finding) -> OcsfCompliance:
    assert f.compliance is not None
    pairs = list(control_pairs(f))
    standards = list(dict.fromkeys(standard_label(s) for s, _ in pairs)) or None
    requirements = list(dict.fromkeys(requirement(s, c) for s, c in pairs)) or None
    status = _CHECK_STATUS[f.compliance.status]
    severity = _SEVERITY[f.severity.label]
    check = Check(
        uid=f.generator_id,
        name=f.title,
        desc=f.description or None,
        status=status.name,
        status_id=status,
        severity=severity.name,
        severity_id=severity,
        standards=standards,
    )
    return OcsfCompliance(
        status=status.name,
        status_id=status,
        standards=standards,
        requirements=requirements,
        # OCSF's control is one string: set when the finding evidences exactly one control.
        control=requirements[0] if requirements and len(requirements) == 1 else None,
        checks=[check],
    )


def _unmapped(f: Finding) -> dict[str, Any]:
    """What Mamori knows that OCSF has no attribute for, under one vendor key."""
    mamori = {
        "source": f.source,
        "product": f.product if f.product != PRODUCT_NAME else None,
        "compliance_status": f.compliance.status.value if f.compliance else None,
        "count": f.count,
        "record_state": f.record_state.value,
        "workflow": f.workflow.model_dump(mode="json", exclude_none=True),
        "remediation_cli": f.remediation.cli,
        "product_fields": f.product_fields,
    }
    return {"mamori": {k: v for k, v in mamori.items() if v not in (None, "", {})}}
