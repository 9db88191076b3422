"""CloudTrail rules about who is calling and from where: root use, console logins, callers on
threat lists, penetration-testing systems, instance credentials used outside the instance."""

from __future__ import annotations

from typing import Any

from mamori.detect.rules.base import (
    EVENT_DETAIL,
    Rule,
    distinct_list,
    event_rule,
    events_matched,
    finding_sql,
    not_trusted,
    register,
)

_ACCESS = "TA0001 Initial Access"
_VALID = ("T1078.004", "Valid Accounts: Cloud Accounts")
LOGIN_OK = (
    "e.event_name = 'ConsoleLogin' AND e.error_code IS NULL"
    " AND coalesce(json_extract_string(e.response_elements, '$.ConsoleLogin'), 'Success')"
    " = 'Success'"
)
S3_SOURCE = "e.event_source = 's3.amazonaws.com'"

event_rule(
    "Policy:IAMUser/RootCredentialUsage",
    where="e.principal_type = 'Root' AND e.invoked_by IS NULL"
    " AND coalesce(e.event_type, '') <> 'AwsServiceEvent'",
    resource="'arn:aws:iam::' || e.account_id || ':root'",
    severity=2.0,
    tactic="TA0004 Privilege Escalation",
    technique_id=_VALID[0],
    technique=_VALID[1],
    title="The root user's credentials were used",
    description="An API call or console sign-in was made with the account's root user, which "
    "has unrestricted access and should be kept for the few tasks that need it.",
    remediation="Confirm the use was intended; enable MFA on root, remove root access keys, "
    "and use IAM roles for day-to-day work.",
    resource_type="AwsIamUser",
)

event_rule(
    "Policy:IAMUser/ConsoleLoginWithoutMFA",
    where=f"{LOGIN_OK} AND e.principal_type IN ('IAMUser', 'Root')"
    " AND json_extract_string(e.additional_event_data, '$.MFAUsed') = 'No'",
    resource="e.principal_arn",
    severity=5.0,
    tactic=_ACCESS,
    technique_id=_VALID[0],
    technique=_VALID[1],
    title="Console sign-in without MFA",
    description="An IAM user or the root user signed in to the console with a password only "
    "(Mamori's own finding type; GuardDuty has none for this).",
    remediation="Require MFA for the user (an IAM policy denying actions without "
    "aws:MultiFactorAuthPresent) or move people to IAM Identity Center.",
    resource_type="AwsIamUser",
)


def intel_caller(finding_type: str, kinds: str, where: str, *, resource: str, **meta: Any) -> Rule:
    """Register a rule for calls whose source IP is on a threat list of the kinds the condition
    `kinds` (over `h.kind`) accepts; trusted IPs never match."""
    hit = f"FROM ip_intel h WHERE h.ip = e.source_ip AND {kinds}"
    matched = events_matched(
        f"{where} AND EXISTS (SELECT 1 {hit})",
        resource,
        {"list_name": f"(SELECT min(h.list_name) {hit})"},
    )
    detail = {**EVENT_DETAIL, "lists": distinct_list("list_name")}
    return register(Rule(finding_type=finding_type, sql=finding_sql(matched, detail), **meta))


_NOT_S3 = "e.event_source <> 's3.amazonaws.com'"
_IAM_RESOURCE = "coalesce(e.principal_arn, e.access_key_id, e.account_id)"
_REMEDIATE_IP = (
    "Check what the principal did from this address; if it was not expected, deactivate "
    "the credentials, rotate them, and block the address."
)


def intel_caller_rules(
    resource_kind: str,
    where: str,
    resource: str,
    resource_type: str,
    *,
    data_source: str,
    what: str,
    remediation: str,
    custom_severity: float,
) -> None:
    """The pair of rules for calls from a Tor exit node and from an address on a custom threat
    list, for one kind of resource ("IAMUser", "S3")."""
    shared: dict[str, Any] = {
        "resource": resource,
        "data_source": data_source,
        "tactic": _ACCESS,
        "remediation": remediation,
        "resource_type": resource_type,
    }
    intel_caller(
        f"UnauthorizedAccess:{resource_kind}/TorIPCaller",
        "h.kind = 'tor'",
        where,
        severity=5.0,
        technique_id="T1090.003",
        technique="Proxy: Multi-hop Proxy",
        title=f"{what} called from a Tor exit node",
        description=f"{what} was called from an IP address on a Tor exit node list, which hides "
        "the caller's real location.",
        **shared,
    )
    intel_caller(
        f"UnauthorizedAccess:{resource_kind}/MaliciousIPCaller.Custom",
        "h.kind <> 'tor'",
        where,
        severity=custom_severity,
        technique_id=_VALID[0],
        technique=_VALID[1],
        title=f"{what} called from an IP address on a custom threat list",
        description=f"{what} was called from an IP address on one of the threat lists loaded.",
        **shared,
    )


