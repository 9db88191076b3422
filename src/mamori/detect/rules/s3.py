"""S3 rules: bucket and account protections removed (management events) and unusual object
deletion, reads and callers (S3 data events)."""

# ruff: noqa: S608 - rule SQL is assembled from constants written here, never from user input

from __future__ import annotations

from mamori.detect.rules.base import (
    EVENT_DETAIL,
    LEARNED,
    RP,
    SUCCESS,
    Rule,
    burst_sql,
    event_rule,
    events_matched,
    finding_sql,
    register,
    requested,
    window_start,
)
from mamori.detect.rules.cloudtrail_access import S3_SOURCE, intel_caller_rules, pentest_rules

_BUCKET = requested("bucketName")
_BPA_OFF = (
    f"regexp_matches({RP}, '\"(BlockPublicAcls|IgnorePublicAcls|BlockPublicPolicy"
    "|RestrictPublicBuckets)\"\\s*:\\s*false')"
)
_POLICY_WEAKENING = ("TA0005 Defense Evasion", "T1562", "Impair Defenses")
_PUBLIC_FIX = (
    "Turn S3 Block Public Access back on for the bucket and the account, and check what was "
    "read while it was off (S3 data events, server access logs)."
)


def _bpa_rule(level: str, put: str, delete: str, resource: str) -> None:
    event_rule(
        f"Policy:S3/{level}BlockPublicAccessDisabled",
        where=f"{S3_SOURCE} AND {SUCCESS} AND (e.event_name = '{delete}'"
        f" OR (e.event_name = '{put}' AND {_BPA_OFF}))",
        resource=resource,
        severity=2.0,
        tactic=_POLICY_WEAKENING[0],
        technique_id=_POLICY_WEAKENING[1],
        technique=_POLICY_WEAKENING[2],
        title=f"S3 Block Public Access was turned off ({level.lower()})",
        description=f"A {level.lower()}-level S3 Block Public Access setting was turned off "
        "or removed, so policies or ACLs can make data public.",
        remediation=_PUBLIC_FIX,
        resource_type="AwsS3Bucket" if level == "Bucket" else "AwsS3AccountPublicAccessBlock",
    )


_bpa_rule("Bucket", "PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock", _BUCKET)
_bpa_rule(
    "Account", "PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock", "e.account_id"
)

_ANYONE = (
    f'(regexp_matches({RP}, \'"Principal"\\s*:\\s*("\\*"|\\{{\\s*"AWS"\\s*:\\s*\\[?\\s*"\\*")\')'
    f" AND NOT regexp_matches({RP}, '\"Condition\"'))"
    f' OR regexp_matches({RP}, \'global/AllUsers|"x-amz-acl"\\s*:\\s*\\[?\\s*"public-read\')'
)
event_rule(
    "Policy:S3/BucketAnonymousAccessGranted",
    where=f"{S3_SOURCE} AND {SUCCESS} AND e.event_name IN ('PutBucketPolicy', 'PutBucketAcl')"
    f" AND ({_ANYONE})",
    resource=_BUCKET,
    severity=7.0,
    tactic="TA0010 Exfiltration",
    technique_id="T1530",
    technique="Data from Cloud Storage",
    title="A bucket was opened to anonymous access",
    description="A bucket policy allowing any principal without conditions, or an ACL "
    "granting AllUsers, was put on a bucket: anyone on the internet can reach it.",
    remediation=_PUBLIC_FIX,
    resource_type="AwsS3Bucket",
)

event_rule(
    "Policy:S3/BucketPublicAccessGranted",
    where=f"{S3_SOURCE} AND {SUCCESS} AND e.event_name = 'PutBucketAcl'"
    f" AND regexp_matches({RP}, 'global/AuthenticatedUsers|authenticated-read')",
    resource=_BUCKET,
    severity=5.0,
    tactic="TA0010 Exfiltration",
    technique_id="T1530",
    technique="Data from Cloud Storage",
    title="A bucket was opened to every AWS user",
    description="A bucket ACL granted access to AuthenticatedUsers, which is any AWS account.",
    remediation=_PUBLIC_FIX,
    resource_type="AwsS3Bucket",
)

