"""CloudTrail checks (CIS AWS Foundations v3.0.0 section 3).

The helpers `active_trails` and `logs_management_events` are also what the CloudWatch
monitoring checks (CIS 4.x) use to find the log group that CloudTrail feeds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from mamori.core import DataUnavailable, age_days
from mamori.inventory.snapshot import Res
from mamori.posture.policy import public_statements
from mamori.posture.registry import ACCOUNT, CheckContext, Verdict, check, failed, passed, verdict

_CT_DOC = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/"
_CIS = "https://www.cisecurity.org/benchmark/amazon_web_services"
_PUBLIC_GROUPS = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)
# A classic data resource value that stands for every bucket ("arn:aws:s3" or "arn:aws:s3:::").
_ALL_BUCKETS = re.compile(r"arn:[a-z-]+:s3(:::)?")


# -- trails of the whole account -------------------------------------------------------------


def _listed_multi_region(ctx: CheckContext) -> dict[str, str]:
    """ARN -> home region of every multi-region trail that some collected region sees."""
    return {
        str(t.get("TrailARN")): str(t.get("HomeRegion"))
        for _, trails in ctx.across_regions("cloudtrail", "all_trails")
        for t in trails
        if t.get("IsMultiRegionTrail") is True
    }


def active_trails(
    ctx: CheckContext, accept: Callable[[Res], bool]
) -> tuple[list[Res], list[Res], list[str]]:
    """Split the account's trails for an account-wide control.

    Returns (trails that are multi-region, logging and pass `accept`; the other trails read;
    descriptions of trails that could not be assessed). A multi-region trail seen in a region's
    listing but not inspected (homed in a region that was not scanned, or an organization
    trail owned by the management account) counts as not assessed: it may be the one that
    satisfies the control."""
    good: list[Res] = []
    other: list[Res] = []
    unknown: list[str] = []
    seen: set[str] = set()
    for _, trails in ctx.across_regions("cloudtrail", "trails"):
        for trail in trails:
            seen.add(trail.arn)
            try:
                ok = is_active(trail) and accept(trail)
            except DataUnavailable as exc:
                unknown.append(f"{trail.name} ({exc})")
                continue
            (good if ok else other).append(trail)
    for arn, home in sorted(_listed_multi_region(ctx).items()):
        if arn not in seen:
            unknown.append(f"{arn} ({_not_inspected(ctx, arn, home)})")
    return good, other, unknown


def _not_inspected(ctx: CheckContext, arn: str, home: str) -> str:
    if f":{ctx.account_id}:" not in arn:
        return "an organization trail owned by another account, not inspected from this one"
    return f"homed in {home}, a region that was not scanned"


def settle(what: str, good: list[Res], unknown: list[str]) -> list[Res]:
    """The qualifying trails; raises DataUnavailable when none qualifies but some trail could
    not be assessed, since that one might have."""
    if not good and unknown:
        raise DataUnavailable(what, "Incomplete", "; ".join(unknown)[:900])
    return good


def is_active(trail: Res) -> bool:
    return trail["IsMultiRegionTrail"] is True and trail["Status"].get("IsLogging") is True


def why_inactive(trail: Res) -> str:
    if trail["IsMultiRegionTrail"] is not True:
        return "single-region"
    if trail["Status"].get("IsLogging") is not True:
        return "not logging"
    return "multi-region and logging"


def _field_selectors(selector: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(f.get("Field")): f for f in selector.get("FieldSelectors", [])}


def logs_management_events(trail: Res) -> bool:
    """Read and write management events are recorded (CIS 3.1's selector condition)."""
    classic = trail["EventSelectors"]
    advanced = trail["AdvancedEventSelectors"]
    if not classic and not advanced and trail.get("HasCustomEventSelectors") is False:
        # A trail without custom selectors records all read and write management events
        # (AWS's documented default).
        return True
    if any(
        s.get("IncludeManagementEvents") is True and s.get("ReadWriteType") == "All"
        for s in classic
    ):
        return True
    for selector in advanced:
        fields = _field_selectors(selector)
        category = fields.get("eventCategory", {}).get("Equals")
        if category == ["Management"] and "readOnly" not in fields:
            return True
    return False


def _logs_s3_objects(trail: Res, read: bool) -> bool:
    """S3 object-level events of every bucket, for reads (`read`) or writes."""
    wanted = ("All", "ReadOnly" if read else "WriteOnly")
    for selector in trail["EventSelectors"]:
        if selector.get("ReadWriteType") not in wanted:
            continue
        for resource in selector.get("DataResources", []):
            if resource.get("Type") == "AWS::S3::Object" and any(
                _ALL_BUCKETS.fullmatch(str(v)) for v in resource.get("Values", [])
            ):
                return True
    for selector in trail["AdvancedEventSelectors"]:
        fields = _field_selectors(selector)
        if fields.get("resources.type", {}).get("Equals") != ["AWS::S3::Object"]:
            continue
        if "resources.ARN" in fields:
            continue  # narrowed to some buckets
        read_only = fields.get("readOnly")
        if read_only is None or read_only.get("Equals") == ["true" if read else "false"]:
            return True
    return False


def describe(trails: list[Res], why: Callable[[Res], str]) -> str:
    return ", ".join(f"{t.name} ({why(t)})" for t in trails) or "no trail"


@check(
    id="cloudtrail.multi_region_enabled",
    service="cloudtrail",
    over=ACCOUNT,
    severity="high",
    title="At least one multi-Region CloudTrail trail should log all management events",
    resource_type="AwsAccount",
    description="A multi-Region trail that records read and write management events gives an "
    "audit history of every API call in every Region, including Regions not in "
    "use (CIS 3.1).",
    remediation="Create a multi-Region trail (or update one) with management events set to "
    "Read and Write, and start logging.",
    remediation_cli="aws cloudtrail create-trail --name <trail> --s3-bucket-name <bucket> "
    "--is-multi-region-trail && aws cloudtrail start-logging --name <trail>",
    references=[_CT_DOC + "receive-cloudtrail-log-files-from-multiple-regions.html", _CIS],
)
def multi_region_enabled(ctx: CheckContext) -> Verdict:
    good, other, unknown = active_trails(ctx, logs_management_events)
    good = settle("cloudtrail.trails", good, unknown)
    if good:
        return passed(
            f"trail {good[0].name} is multi-region, logging and records all management events",
            trails=[t.arn for t in good],
        )

    def why(trail: Res) -> str:
        if is_active(trail):
            return "does not record all read/write management events"
        return why_inactive(trail)

    return failed(f"no multi-region trail logs all management events: {describe(other, why)}")


def _s3_object_events(ctx: CheckContext, read: bool) -> Verdict:
    kind = "read" if read else "write"
    good, other, unknown = active_trails(ctx, lambda t: _logs_s3_objects(t, read))
    good = settle("cloudtrail.trails", good, unknown)
    if good:
        return passed(
            f"trail {good[0].name} logs S3 object-level {kind} events of all buckets",
            trails=[t.arn for t in good],
        )

    def why(trail: Res) -> str:
        return f"no {kind} data events for all buckets" if is_active(trail) else why_inactive(trail)

    return failed(
        f"no multi-region trail logs S3 object-level {kind} events: {describe(other, why)}"
    )


_DATA_EVENTS_CLI = (
    "aws cloudtrail put-event-selectors --trail-name <trail> --event-selectors "
    '\'[{"ReadWriteType":"All","IncludeManagementEvents":true,'
    '"DataResources":[{"Type":"AWS::S3::Object",'
    '"Values":["arn:aws:s3"]}]}]\''
)


@check(
    id="cloudtrail.s3_object_write_events",
    service="cloudtrail",
    over=ACCOUNT,
    severity="medium",
    title="Object-level logging for write events should be enabled for S3 buckets",
    resource_type="AwsAccount",
    description="S3 data events for writes (PutObject, DeleteObject...) record who changed "
    "which object, which management events do not (CIS 3.8).",
    remediation="Add an S3 data event selector for all buckets (write or all events) to a "
    "multi-Region trail.",
    remediation_cli=_DATA_EVENTS_CLI,
    references=[_CT_DOC + "logging-data-events-with-cloudtrail.html", _CIS],
)
def s3_object_write_events(ctx: CheckContext) -> Verdict:
    return _s3_object_events(ctx, read=False)


@check(
    id="cloudtrail.s3_object_read_events",
    service="cloudtrail",
    over=ACCOUNT,
    severity="medium",
    title="Object-level logging for read events should be enabled for S3 buckets",
    resource_type="AwsAccount",
    description="S3 data events for reads (GetObject...) show who read which object, the "
    "evidence needed to scope a data exfiltration (CIS 3.9).",
    remediation="Add an S3 data event selector for all buckets (read or all events) to a "
    "multi-Region trail.",
    remediation_cli=_DATA_EVENTS_CLI,
    references=[_CT_DOC + "logging-data-events-with-cloudtrail.html", _CIS],
)
def s3_object_read_events(ctx: CheckContext) -> Verdict:
    return _s3_object_events(ctx, read=True)


# -- per trail ---------------------------------------------------------------------------------


@check(
    id="cloudtrail.log_file_validation",
    service="cloudtrail",
    over="trails",
    severity="medium",
    title="CloudTrail log file validation should be enabled",
    resource_type="AwsCloudTrailTrail",
    description="Log file validation writes signed digest files, so that tampering with or "
    "deleting delivered log files can be detected (CIS 3.2).",
    remediation="Enable log file validation on the trail.",
    remediation_cli="aws cloudtrail update-trail --name <trail> --enable-log-file-validation",
    references=[_CT_DOC + "cloudtrail-log-file-validation-intro.html", _CIS],
)
def log_file_validation(trail: Res, ctx: CheckContext) -> Verdict:
    return verdict(
        trail["LogFileValidationEnabled"] is True,
        "log file validation is enabled",
        "log file validation is disabled",
    )


def _trail_bucket(trail: Res, ctx: CheckContext) -> Res:
    name = trail["S3BucketName"]
    for bucket in ctx.resources("s3", "buckets"):
        if bucket.get("Name") == name:
            return bucket
    raise DataUnavailable(
        f"s3 bucket {name}",
        "NotInAccount",
        "the trail's bucket is not among this account's buckets; it is likely owned by "
        "another account (a central log archive), scan that account to assess it",
    )


@check(
    id="cloudtrail.bucket_access_logging",
    service="cloudtrail",
    over="trails",
    severity="medium",
    requires=["s3"],
    title="S3 bucket access logging should be enabled on the CloudTrail S3 bucket",
    resource_type="AwsCloudTrailTrail",
    description="Server access logs of the bucket that holds CloudTrail logs show who read or "
    "tried to alter the audit trail itself (CIS 3.4).",
    remediation="Enable server access logging on the trail's bucket, to a different bucket.",
    remediation_cli="aws s3api put-bucket-logging --bucket <trail-bucket> --bucket-logging-status"
    ' \'{"LoggingEnabled":{"TargetBucket":"<log-bucket>",'
    '"TargetPrefix":"<trail-bucket>/"}}\'',
    references=["https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html", _CIS],
)
def bucket_access_logging(trail: Res, ctx: CheckContext) -> Verdict:
    bucket = _trail_bucket(trail, ctx)
    target = (bucket["Logging"] or {}).get("TargetBucket")
    return verdict(
        bool(target),
        f"bucket {bucket.name} logs access to {target}",
        f"bucket {bucket.name} has no server access logging",
        bucket=bucket.name,
    )


def _blocked(ctx: CheckContext, bucket: Res, setting: str) -> bool:
    """Block Public Access `setting` is on for the account or for the bucket."""
    configs = (ctx.data("s3", "account_public_access_block"), bucket["PublicAccessBlock"])
    return any(isinstance(c, dict) and c.get(setting) is True for c in configs)


@check(
    id="cloudtrail.bucket_not_public",
    service="cloudtrail",
    over="trails",
    severity="critical",
    requires=["s3"],
    title="The S3 bucket that stores CloudTrail logs should not be publicly accessible",
    resource_type="AwsCloudTrailTrail",
    description="CloudTrail logs map an account's users, resources and activity; a public log "
    "bucket hands that map to anyone, and may let them erase the evidence.",
    remediation="Remove the public policy statements and ACL grants of the trail's bucket, and "
    "turn on Block Public Access for it.",
    remediation_cli="aws s3api put-public-access-block --bucket <trail-bucket> "
    "--public-access-block-configuration BlockPublicAcls=true,"
    "IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
    references=[_CT_DOC + "create-s3-bucket-policy-for-cloudtrail.html", _CIS],
)
def bucket_not_public(trail: Res, ctx: CheckContext) -> Verdict:
    bucket = _trail_bucket(trail, ctx)
    policy = bucket["Policy"]
    sids = public_statements(policy, f"bucket policy of {bucket.name}") if policy else []
    # RestrictPublicBuckets confines a public policy to the owner's account and AWS services;
    # IgnorePublicAcls makes S3 disregard public grants.
    if sids and _blocked(ctx, bucket, "RestrictPublicBuckets"):
        sids = []
    grants = sorted(
        {
            str(g.get("Permission"))
            for g in bucket["Acl"].get("Grants", [])
            if g.get("Grantee", {}).get("URI") in _PUBLIC_GROUPS
        }
    )
    if grants and _blocked(ctx, bucket, "IgnorePublicAcls"):
        grants = []
    problems = ([f"policy statement(s) {', '.join(sids)} allow anyone"] if sids else []) + (
        [f"ACL grants {', '.join(grants)} to a public group"] if grants else []
    )
    return verdict(
        not problems,
        f"bucket {bucket.name} is not public",
        f"bucket {bucket.name}: {'; '.join(problems)}",
        bucket=bucket.name,
        statements=sids,
        grants=grants,
    )


@check(
    id="cloudtrail.kms_encryption",
    service="cloudtrail",
    over="trails",
    severity="medium",
    title="CloudTrail logs should be encrypted at rest with KMS keys",
    resource_type="AwsCloudTrailTrail",
    description="SSE-KMS adds a key policy between a reader and the logs, and records every "
    "decryption in CloudTrail itself (CIS 3.5).",
    remediation="Configure the trail to encrypt log files with a customer managed KMS key.",
    remediation_cli="aws cloudtrail update-trail --name <trail> --kms-key-id <key-arn>",
    references=[_CT_DOC + "encrypting-cloudtrail-log-files-with-aws-kms.html", _CIS],
)
def kms_encryption(trail: Res, ctx: CheckContext) -> Verdict:
    key = trail.get("KmsKeyId")
    return verdict(
        bool(key),
        f"log files are encrypted with {key}",
        "log files are not encrypted with a KMS key",
    )


@check(
    id="cloudtrail.trail_logging",
    service="cloudtrail",
    over="trails",
    severity="high",
    title="CloudTrail trails should be logging",
    resource_type="AwsCloudTrailTrail",
    description="A trail whose logging was stopped records nothing; stopping it is a common "
    "step of an attacker covering their tracks.",
    remediation="Start logging on the trail (and find out who stopped it).",
    remediation_cli="aws cloudtrail start-logging --name <trail>",
    references=[_CT_DOC + "cloudtrail-turning-off-logging.html"],
)
def trail_logging(trail: Res, ctx: CheckContext) -> Verdict:
    return verdict(
        trail["Status"].get("IsLogging") is True, "the trail is logging", "logging is stopped"
    )


@check(
    id="cloudtrail.cloudwatch_logs_integration",
    service="cloudtrail",
    over="trails",
    severity="low",
    title="CloudTrail trails should deliver to CloudWatch Logs",
    resource_type="AwsCloudTrailTrail",
    description="Sending events to CloudWatch Logs allows real-time metric filters and alarms "
    "on API activity (the CIS 4.x monitoring controls depend on it).",
    remediation="Configure the trail with a CloudWatch Logs log group and a role allowed to "
    "write to it.",
    remediation_cli="aws cloudtrail update-trail --name <trail> --cloud-watch-logs-log-group-arn"
    " <log-group-arn> --cloud-watch-logs-role-arn <role-arn>",
    references=[_CT_DOC + "send-cloudtrail-events-to-cloudwatch-logs.html"],
)
def cloudwatch_logs_integration(trail: Res, ctx: CheckContext) -> Verdict:
    group = trail.get("CloudWatchLogsLogGroupArn")
    if not group:
        return failed("no CloudWatch Logs log group is configured")
    delivered = trail["Status"].get("LatestCloudWatchLogsDeliveryTime")
    age = age_days(delivered)
    if age is None:
        # AWS gives no delivery time before the first delivery; only the setting is judged.
        return passed(f"delivers to {group} (no delivery reported yet)", log_group=group)
    return verdict(
        age <= 1.0,
        f"delivers to {group}, last delivery {delivered}",
        f"configured for {group} but nothing delivered since {delivered}",
        log_group=group,
    )
