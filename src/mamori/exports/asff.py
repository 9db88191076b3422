"""One Finding as an AWS Security Finding Format (ASFF) finding for Security Hub.

The result passes botocore's validation of `securityhub:BatchImportFindings` and keeps to the
limits the ASFF reference documents but botocore's model does not carry (lengths, item
counts, non-blank strings): Security Hub rejects a finding that breaks any of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from itertools import chain
from typing import Any

import botocore.session
from botocore.validate import ParamValidator

from mamori.core import Finding, Resource, iso, partition_of
from mamori.core.finding import COMPANY_NAME, PRODUCT_NAME
from mamori.exports._standards import control_pairs, requirement
from mamori.exports._text import MapLimits, field_map, fit, present

SCHEMA_VERSION = "2018-10-08"


# Limits documented in the ASFF reference (AwsSecurityFinding and its objects).
TITLE_LEN = 256
DESCRIPTION_LEN = 1024
RECOMMENDATION_LEN = 512
NAME_LEN = 128  # ProductName, CompanyName
RESOURCE_TYPE_LEN = 256
MAX_TYPES = 50
MAX_RESOURCES = 32
MAX_REQUIREMENTS = 32
TAG_LIMITS = MapLimits(50, 128, 256)
OTHER_DETAILS_LIMITS = MapLimits(50, 128, 1024)
# Security Hub adds its own aws/securityhub/* keys (FindingId, ProductName, CompanyName) to
# the 50 ProductFields a finding may have, so ours leave room for them.
PRODUCT_FIELD_LIMITS = MapLimits(47, 128, 2048)

ASFF_PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-us-iso", "aws-us-iso-b")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
# Where a finding about a global resource (IAM, the account) is imported: the region that
# hosts the partition's global services.
_HOME_REGION = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}

# Our standard ids -> the id Security Hub gives the same standard (the resource part of the
# standard's ARN in DescribeStandards), so that its filters treat both sources alike.
_FSBP = "aws-foundational-security-best-practices"
_SECURITY_HUB_STANDARDS = {
    f"{_FSBP}-1.0.0": f"standards/{_FSBP}/v/1.0.0",
    "cis-aws-foundations-3.0.0": "standards/cis-aws-foundations-benchmark/v/3.0.0",
}
# FSBP control ids are Security Hub's security control ids ("S3.1", "IAM.6").
_FSBP_PREFIX = f"{_FSBP}-"
_SECURITY_CONTROL_ID = re.compile(r"[A-Z][A-Za-z0-9]*\.\d+")


def to_asff(f: Finding) -> dict[str, Any]:
    """One ASFF finding, ready for BatchImportFindings in the finding's own account."""
    region = home_region(f)
    account = f.account_id
    types = _types(f)
    severity = f.severity.label.value
    out: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": f.id,
        "ProductArn": product_arn(region, account),
        "ProductName": fit(_first_present(f.product, PRODUCT_NAME), NAME_LEN),
        "CompanyName": COMPANY_NAME,
        "Region": region,
        "GeneratorId": f.generator_id,
        "AwsAccountId": account,
        "Types": types,
        "FirstObservedAt": iso(f.first_observed_at),
        "LastObservedAt": iso(f.last_observed_at),
        "CreatedAt": iso(f.created_at),
        "UpdatedAt": iso(f.updated_at),
        "Severity": {"Label": severity, "Normalized": f.severity.normalized, "Original": severity},
        "Title": fit(_first_present(f.title, f.generator_id), TITLE_LEN),
        "Description": fit(_first_present(f.description, f.title, f.generator_id), DESCRIPTION_LEN),
        "Remediation": _remediation(f),
        "ProductFields": _product_fields(f),
        "Resources": [_resource(r, account) for r in f.resources[:MAX_RESOURCES]],
        "Compliance": _compliance(f),
        "Workflow": {"Status": f.workflow.status.value},
        "RecordState": f.record_state.value,
        "FindingProviderFields": {
            "Severity": {"Label": severity, "Original": severity},
            "Types": types,
        },
    }
    return {k: v for k, v in out.items() if v}


def product_arn(region: str, account: str) -> str:
    """The product Security Hub gives every account for importing its own findings."""
    return f"arn:{partition_of(region)}:securityhub:{region}:{account}:product/{account}/default"


def home_region(f: Finding) -> str:
    """The region the finding is imported into: its own, or for a global one the partition's."""
    if _REGION.fullmatch(f.region):
        return f.region
    return _HOME_REGION.get(f.resource.partition, _HOME_REGION["aws"])


def _first_present(*texts: str) -> str:
    return next((t for t in texts if present(t)), "-")


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _types(f: Finding) -> list[str]:
    # MITRE ATT&CK goes into ASFF's own TTPs namespace: TTPs/<tactic>/<technique>.
    ttps = (
        "/".join(
            p.replace("/", "-").strip() for p in ("TTPs", m.tactic, m.technique_id) if present(p)
        )
        for m in f.mitre
    )
    types = _unique(t.strip() for t in chain(f.types, ttps) if present(t))[:MAX_TYPES]
    if types:
        return types
    return ["Software and Configuration Checks" if f.compliance else "Unusual Behaviors"]