intel_caller_rules(
    "IAMUser",
    _NOT_S3,
    _IAM_RESOURCE,
    "AwsIamUser",
    data_source="cloudtrail",
    what="An API",
    remediation=_REMEDIATE_IP,
    custom_severity=5.0,
)


def pentest_rules(resource_kind: str, where: str, resource: str, resource_type: str) -> None:
    """One rule per penetration-testing distribution seen in the user agent."""
    for distro, word in (
        ("KaliLinux", "kali"),
        ("ParrotLinux", "parrot"),
        ("PentooLinux", "pentoo"),
    ):
        event_rule(
            f"PenTest:{resource_kind}/{distro}",
            # The substring test first: it is 25 times cheaper than the regex on every record,
            # and the regex then only sees the few that name the distribution.
            where=f"{where} AND contains(lower(e.user_agent), '{word}')"
            f" AND regexp_matches(lower(e.user_agent), '(^|[^a-z]){word}([^a-z]|$)')",
            resource=resource,
            severity=5.0,
            tactic="TA0007 Discovery",
            technique_id="T1595",
            technique="Active Scanning",
            title=f"API called from a {distro[:-5]} Linux machine",
            description=f"API calls were made with a user agent naming {distro[:-5]} Linux, a "
            "distribution for penetration testing; someone may be probing the account with "
            "stolen or leaked credentials.",
            remediation="Confirm whether an authorised test is running; otherwise deactivate "
            "the credentials and review everything they were used for.",
            resource_type=resource_type,
        )


pentest_rules("IAMUser", _NOT_S3, _IAM_RESOURCE, "AwsIamUser")

# An instance role session (its name is the instance id) calling from a public address that is
# not the one its session first called from: the credentials left the instance.
_INSTANCE_SESSION = "regexp_full_match({}.session_name, 'i-[0-9a-f]{{8}}([0-9a-f]{{9}})?')"
# The session filters repeat the outer query's (same session, so the same answers) so that the
# first address is worked out for instance sessions only, not for every session in the logs.
_FIRST_IP = (
    "SELECT arg_min(f.source_ip, f.event_time) FROM events f"  # noqa: S608 - constants
    f" WHERE f.principal_type = 'AssumedRole' AND {_INSTANCE_SESSION.format('f')}"
    " AND f.account_id = e.account_id AND f.session_issuer_arn = e.session_issuer_arn"
    " AND f.session_name = e.session_name AND is_ip(f.source_ip)"
)
event_rule(
    "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
    where=f"e.principal_type = 'AssumedRole' AND {_INSTANCE_SESSION.format('e')}"
    " AND e.invoked_by IS NULL AND e.vpc_endpoint_id IS NULL"
    " AND is_ip(e.source_ip) AND NOT is_private_ip(e.source_ip)"
    f" AND e.source_ip <> ({_FIRST_IP}) AND {not_trusted('e.source_ip')}",
    resource="coalesce(e.access_key_id, e.principal_arn)",
    detail={"instance_id": "any_value(session_name)", "role": "any_value(role)"},
    extra={"session_name": "e.session_name", "role": "e.session_issuer_arn"},
    severity=8.0,
    tactic="TA0006 Credential Access",
    technique_id="T1552.005",
    technique="Unsecured Credentials: Cloud Instance Metadata API",
    title="Instance credentials used from outside the instance",
    description="Temporary credentials of an EC2 instance's role were used from an internet "
    "address other than the one the instance calls from.",
    remediation="Revoke the role's active sessions (an AWSRevokeOlderSessions deny), find how "
    "the credentials leaked (SSRF, IMDSv1), and require IMDSv2.",
    resource_type="AwsIamAccessKey",
)
