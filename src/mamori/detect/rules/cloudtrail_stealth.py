"""CloudTrail rules: logging and security monitoring switched off or weakened, and the account's
guard rails loosened (Defense Evasion)."""

from __future__ import annotations

from mamori.detect.rules.base import RP, SUCCESS, event_rule, requested, sql_list

_EVASION = "TA0005 Defense Evasion"


def _calls(source: str, names: tuple[str, ...]) -> str:
    return f"e.event_source = '{source}' AND e.event_name IN {sql_list(names)} AND {SUCCESS}"


def _id_in_request(pattern: str) -> str:
    """The first id of the given shape in the request, else the account (the resource)."""
    return f"coalesce(nullif(regexp_extract({RP}, '({pattern})', 1), ''), e.account_id)"


event_rule(
    "Stealth:IAMUser/CloudTrailLoggingDisabled",
    where=_calls("cloudtrail.amazonaws.com", ("StopLogging", "DeleteTrail")),
    resource=requested("name"),
    severity=2.0,
    tactic=_EVASION,
    technique_id="T1562.008",
    technique="Impair Defenses: Disable or Modify Cloud Logs",
    title="CloudTrail logging was stopped or a trail deleted",
    description="A principal stopped a CloudTrail trail's logging or deleted the trail, which "
    "hides its later API activity.",
    remediation="Restart logging (StartLogging) or recreate the trail; find out who made the "
    "call and why; deny cloudtrail:StopLogging and DeleteTrail with an SCP.",
    resource_type="AwsCloudTrailTrail",
)

# Weakening without stopping: management events excluded, read-write events narrowed, global
# or multi-region coverage or log file validation turned off, or a short lifecycle on the bucket
# a trail writes to.
_SELECTORS_WEAKENED = (
    f"regexp_matches({RP}, '\"includeManagementEvents\"\\s*:\\s*false')"
    f' OR regexp_matches({RP}, \'"readWriteType"\\s*:\\s*"(ReadOnly|WriteOnly)"\')'
)
_TRAIL_WEAKENED = (
    f"regexp_matches({RP}, '\"(isMultiRegionTrail|includeGlobalServiceEvents"
    "|enableLogFileValidation)\"\\s*:\\s*false')"
)
_TRAIL_BUCKETS = (
    "SELECT json_extract_string(t.request_parameters, '$.s3BucketName') FROM events t"
    " WHERE t.event_source = 'cloudtrail.amazonaws.com'"
    " AND t.event_name IN ('CreateTrail', 'UpdateTrail')"
)
event_rule(
    "Stealth:IAMUser/CloudTrailConfigurationWeakened",
    where=f"{SUCCESS} AND ("
    f"(e.event_source = 'cloudtrail.amazonaws.com' AND ("
    f"(e.event_name = 'PutEventSelectors' AND ({_SELECTORS_WEAKENED}))"
    f" OR (e.event_name = 'UpdateTrail' AND {_TRAIL_WEAKENED})))"
    " OR (e.event_source = 's3.amazonaws.com'"
    " AND e.event_name IN ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration')"
    f" AND (json_extract_string({RP}, '$.bucketName') IN ({_TRAIL_BUCKETS})"
    f" OR json_extract_string({RP}, '$.bucketName') ILIKE '%cloudtrail%')))",
    resource=f"coalesce(json_extract_string({RP}, '$.trailName'),"
    f" json_extract_string({RP}, '$.name'), json_extract_string({RP}, '$.bucketName'))",
    severity=5.0,
    tactic=_EVASION,
    technique_id="T1562.008",
    technique="Impair Defenses: Disable or Modify Cloud Logs",
    title="CloudTrail coverage was narrowed",
    description="A trail's event selectors or settings were changed so that it records less "
    "(management or write events excluded, single region, no global events, no log file "
    "validation), or a lifecycle rule was put on the bucket that stores the trail's logs.",
    remediation="Restore the trail's selectors and settings, review lifecycle rules on the log "
    "bucket, and restrict cloudtrail:PutEventSelectors and UpdateTrail to administrators.",
    resource_type="AwsCloudTrailTrail",
)

event_rule(
    "Stealth:IAMUser/FlowLogsDeleted",
    where=_calls("ec2.amazonaws.com", ("DeleteFlowLogs",)),
    resource=_id_in_request("fl-[0-9a-f]+"),
    severity=5.0,
    tactic=_EVASION,
    technique_id="T1562.008",
    technique="Impair Defenses: Disable or Modify Cloud Logs",
    title="VPC flow logs were deleted",
    description="A principal deleted VPC flow logs, which removes the network record that "
    "threat detection reads.",
    remediation="Recreate the flow logs, check who deleted them, and deny ec2:DeleteFlowLogs "
    "outside the network team with an SCP.",
    resource_type="Other",
)

