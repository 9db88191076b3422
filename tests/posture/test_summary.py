"""Scores: per account as Security Hub computes them; (account, control) pairs across accounts."""

from __future__ import annotations

from mamori.core import Compliance, ComplianceStatus, Finding, Resource, Severity
from mamori.posture.summary import summarize

CIS = "cis-aws-foundations-3.0.0"


def _f(check: str, account: str, resource: str, status: str) -> Finding:
    return Finding.build(
        generator_id=check,
        source="posture",
        types=["x"],
        severity=Severity.of("high"),
        title=check,
        resources=[Resource(type="AwsS3Bucket", id=resource)],
        account_id=account,
        region="us-east-1",
        compliance=Compliance(status=ComplianceStatus(status)),
    )


def test_scores_count_controls_per_account() -> None:
    a, b = "111111111111", "222222222222"
    findings = [
        # CIS 2.1.2 (MFA delete): fails in a (one bucket of two), passes in b.
        _f("s3.bucket_mfa_delete_enabled", a, "arn:aws:s3:::a1", "PASSED"),
        _f("s3.bucket_mfa_delete_enabled", a, "arn:aws:s3:::a2", "FAILED"),
        _f("s3.bucket_mfa_delete_enabled", b, "arn:aws:s3:::b1", "PASSED"),
        # CIS 2.1.1 (TLS only): passes in both.
        _f("s3.bucket_ssl_requests_only", a, "arn:aws:s3:::a1", "PASSED"),
        _f("s3.bucket_ssl_requests_only", b, "arn:aws:s3:::b1", "PASSED"),
        # CIS 3.2 could not be evaluated in a: no data, not a pass.
        _f("cloudtrail.log_file_validation", a, "arn:aws:iam::111111111111:root", "NOT_AVAILABLE"),
    ]
    s = summarize(findings)
    _, org = s.standards[CIS]
    assert (org.passed, org.failed) == (3, 1)
    assert org.percent == 75.0
    assert org.manual == 9
    per_a = s.account_standards[a][CIS]
    assert (per_a.passed, per_a.failed, per_a.percent) == (1, 1, 50.0)
    assert s.account_standards[b][CIS].percent == 100.0
    assert s.accounts[a].no_data == 1
    assert s.by_status == {"PASSED": 4, "FAILED": 1, "NOT_AVAILABLE": 1}
    (top,) = s.top_failing
    assert (top.check_id, top.resources, top.accounts) == ("s3.bucket_mfa_delete_enabled", 1, 1)
    assert s.not_available and s.not_available[0][0] == "cloudtrail.log_file_validation"


def test_nothing_assessed_has_no_score() -> None:
    s = summarize([])
    _, score = s.standards[CIS]
    assert score.percent is None