def _remediation(f: Finding) -> dict[str, Any] | None:
    recommendation: dict[str, str] = {}
    if present(f.remediation.text):
        recommendation["Text"] = fit(f.remediation.text, RECOMMENDATION_LEN)
    urls = (u for u in (f.remediation.url, *f.references) if u and _is_web_url(u))
    url = next(urls, None)
    if url:
        recommendation["Url"] = url
    return {"Recommendation": recommendation} if recommendation else None


def _is_web_url(text: str) -> bool:
    return text.startswith(("https://", "http://")) and not any(c.isspace() for c in text)


def _product_fields(f: Finding) -> dict[str, str]:
    omitted = len(f.resources) - MAX_RESOURCES
    reasons = f.compliance.status_reasons if f.compliance else []
    ours: list[tuple[str, Any]] = [
        ("CheckId", f.generator_id),
        ("mamori/Source", f.source),
        ("mamori/Count", str(f.count)),
        ("mamori/StatusReasons", " | ".join(r for r in reasons if present(r))),
        ("mamori/RemediationCli", f.remediation.cli or ""),
        ("mamori/References", " ".join(f.references)),
        ("mamori/ResourcesOmitted", str(omitted) if omitted > 0 else ""),
    ]
    # aws/* keys are Security Hub's own; a finding read back from Security Hub carries them.
    theirs = ((k, v) for k, v in f.product_fields.items() if not k.lower().startswith("aws/"))
    evidence = ((f"mamori/evidence/{k}", v) for k, v in f.evidence.items())
    return field_map(chain(ours, theirs, evidence), PRODUCT_FIELD_LIMITS)


def _resource(r: Resource, account: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Type": fit(r.type.strip(), RESOURCE_TYPE_LEN) if present(r.type) else "Other",
        # Security Hub's own id for the account as a resource, when a resource has no id.
        "Id": r.id if present(r.id) else f"AWS::::Account:{account}",
    }
    if r.partition in ASFF_PARTITIONS:
        out["Partition"] = r.partition
    if _REGION.fullmatch(r.region):
        out["Region"] = r.region
    tags = field_map(r.tags.items(), TAG_LIMITS)
    if tags:
        out["Tags"] = tags
    details = _details(r.details)
    if details:
        out["Details"] = details
    return out


def _details(details: dict[str, Any]) -> dict[str, Any]:
    """Entries already in one of ASFF's typed Details shapes as they are; the rest as Other."""
    typed = {k: v for k, v in details.items() if _is_typed_detail(k, v)}
    other = field_map(((k, v) for k, v in details.items() if k not in typed), OTHER_DETAILS_LIMITS)
    return {**typed, "Other": other} if other else typed


def _is_typed_detail(key: str, value: Any) -> bool:
    if key == "Other" or not isinstance(value, dict) or not value:
        return False
    shape = _typed_detail_shapes().get(key)
    if shape is None:
        return False
    return not ParamValidator().validate(value, shape).has_errors()


@cache
def _typed_detail_shapes() -> dict[str, Any]:
    model = botocore.session.get_session().get_service_model("securityhub")
    request: Any = model.operation_model("BatchImportFindings").input_shape
    resource = request.members["Findings"].member.members["Resources"].member
    return dict(resource.members["Details"].members)


def _compliance(f: Finding) -> dict[str, Any] | None:
    if f.compliance is None:
        return None
    pairs = [(s, c) for s, c in control_pairs(f) if present(s) and present(c)]
    out: dict[str, Any] = {"Status": f.compliance.status.value}
    requirements = _unique(requirement(s, c) for s, c in pairs)
    if requirements:
        out["RelatedRequirements"] = requirements[:MAX_REQUIREMENTS]
    standards = _unique(_SECURITY_HUB_STANDARDS.get(s, s) for s, _ in pairs)
    if standards:
        out["AssociatedStandards"] = [{"StandardsId": s} for s in standards]
    control_id = _security_control_id(pairs)
    if control_id:
        out["SecurityControlId"] = control_id
    # StatusReasons is left out: its ReasonCode takes only the codes Security Hub defines for
    # its own controls (CONFIG_ACCESS_DENIED...), none of which says why a Mamori check
    # decided; the reasons travel in ProductFields["mamori/StatusReasons"] instead.
    return out


def _security_control_id(pairs: list[tuple[str, str]]) -> str | None:
    ids = {c for s, c in pairs if s.startswith(_FSBP_PREFIX) and _SECURITY_CONTROL_ID.fullmatch(c)}
    # A finding evidencing several Security Hub controls belongs to none of them alone.
    return ids.pop() if len(ids) == 1 else None