event_rule(
    "Stealth:IAMUser/DNSQueryLoggingDeleted",
    where=_calls(
        "route53resolver.amazonaws.com",
        ("DeleteResolverQueryLogConfig", "DisassociateResolverQueryLogConfig"),
    ),
    resource=_id_in_request("rqlc-[0-9a-z]+"),
    severity=5.0,
    tactic=_EVASION,
    technique_id="T1562.008",
    technique="Impair Defenses: Disable or Modify Cloud Logs",
    title="Route 53 Resolver query logging was removed",
    description="A Resolver query logging configuration was deleted or detached from a VPC, "
    "so DNS lookups from it are no longer recorded.",
    remediation="Recreate or reassociate the query logging configuration and restrict "
    "route53resolver:Delete*/Disassociate* to administrators.",
    resource_type="Other",
)

event_rule(
    "Stealth:IAMUser/GuardDutyDisabled",
    where=f"{SUCCESS} AND e.event_source = 'guardduty.amazonaws.com' AND ("
    "e.event_name IN ('DeleteDetector', 'StopMonitoringMembers', 'DeleteMembers',"
    " 'DisassociateFromMasterAccount', 'DisassociateFromAdministratorAccount')"
    f" OR (e.event_name = 'UpdateDetector' AND regexp_matches({RP}, '\"enable\"\\s*:\\s*false')))",
    resource=requested("detectorId"),
    severity=8.0,
    tactic=_EVASION,
    technique_id="T1562.001",
    technique="Impair Defenses: Disable or Modify Tools",
    title="GuardDuty was disabled or detached",
    description="A GuardDuty detector was deleted or suspended, or member accounts were "
    "detached from the administrator, switching off managed threat detection.",
    remediation="Re-enable the detector or membership, investigate the caller, and protect "
    "GuardDuty with an SCP that denies these actions outside the security account.",
    resource_type="Other",
)

event_rule(
    "Stealth:IAMUser/SecurityHubDisabled",
    where=_calls(
        "securityhub.amazonaws.com",
        ("DisableSecurityHub", "BatchDisableStandards", "DisableImportFindingsForProduct"),
    ),
    resource="e.account_id",
    severity=5.0,
    tactic=_EVASION,
    technique_id="T1562.001",
    technique="Impair Defenses: Disable or Modify Tools",
    title="Security Hub or its standards were disabled",
    description="Security Hub was disabled, or standards or finding imports were switched "
    "off, so posture and threat findings stop being collected.",
    remediation="Re-enable Security Hub and the standards; restrict securityhub:Disable* and "
    "BatchDisableStandards with an SCP.",
    resource_type="Other",
)

event_rule(
    "Stealth:IAMUser/ConfigRecorderStopped",
    where=_calls(
        "config.amazonaws.com",
        ("StopConfigurationRecorder", "DeleteConfigurationRecorder", "DeleteDeliveryChannel"),
    ),
    resource="coalesce(json_extract_string(e.request_parameters, '$.configurationRecorderName'),"
    " json_extract_string(e.request_parameters, '$.deliveryChannelName'), e.account_id)",
    severity=5.0,
    tactic=_EVASION,
    technique_id="T1562.001",
    technique="Impair Defenses: Disable or Modify Tools",
    title="AWS Config recording was stopped",
    description="The AWS Config recorder was stopped or deleted, or its delivery channel "
    "removed, so configuration changes are no longer recorded.",
    remediation="Restart the configuration recorder and restore the delivery channel; deny "
    "these actions outside administrators with an SCP.",
    resource_type="Other",
)

# Weak: deleted, shorter than 14 characters, or a character class no longer required.
_WEAK_POLICY = (
    f"coalesce(TRY_CAST(json_extract_string({RP}, '$.minimumPasswordLength') AS INTEGER), 0)"
    " < 14 OR "
    + " OR ".join(
        f"coalesce(json_extract_string({RP}, '$.{flag}'), 'false') <> 'true'"
        for flag in (
            "requireSymbols",
            "requireNumbers",
            "requireUppercaseCharacters",
            "requireLowercaseCharacters",
        )
    )
)
event_rule(
    "Stealth:IAMUser/PasswordPolicyChange",
    where=f"e.event_source = 'iam.amazonaws.com' AND {SUCCESS} AND ("
    "e.event_name = 'DeleteAccountPasswordPolicy'"
    f" OR (e.event_name = 'UpdateAccountPasswordPolicy' AND ({_WEAK_POLICY})))",
    resource="e.account_id",
    detail={"request": "any_value(request_parameters)"},
    extra={"request_parameters": "e.request_parameters"},
    severity=2.0,
    tactic=_EVASION,
    technique_id="T1556",
    technique="Modify Authentication Process",
    title="The account password policy was weakened",
    description="The IAM account password policy was deleted or set below a strong baseline "
    "(14 characters, all character classes required).",
    remediation="Restore a strong password policy and check which principal changed it.",
    resource_type="Other",
)

event_rule(
    "Stealth:IAMUser/LogGroupDeleted",
    where=_calls("logs.amazonaws.com", ("DeleteLogGroup", "DeleteLogStream")),
    resource=requested("logGroupName"),
    severity=5.0,
    tactic=_EVASION,
    technique_id="T1070",
    technique="Indicator Removal",
    title="A CloudWatch Logs group or stream was deleted",
    description="Log data was deleted from CloudWatch Logs, which can remove traces of activity.",
    remediation="Check whether the deletion was planned; protect log groups with an SCP and "
    "export logs to a separate account.",
    resource_type="Other",
)