event_rule(
    "Stealth:S3/ServerAccessLoggingDisabled",
    where=f"{S3_SOURCE} AND {SUCCESS} AND e.event_name = 'PutBucketLogging'"
    f" AND NOT regexp_matches(coalesce({RP}, ''), 'LoggingEnabled')",
    resource=_BUCKET,
    severity=2.0,
    tactic="TA0005 Defense Evasion",
    technique_id="T1562.008",
    technique="Impair Defenses: Disable or Modify Cloud Logs",
    title="S3 server access logging was turned off",
    description="Server access logging was disabled on a bucket, removing the record of "
    "requests made to it.",
    remediation="Re-enable server access logging and find out who disabled it.",
    resource_type="AwsS3Bucket",
)

_DATA = "coalesce(e.management_event, true) = false AND " + S3_SOURCE
register(
    Rule(
        finding_type="Impact:S3/ObjectDeletion.Unusual",
        severity=5.0,
        data_source="s3-data",
        tactic="TA0040 Impact",
        technique_id="T1485",
        technique="Data Destruction",
        title="Unusually many objects deleted from a bucket",
        description="One principal deleted 50 or more objects from a bucket within an hour, "
        "which it had not done before (Mamori's own finding type; a principal that deletes "
        "like this every day, such as a backup job, is its own baseline).",
        remediation="Check the deletions with the principal's owner; restore from versions or "
        "backups and enable versioning and MFA delete on important buckets.",
        sql=burst_sql(
            events_matched(
                f"{_DATA} AND {SUCCESS} AND e.event_name IN ('DeleteObject', 'DeleteObjects')",
                _BUCKET,
            ),
            metric="count(*)",
            threshold=50,
            detail=EVENT_DETAIL,
        ),
        resource_type="AwsS3Bucket",
    )
)

# Daily GetObject count per principal and bucket, against that principal's busiest earlier day.
_GETS = events_matched(
    f"{_DATA} AND {SUCCESS} AND e.event_name = 'GetObject'",
    _BUCKET,
    {
        "bytes_out": "TRY_CAST(json_extract_string(e.additional_event_data,"
        " '$.bytesTransferredOut') AS BIGINT)"
    },
)
_DAILY = (
    f"g AS (SELECT *, {window_start('ts', 'day')} AS day FROM ({_GETS}) x),"
    " d AS (SELECT account_id, resource_id, actor, day, count(*) AS n FROM g"
    " GROUP BY account_id, resource_id, actor, day),"
    # date_trunc for the one value here: Spark refuses time_floor's lambda around a subquery.
    f" hot AS (SELECT d.* FROM d WHERE d.n >= 100 AND d.day >= date_trunc('day', {LEARNED})"
    " AND d.n >= 10 * coalesce((SELECT max(p.n) FROM d p WHERE p.account_id = d.account_id"
    " AND p.actor = d.actor AND p.resource_id = d.resource_id AND p.day < d.day), 0))"
)
register(
    Rule(
        finding_type="Exfiltration:S3/AnomalousBehavior",
        severity=8.0,
        data_source="s3-data",
        tactic="TA0010 Exfiltration",
        technique_id="T1530",
        technique="Data from Cloud Storage",
        title="A principal read far more objects than usual",
        description="On one day a principal read at least 100 objects from a bucket and ten "
        "times more than on any earlier day.",
        remediation="Confirm the reads with the principal's owner; if not expected, revoke its "
        "credentials and assess the data read.",
        sql=finding_sql(
            "SELECT g.* FROM g JOIN hot USING (account_id, resource_id, actor, day)",
            {**EVENT_DETAIL, "bytes_out": "sum(bytes_out)"},
            ctes=_DAILY,
            group=["day"],
        ),
        resource_type="AwsS3Bucket",
    )
)

intel_caller_rules(
    "S3",
    S3_SOURCE,
    _BUCKET,
    "AwsS3Bucket",
    data_source="s3-data",
    what="An S3 API",
    remediation="Check what was read or written from this address; block it with a bucket policy.",
    custom_severity=8.0,
)
pentest_rules("S3", S3_SOURCE, _BUCKET, "AwsS3Bucket")
