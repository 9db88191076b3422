"""Findings for the hub tests, built the way analyses build them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mamori.core import Compliance, Finding, Mitre, Resource, Severity

ACCOUNT = "111111111111"
OTHER_ACCOUNT = "222222222222"
T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def posture(
    name: str = "bucket-1",
    *,
    status: str = "FAILED",
    account: str = ACCOUNT,
    region: str = "us-east-1",
    generator: str = "s3.bucket_public_access_blocked",
    severity: str = "HIGH",
    title: str | None = None,
    resource_type: str = "AwsS3Bucket",
    observed: datetime = T0,
    source: str = "posture",
) -> Finding:
    """A posture control evaluated on one resource."""
    return Finding.build(
        generator_id=generator,
        resources=[Resource(type=resource_type, id=f"arn:aws:s3:::{name}", region=region)],
        account_id=account,
        region=region,
        source=source,
        types=["Software and Configuration Checks/AWS Security Best Practices"],
        severity=Severity.of(severity),
        title=title or f"S3 bucket {name} blocks public access",
        compliance=Compliance(status=status, controls={"cis-aws-foundations-3.0.0": ["2.1.4"]}),
        first_observed_at=observed,
        last_observed_at=observed,
        created_at=observed,
        updated_at=observed,
    )


def detection(
    name: str = "AKIAEXAMPLE",
    *,
    account: str = ACCOUNT,
    region: str = "us-east-1",
    observed: datetime = T0,
    count: int = 1,
    until: datetime | None = None,
) -> Finding:
    """A threat detection: no compliance status, repeats aggregate in `count`; `count`
    records from `observed` to `until` (the same moment if not given)."""
    return Finding.build(
        generator_id="detect.root_console_login",
        resources=[Resource(type="AwsIamAccessKey", id=name, region=region)],
        account_id=account,
        region=region,
        source="detect",
        types=["TTPs/Initial Access/Policy:IAMUser-RootCredentialUsage"],
        severity=Severity.of("CRITICAL"),
        title=f"Root credentials used ({name})",
        first_observed_at=observed,
        last_observed_at=until or observed,
        created_at=observed,
        updated_at=observed,
        count=count,
        evidence={"sourceIPAddress": "198.51.100.7", "events": count},
        mitre=[Mitre(tactic="Initial Access", technique_id="T1078.004")],
    )
