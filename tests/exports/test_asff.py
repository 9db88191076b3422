from __future__ import annotations

import re
from functools import cache
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters
from hypothesis import HealthCheck, given, settings

from mamori.core import ComplianceStatus, Mitre, RecordState, Resource, Workflow, WorkflowStatus
from mamori.core.finding import Compliance
from mamori.exports import to_asff
from mamori.exports.asff import ASFF_PARTITIONS
from tests.exports.strategies import ACCOUNT, BUCKET, CIS, FSBP, findings, make_finding

ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@cache
def _request_shape() -> Any:
    model = botocore.session.get_session().get_service_model("securityhub")
    return model.operation_model("BatchImportFindings").input_shape


def _units(text: str) -> int:
    """Length as AWS counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


# Limits from the ASFF reference that botocore's model does not carry:
# path -> (max items, max key length, max value length) for maps and lists (key length None
# for lists), or max length for a string.
_LIMITS: dict[str, Any] = {
    "Title": 256,
    "Description": 1024,
    "ProductName": 128,
    "CompanyName": 128,
    "Remediation.Recommendation.Text": 512,
    "Types": (50, None, None),
    "FindingProviderFields.Types": (50, None, None),
    "Resources": (32, None, None),
    "Resources[].Type": 256,
    "Resources[].Tags": (50, 128, 256),
    "Resources[].Details.Other": (50, 128, 1024),
    "ProductFields": (50, 128, 2048),
    "Compliance.RelatedRequirements": (32, None, None),
    "Id": 512,
    "GeneratorId": 512,
}


def _walk(value: Any, shape: Any, path: str, problems: list[str]) -> None:
    """Constraints in the model that botocore's validator leaves unchecked: enums, the
    non-blank pattern, integer ranges; plus the documented ASFF limits above."""
    limit = _LIMITS.get(re.sub(r"\[\d+\]", "[]", path).lstrip("."))
    if isinstance(limit, int) and _units(value) > limit:
        problems.append(f"{path}: {_units(value)} > {limit}")
    if isinstance(limit, tuple):
        most, key_len, value_len = limit
        if len(value) > most:
            problems.append(f"{path}: {len(value)} items > {most}")
        if key_len is not None:
            problems += [
                f"{path}.{k}: too long"
                for k, v in value.items()
                if _units(k) > key_len or _units(v) > value_len
            ]
    meta = shape.metadata
    if shape.type_name == "structure":
        for key, item in value.items():
            _walk(item, shape.members[key], f"{path}.{key}", problems)
    elif shape.type_name == "list":
        for i, item in enumerate(value):
            _walk(item, shape.member, f"{path}[{i}]", problems)
    elif shape.type_name == "map":
        for key, item in value.items():
            _walk(key, shape.key, f"{path}{{key}}", problems)
            _walk(item, shape.value, f"{path}.{key}", problems)
    elif shape.type_name == "string":
        if "enum" in meta and value not in meta["enum"]:
            problems.append(f"{path}: {value!r} not in {meta['enum']}")
        if meta.get("pattern") == ".*\\S.*" and not re.search(r"\S", value):
            problems.append(f"{path}: blank")
    elif shape.type_name == "integer" and not (
        meta.get("min", value) <= value <= meta.get("max", value)
    ):
        problems.append(f"{path}: {value} out of range")


def asff_problems(finding: dict[str, Any]) -> list[str]:
    request = {"Findings": [finding]}
    try:
        validate_parameters(request, _request_shape())
    except ParamValidationError as exc:
        return [str(exc)]
    problems: list[str] = []
    _walk(finding, _request_shape().members["Findings"].member, "", problems)
    problems += [
        f"{k}: {finding[k]!r} not ISO 8601 with Z"
        for k in ("FirstObservedAt", "LastObservedAt", "CreatedAt", "UpdatedAt")
        if not ISO_Z.fullmatch(finding[k])
    ]
    if not 0 <= finding["Severity"]["Normalized"] <= 100:
        problems.append("Severity.Normalized out of range")
    return problems


def test_the_checker_itself_catches_violations() -> None:
    good = to_asff(make_finding())
    assert asff_problems(good) == []
    bad = {**good, "Title": "x" * 257, "Description": "  ", "RecordState": "GONE"}
    bad["Resources"] = [{**good["Resources"][0], "Tags": {"k": ""}}]
    problems = "\n".join(asff_problems(bad))
    for expected in (
        ".Title: 257 > 256",
        ".Description: blank",
        ".RecordState: 'GONE'",
        "Tags.k: blank",
    ):
        assert expected in problems
    missing = {k: v for k, v in good.items() if k != "Resources"}
    assert "Missing required parameter" in asff_problems(missing)[0]


def test_maps_a_compliance_finding() -> None:
    out = to_asff(make_finding())
    assert asff_problems(out) == []
    assert out["SchemaVersion"] == "2018-10-08"
    assert out["Id"].startswith("mamori-")
    assert out["ProductArn"] == (
        f"arn:aws:securityhub:us-east-1:{ACCOUNT}:product/{ACCOUNT}/default"
    )
    assert out["GeneratorId"] == "s3.bucket_ssl_requests_only"
    assert out["AwsAccountId"] == ACCOUNT
    assert out["Region"] == "us-east-1"
    assert out["CreatedAt"] == "2025-03-01T12:30:45.123Z"
    assert out["Severity"] == {"Label": "MEDIUM", "Normalized": 50, "Original": "MEDIUM"}
    assert out["FindingProviderFields"] == {
        "Severity": {"Label": "MEDIUM", "Original": "MEDIUM"},
        "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
    }
    assert out["Workflow"] == {"Status": "NEW"}
    assert out["RecordState"] == "ACTIVE"
    assert out["Remediation"]["Recommendation"]["Text"].startswith("Add a Deny")
    assert out["Remediation"]["Recommendation"]["Url"].startswith("https://docs.aws")
    fields = out["ProductFields"]
    assert fields["CheckId"] == "s3.bucket_ssl_requests_only"
    assert fields["mamori/Source"] == "posture"
    assert fields["mamori/StatusReasons"] == "no policy statement denies HTTP"
    assert fields["mamori/RemediationCli"].startswith("aws s3api put-bucket-policy")
    assert all(isinstance(v, str) for v in fields.values())
    assert out["Resources"] == [
        {
            "Type": "AwsS3Bucket",
            "Id": BUCKET,
            "Partition": "aws",
            "Region": "us-east-1",
            "Tags": {"team": "data"},
            "Details": {"Other": {"policy_present": "true"}},
        }
    ]
    assert out["Compliance"] == {
        "Status": "FAILED",
        "RelatedRequirements": [
            "AWS Foundational Security Best Practices v1.0.0/S3.5",
            "CIS AWS Foundations Benchmark v3.0.0/2.1.1",
        ],
        "AssociatedStandards": [
            {"StandardsId": "standards/aws-foundational-security-best-practices/v/1.0.0"},
            {"StandardsId": "standards/cis-aws-foundations-benchmark/v/3.0.0"},
        ],
        "SecurityControlId": "S3.5",
    }


def test_detection_finding_has_no_compliance_and_mitre_goes_to_ttps() -> None:
    f = make_finding(
        source="detect",
        compliance=None,
        types=["Unusual Behaviors/User"],
        mitre=[
            Mitre(
                tactic="Credential Access",
                technique_id="T1552.005",
                technique="Unsecured Credentials: Cloud Instance Metadata API",
            ),
            Mitre(tactic="Exfiltration", technique_id="T1537"),
        ],
    )
    out = to_asff(f)
    assert asff_problems(out) == []
    assert "Compliance" not in out
    assert out["Types"] == [
        "Unusual Behaviors/User",
        "TTPs/Credential Access/T1552.005",
        "TTPs/Exfiltration/T1537",
    ]
    assert out["FindingProviderFields"]["Types"] == out["Types"]


def test_global_finding_goes_to_the_partition_home_region() -> None:
    role = Resource(
        type="AwsIamRole",
        id="arn:aws-cn:iam::111122223333:role/r",
        partition="aws-cn",
        region="global",
    )
    out = to_asff(make_finding(resources=[role], region="global"))
    assert asff_problems(out) == []
    assert out["Region"] == "cn-north-1"
    assert out["ProductArn"].startswith("arn:aws-cn:securityhub:cn-north-1:")
    assert "Region" not in out["Resources"][0]


def test_unknown_standard_and_several_fsbp_controls() -> None:
    compliance = Compliance(
        status=ComplianceStatus.PASSED, controls={"in-house-2": ["A.1"], FSBP: ["S3.5", "S3.8"]}
    )
    out = to_asff(make_finding(compliance=compliance))
    assert asff_problems(out) == []
    assert out["Compliance"]["RelatedRequirements"] == [
        "AWS Foundational Security Best Practices v1.0.0/S3.5",
        "AWS Foundational Security Best Practices v1.0.0/S3.8",
        "in-house-2/A.1",
    ]
    assert {"StandardsId": "in-house-2"} in out["Compliance"]["AssociatedStandards"]
    # Two Security Hub controls: the finding is not one control's finding.
    assert "SecurityControlId" not in out["Compliance"]


def test_cis_only_finding_has_no_security_control_id() -> None:
    compliance = Compliance(status=ComplianceStatus.FAILED, controls={CIS: ["1.4"]})
    assert "SecurityControlId" not in to_asff(make_finding(compliance=compliance))["Compliance"]


def test_long_unicode_text_is_cut_within_limits_without_breaking_characters() -> None:
    title = "🔥" * 300  # 600 UTF-16 units
    out = to_asff(
        make_finding(
            title=title,
            description="説明" * 800,
            remediation=make_finding().remediation.model_copy(update={"text": "=" * 600}),
        )
    )
    assert asff_problems(out) == []
    assert out["Title"] == "🔥" * 127 + "…"  # 254 + 1 units: a 128th emoji would need 2 more
    assert _units(out["Description"]) == 1024
    assert out["Description"].endswith("…")
    assert _units(out["Remediation"]["Recommendation"]["Text"]) == 512
    out["Title"].encode("utf-8")  # no lone surrogate


def test_details_in_a_typed_shape_stay_typed_and_the_rest_go_to_other() -> None:
    details = {
        "AwsS3Bucket": {"OwnerId": "abc", "CreatedAt": "2024-01-01T00:00:00.000Z"},
        "AwsIamUser": {"NoSuchMember": 1},
        "grants": [{"grantee": "AllUsers"}],
        "empty": "",
        "missing": None,
        "note": "plain text",
    }
    out = to_asff(
        make_finding(resources=[Resource(type="AwsS3Bucket", id=BUCKET, details=details)])
    )
    assert asff_problems(out) == []
    assert out["Resources"][0]["Details"] == {
        "AwsS3Bucket": {"OwnerId": "abc", "CreatedAt": "2024-01-01T00:00:00.000Z"},
        "Other": {
            "AwsIamUser": '{"NoSuchMember":1}',
            "grants": '[{"grantee":"AllUsers"}]',
            "note": "plain text",
        },
    }


def test_maps_respect_item_limits_and_drop_blank_or_reserved_entries() -> None:
    tags = {f"k{i}": f"v{i}" for i in range(70)} | {"blank": " ", "x" * 200: "long key"}
    resources = [
        Resource(type="AwsS3Bucket", id=f"arn:aws:s3:::b{i}", tags=tags) for i in range(40)
    ]
    out = to_asff(
        make_finding(
            resources=resources,
            product_fields={"aws/securityhub/FindingId": "x", "Team": "sec"},
            evidence={"ip": "198.51.100.7", "n": 3},
        )
    )
    assert asff_problems(out) == []
    assert len(out["Resources"]) == 32
    assert len(out["Resources"][0]["Tags"]) == 50
    assert "blank" not in out["Resources"][0]["Tags"]
    fields = out["ProductFields"]
    assert fields["mamori/ResourcesOmitted"] == "8"
    assert "aws/securityhub/FindingId" not in fields
    assert fields["Team"] == "sec"
    assert fields["mamori/evidence/ip"] == "198.51.100.7"
    assert fields["mamori/evidence/n"] == "3"


@pytest.mark.parametrize("workflow", list(WorkflowStatus))
def test_workflow_and_record_state(workflow: WorkflowStatus) -> None:
    out = to_asff(
        make_finding(workflow=Workflow(status=workflow), record_state=RecordState.ARCHIVED)
    )
    assert out["Workflow"] == {"Status": workflow.value}
    assert out["RecordState"] == "ARCHIVED"


def test_blank_texts_fall_back_to_something_asff_accepts() -> None:
    blank = make_finding(
        types=[" "],
        title=" ",
        description="",
        compliance=None,
        resources=[Resource(type=" ", id="")],
    )
    out = to_asff(blank)
    assert asff_problems(out) == []
    assert out["Title"] == "s3.bucket_ssl_requests_only"
    assert out["Types"] == ["Unusual Behaviors"]
    assert out["Resources"][0] == {
        "Type": "Other",
        "Id": f"AWS::::Account:{ACCOUNT}",
        "Partition": "aws",
    }


def test_our_partitions_are_asffs() -> None:
    enum = (
        _request_shape()
        .members["Findings"]
        .member.members["Resources"]
        .member.members["Partition"]
        .metadata["enum"]
    )
    assert set(ASFF_PARTITIONS) <= set(enum)


@settings(
    max_examples=75,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(findings())
def test_any_finding_passes_botocore_validation_and_asff_limits(finding: Any) -> None:
    out = to_asff(finding)
    assert asff_problems(out) == []
    assert out["Id"] == finding.id
    assert out["ProductFields"]["CheckId"] == finding.generator_id
    assert all(isinstance(v, str) for v in out["ProductFields"].values())
    if finding.compliance:
        assert out["Compliance"]["Status"] == finding.compliance.status.value
