"""Findings for the export tests: one plain example and a Hypothesis strategy for any finding."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from mamori.core import (
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
)

ACCOUNT = "111122223333"
BUCKET = "arn:aws:s3:::logs-bucket"
CIS = "cis-aws-foundations-3.0.0"
FSBP = "aws-foundational-security-best-practices-1.0.0"
SEEN = datetime(2025, 3, 1, 12, 30, 45, 123456, tzinfo=UTC)


def make_finding(
    *,
    resources: list[Resource] | None = None,
    region: str = "us-east-1",
    generator_id: str = "s3.bucket_ssl_requests_only",
    **fields: Any,
) -> Finding:
    base: dict[str, Any] = {
        "source": "posture",
        "types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
        "severity": Severity.of(SeverityLabel.MEDIUM),
        "title": "S3 bucket should require requests to use SSL",
        "description": "The bucket policy does not deny plain HTTP requests.",
        "remediation": Remediation(
            text="Add a Deny statement for aws:SecureTransport false.",
            url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html",
            cli="aws s3api put-bucket-policy --bucket logs-bucket --policy file://p.json",
        ),
        "compliance": Compliance(
            status=ComplianceStatus.FAILED,
            controls={CIS: ["2.1.1"], FSBP: ["S3.5"]},
            status_reasons=["no policy statement denies HTTP"],
        ),
        "first_observed_at": SEEN,
        "last_observed_at": SEEN,
        "created_at": SEEN,
        "updated_at": SEEN,
    }
    base.update(fields)
    res = resources or [
        Resource(
            type="AwsS3Bucket",
            id=BUCKET,
            region="us-east-1",
            tags={"team": "data"},
            details={"policy_present": True},
        )
    ]
    return Finding.build(
        generator_id=generator_id, resources=res, account_id=ACCOUNT, region=region, **base
    )


# --- Hypothesis -------------------------------------------------------------------------

short = st.text(max_size=30)
# Long text goes past every ASFF length limit; Hypothesis' alphabet includes characters outside
# the Basic Multilingual Plane, which count twice in AWS's (UTF-16) lengths. Built by
# repetition: drawing a thousand characters one by one makes every example slow.
long_text = st.builds(
    lambda piece, times: piece * times, st.text(min_size=1, max_size=6), st.integers(50, 700)
)
texts = short | long_text
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(short, inner, max_size=3),
    max_leaves=8,
)
typed_details = st.sampled_from(
    [
        {"AwsS3Bucket": {"OwnerId": "abc123", "CreatedAt": "2024-01-01T00:00:00.000Z"}},
        {"AwsS3Bucket": {"NotAField": 1}},
        {"AwsIamUser": {"UserName": "alice", "AttachedManagedPolicies": []}},
        {"Other": {"k": "v"}},
    ]
)


def _maps(values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Usually a few entries of any kind; sometimes more than ASFF allows, of plain text."""
    keys = short | long_text
    many = st.dictionaries(
        st.text(min_size=1, max_size=8), st.text(max_size=3) | long_text, min_size=45, max_size=60
    )
    return st.dictionaries(keys, values, max_size=3) | many


resources = st.builds(
    Resource,
    type=st.sampled_from(["AwsS3Bucket", "AwsIamUser", "AwsAccount", "", "  "]) | texts,
    id=st.sampled_from([BUCKET, "arn:aws:iam::111122223333:user/a", "", " "]) | short,
    partition=st.sampled_from(["aws", "aws-cn", "aws-us-gov", "nope"]),
    region=st.sampled_from(["us-east-1", "eu-west-3", "cn-north-1", "global", ""]) | short,
    tags=_maps(texts),
    details=_maps(json_values) | typed_details,
)
compliances = st.builds(
    Compliance,
    status=st.sampled_from(ComplianceStatus),
    controls=st.dictionaries(
        st.sampled_from([CIS, FSBP, "unknown-standard-1.0"]) | st.text(min_size=1, max_size=30),
        st.lists(st.sampled_from(["1.4", "2.1.1", "S3.5", "IAM.6"]) | short, max_size=3)
        | st.lists(st.text(max_size=4), min_size=33, max_size=40),
        max_size=4,
    ),
    status_reasons=st.lists(texts, max_size=3),
)
mitres = st.builds(
    Mitre,
    tactic=st.sampled_from(["Credential Access", "TA0006", "", "Impact/Destruction"]) | short,
    technique_id=st.sampled_from(["T1078", "T1078.004", ""]) | short,
    technique=st.sampled_from(["Valid Accounts", "Valid Accounts: Cloud Accounts", ""]) | short,
)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    # Naive and aware moments: Finding accepts both, and they must mix without error.
    timezones=st.sampled_from([None, UTC]),
)
urls = st.sampled_from(
    ["https://docs.aws.amazon.com/x", "http://example.com/a b", "ftp://x", "not a url", ""]
)


@st.composite
def findings(draw: st.DrawFn) -> Finding:
    return Finding.build(
        generator_id=draw(st.sampled_from(["iam.root_mfa", "detect.Recon:IAMUser/Enum"])),
        resources=draw(
            st.lists(resources, min_size=1, max_size=3)
            | st.lists(st.builds(Resource, type=short, id=short), min_size=33, max_size=36)
        ),
        account_id=ACCOUNT,
        region=draw(st.sampled_from(["us-east-1", "ap-northeast-1", "global"])),
        source=draw(st.sampled_from(["posture", "detect", "identity"])),
        product=draw(st.sampled_from(["Mamori", "GuardDuty"]) | texts.filter(str.strip)),
        types=draw(
            st.lists(
                st.sampled_from(["Software and Configuration Checks", " "]) | texts,
                min_size=1,
                max_size=3,
            )
            | st.lists(st.text(max_size=5), min_size=50, max_size=60)
        ),
        severity=Severity.of(draw(st.sampled_from(SeverityLabel))),
        title=draw(texts.filter(bool)),
        description=draw(texts),
        remediation=draw(
            st.builds(Remediation, text=texts, url=st.none() | urls, cli=st.none() | texts)
        ),
        compliance=draw(st.none() | compliances),
        first_observed_at=draw(moments),
        last_observed_at=draw(moments),
        created_at=draw(moments),
        updated_at=draw(moments),
        count=draw(st.integers(1, 10**6)),
        workflow=Workflow(status=draw(st.sampled_from(WorkflowStatus))),
        record_state=draw(st.sampled_from(RecordState)),
        evidence=draw(_maps(json_values)),
        mitre=draw(st.lists(mitres, max_size=3)),
        references=draw(st.lists(urls, max_size=3)),
        product_fields=draw(
            st.dictionaries(
                st.sampled_from(["aws/securityhub/FindingId", "CheckId"]) | short,
                texts | long_text.map(lambda t: t * 4),
                max_size=3,
            )
            | _maps(short)
        ),
    )
