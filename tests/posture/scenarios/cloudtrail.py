"""CloudTrail scenarios."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.posture.harness import Env, scenario

_WRITE_SELECTOR = {
    "ReadWriteType": "WriteOnly",
    "IncludeManagementEvents": True,
    "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}],
}
_READ_ADVANCED = {
    "Name": "s3-reads",
    "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "readOnly", "Equals": ["true"]},
    ],
}


def trail(
    env: Env,
    name: str,
    label: str = "main",
    *,
    multi: bool = True,
    logging: bool = True,
    region: str = "us-east-1",
    **params: Any,
) -> str:
    """A trail with its own bucket (created as CloudTrail needs it); returns the TrailARN."""
    bucket = f"{name}-{env.account(label)}"
    s3 = env.client("s3", label, region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    ct = env.client("cloudtrail", label, region)
    arn = ct.create_trail(Name=name, S3BucketName=bucket, IsMultiRegionTrail=multi, **params)[
        "TrailARN"
    ]
    if logging:
        ct.start_logging(Name=name)
    return str(arn)


@scenario("cloudtrail.multi_region_enabled")
def multi_region(env: Env) -> None:
    env.regions = ["us-east-1", "eu-west-1"]
    # A trail without custom selectors records all management events (AWS's default).
    trail(env, "org-audit", "main")
    env.passes(env.account_arn("main"))
    # Homed in the second region, with advanced selectors: seen from both regions.
    trail(env, "audit-adv", "advanced", region="eu-west-1")
    env.client("cloudtrail", "advanced", "eu-west-1").put_event_selectors(
        TrailName="audit-adv",
        AdvancedEventSelectors=[
            {
                "Name": "mgmt",
                "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
            }
        ],
    )
    env.passes(env.account_arn("advanced"), "advanced")
    # Single-region, stopped, and write-only: none is enough.
    trail(env, "local-only", "other", multi=False)
    trail(env, "stopped", "other", logging=False)
    trail(env, "writes-only", "other")
    env.client("cloudtrail", "other").put_event_selectors(
        TrailName="writes-only",
        EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}],
    )
    env.fails(env.account_arn("other"), "other")


@scenario("cloudtrail.s3_object_write_events")
def s3_write_events(env: Env) -> None:
    trail(env, "data-writes", "main")
    env.client("cloudtrail", "main").put_event_selectors(
        TrailName="data-writes", EventSelectors=[_WRITE_SELECTOR]
    )
    env.passes(env.account_arn("main"))
    trail(env, "data-reads", "other")
    env.client("cloudtrail", "other").put_event_selectors(
        TrailName="data-reads", AdvancedEventSelectors=[_READ_ADVANCED]
    )
    env.fails(env.account_arn("other"), "other")


@scenario("cloudtrail.s3_object_read_events")
def s3_read_events(env: Env) -> None:
    trail(env, "data-reads", "main")
    env.client("cloudtrail", "main").put_event_selectors(
        TrailName="data-reads", AdvancedEventSelectors=[_READ_ADVANCED]
    )
    env.passes(env.account_arn("main"))
    trail(env, "data-writes", "other")
    env.client("cloudtrail", "other").put_event_selectors(
        TrailName="data-writes", EventSelectors=[_WRITE_SELECTOR]
    )
    # Reads of one bucket only do not cover the account.
    trail(env, "one-bucket", "other")
    env.client("cloudtrail", "other").put_event_selectors(
        TrailName="one-bucket",
        EventSelectors=[
            {
                "ReadWriteType": "All",
                "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::payroll/"]}],
            }
        ],
    )
    env.fails(env.account_arn("other"), "other")


@scenario("cloudtrail.log_file_validation")
def log_validation(env: Env) -> None:
    env.passes(trail(env, "validated", EnableLogFileValidation=True))
    env.fails(trail(env, "unvalidated"))


@scenario("cloudtrail.bucket_access_logging")
def trail_bucket_logging(env: Env) -> None:
    s3 = env.client("s3")
    s3.create_bucket(Bucket="access-logs")
    s3.put_bucket_acl(
        Bucket="access-logs",
        GrantWrite="uri=http://acs.amazonaws.com/groups/s3/LogDelivery",
        GrantReadACP="uri=http://acs.amazonaws.com/groups/s3/LogDelivery",
    )
    logged = trail(env, "logged")
    s3.put_bucket_logging(
        Bucket=f"logged-{env.account('main')}",
        BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": "access-logs", "TargetPrefix": "trail/"}
        },
    )
    env.passes(logged)
    env.fails(trail(env, "unlogged"))


@scenario("cloudtrail.bucket_not_public")
def trail_bucket_public(env: Env) -> None:
    env.passes(trail(env, "private"))
    exposed = trail(env, "exposed")
    bucket = f"exposed-{env.account('main')}"
    env.client("s3").put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "AnyoneReads",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                    }
                ],
            }
        ),
    )
    env.fails(exposed)
    acl_public = trail(env, "acl-public")
    env.client("s3").put_bucket_acl(Bucket=f"acl-public-{env.account('main')}", ACL="public-read")
    env.fails(acl_public)
    # The same public policy, neutralised by Block Public Access on the bucket.
    restricted = trail(env, "restricted")
    bucket = f"restricted-{env.account('main')}"
    env.client("s3").put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                    }
                ],
            }
        ),
    )
    env.client("s3").put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": False,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": True,
        },
    )
    env.passes(restricted)


@scenario("cloudtrail.kms_encryption")
def trail_kms(env: Env) -> None:
    key = env.client("kms").create_key(Description="cloudtrail")["KeyMetadata"]["Arn"]
    env.passes(trail(env, "encrypted", KmsKeyId=key))
    env.fails(trail(env, "sse-s3-only"))


@scenario("cloudtrail.trail_logging")
def trail_is_logging(env: Env) -> None:
    env.passes(trail(env, "running"))
    stopped = trail(env, "halted")
    env.client("cloudtrail").stop_logging(Name="halted")
    env.fails(stopped)
    env.fails(trail(env, "never-started", logging=False))


@scenario("cloudtrail.cloudwatch_logs_integration")
def trail_cloudwatch(env: Env) -> None:
    logs = env.client("logs")
    logs.create_log_group(logGroupName="trail-events")
    group = f"arn:aws:logs:us-east-1:{env.account('main')}:log-group:trail-events:*"
    role = f"arn:aws:iam::{env.account('main')}:role/trail-to-logs"
    env.passes(
        trail(env, "integrated", CloudWatchLogsLogGroupArn=group, CloudWatchLogsRoleArn=role)
    )
    env.passes(trail(env, "recent", CloudWatchLogsLogGroupArn=group, CloudWatchLogsRoleArn=role))
    stale = trail(env, "stale", CloudWatchLogsLogGroupArn=group, CloudWatchLogsRoleArn=role)
    env.fails(stale)
    env.fails(trail(env, "s3-only"))
    delivered = {"recent": timedelta(hours=2), "stale": timedelta(days=3)}

    # moto reports no CloudWatch Logs delivery time; answer as CloudTrail does for a trail
    # whose last delivery to the log group was that long ago.
    def delivery_time(parsed: dict[str, Any], params: dict[str, Any]) -> None:
        name = str(params.get("Name", "")).rsplit("/", 1)[-1]
        if name in delivered:
            parsed["LatestCloudWatchLogsDeliveryTime"] = datetime.now(UTC) - delivered[name]

    env.amend("cloudtrail", "GetTrailStatus", delivery_time)
