"""Behaviour rules: a principal doing what its baseline says it never did, from where it never
was. They read `baseline_activity` / `baseline_principal` (see mamori.detect.baseline) and stay
silent for a principal until its learning period has passed.

"Never before" is an anti-join: no baseline row for the same principal, dimension and value
first seen a day or more before the record (so that the rest of an intruder's session is
still new). A new place is a new IPv4 /24 (or IPv6 address) that is
not in an AS the principal used before (when an MMDB file gives ASNs), so that a laptop moving
between addresses of its provider is not news.
"""

# ruff: noqa: S608 - rule SQL is assembled from constants written here, never from user input

from __future__ import annotations

from typing import Any

from mamori.detect.baseline import API, PRINCIPAL, SETTLE, agent_family
from mamori.detect.rules.base import (
    SUCCESS,
    distinct_list,
    event_rule,
    not_trusted,
    sql_list,
)
from mamori.detect.rules.cloudtrail_access import LOGIN_OK

_OWN = f"a.account_id = e.account_id AND a.principal = {PRINCIPAL}"
_BEFORE = "a.first_seen < e.event_time"
# What a principal does becomes part of its baseline a day after the first time: the rest of an
# intruder's session (the same calls again, from the same place) is still "new".
_SETTLED = f"a.first_seen < e.event_time - {SETTLE}"
_LEARNED = (
    "EXISTS (SELECT 1 FROM baseline_principal bp WHERE bp.account_id = e.account_id"
    f" AND bp.principal = {PRINCIPAL} AND bp.learned_at <= e.event_time)"
)


def _seen(dim: str, value: str, since: str = _SETTLED) -> str:
    return (
        f"EXISTS (SELECT 1 FROM baseline_activity a WHERE {_OWN} AND {since}"
        f" AND a.dim = '{dim}' AND a.value = {value})"
    )


_ASN_SEEN = (
    "EXISTS (SELECT 1 FROM ip_info i JOIN baseline_activity a"
    " ON a.value = 'AS' || CAST(i.asn AS VARCHAR)"
    f" WHERE i.ip = e.source_ip AND a.dim = 'asn' AND {_OWN} AND {_SETTLED})"
)
NEW_PLACE = f"(is_ip(e.source_ip) AND NOT {_seen('net', 'net24(e.source_ip)')} AND NOT {_ASN_SEEN})"
NEW_AGENT = f"(e.user_agent IS NOT NULL AND NOT {_seen('agent', agent_family('e.user_agent'))})"
NEW_API = f"NOT {_seen('api', API)}"

_EXTRA = {
    "network": "CASE WHEN is_ip(e.source_ip) THEN net24(e.source_ip) END",
    "country": "(SELECT min(i.country) FROM ip_info i WHERE i.ip = e.source_ip)",
    "new_place": NEW_PLACE,
    "new_agent": NEW_AGENT,
    "new_hour": f"NOT {_seen('hour', 'CAST(hour(e.event_time) AS VARCHAR)', _BEFORE)}",
}
_DETAIL = {
    "networks": distinct_list("network"),
    "countries": distinct_list("country"),
    "new_place": "bool_or(new_place)",
    "new_user_agent": "bool_or(new_agent)",
    "at_new_hour": "bool_or(new_hour)",
}


def anomaly_rule(finding_type: str, *, apis: tuple[str, ...], **meta: Any) -> None:
    """Register a rule for first calls of `apis` by a principal past its learning period, from
    a place or with a user agent it had never used."""
    event_rule(
        finding_type,
        where=f"{SUCCESS} AND e.event_name IN {sql_list(apis)} AND {_LEARNED} AND {NEW_API}"
        f" AND ({NEW_PLACE} OR {NEW_AGENT}) AND {not_trusted('e.source_ip')}",
        resource=PRINCIPAL,
        extra=_EXTRA,
        detail=_DETAIL,
        resource_type="AwsIamUser",
        **meta,
    )


_ACCOUNT_MANIPULATION = ("T1098", "Account Manipulation")
_NOVEL = (
    " that it had never called before, from a network or with a client it had never used "
    "(after its learning period)."
)
_CHECK = (
    "Ask the principal's owner whether the calls were theirs; if not, deactivate the "
    "credentials, revoke the role's sessions and undo the changes listed in the evidence."
)

anomaly_rule(
    "Persistence:IAMUser/AnomalousBehavior",
    apis=(
        "CreateAccessKey",
        "CreateLoginProfile",
        "UpdateLoginProfile",
        "CreateUser",
        "CreateRole",
        "UpdateAssumeRolePolicy",
        "CreateServiceSpecificCredential",
        "UploadSSHPublicKey",
        "ImportKeyPair",
        "CreateKeyPair",
    ),
    severity=5.0,
    tactic="TA0003 Persistence",
    technique_id=_ACCOUNT_MANIPULATION[0],
    technique=_ACCOUNT_MANIPULATION[1],
    title="Credentials or identities created in an unusual way",
    description="A principal created users, roles, keys or sign-in credentials with an API"
    + _NOVEL,
    remediation=_CHECK,
)

anomaly_rule(
    "PrivilegeEscalation:IAMUser/AnomalousBehavior",
    apis=(
        "AttachUserPolicy",
        "AttachRolePolicy",
        "AttachGroupPolicy",
        "PutUserPolicy",
        "PutRolePolicy",
        "PutGroupPolicy",
        "CreatePolicyVersion",
        "SetDefaultPolicyVersion",
        "AddUserToGroup",
        "DeleteUserPermissionsBoundary",
        "DeleteRolePermissionsBoundary",
    ),
    severity=5.0,
    tactic="TA0004 Privilege Escalation",
    technique_id="T1098.003",
    technique="Account Manipulation: Additional Cloud Roles",
    title="Permissions granted in an unusual way",
    description="A principal changed IAM permissions with an API" + _NOVEL,
    remediation=_CHECK,
)

anomaly_rule(
    "Impact:IAMUser/AnomalousBehavior",
    apis=(
        "DeleteBucket",
        "TerminateInstances",
        "DeleteVolume",
        "DeleteSnapshot",
        "DeleteDBInstance",
        "DeleteDBCluster",
        "DeleteDBSnapshot",
        "DeleteTable",
        "ScheduleKeyDeletion",
        "DeleteBackupVault",
        "DeleteRecoveryPoint",
    ),
    severity=5.0,
    tactic="TA0040 Impact",
    technique_id="T1485",
    technique="Data Destruction",
    title="Resources destroyed in an unusual way",
    description="A principal deleted data or infrastructure with an API" + _NOVEL,
    remediation=_CHECK,
)

event_rule(
    "InitialAccess:IAMUser/AnomalousBehavior",
    where=f"{LOGIN_OK} AND {_LEARNED} AND {NEW_PLACE} AND {not_trusted('e.source_ip')}",
    resource="e.principal_arn",
    extra=_EXTRA,
    detail=_DETAIL,
    severity=5.0,
    tactic="TA0001 Initial Access",
    technique_id="T1078.004",
    technique="Valid Accounts: Cloud Accounts",
    title="Console sign-in from a network this principal never used",
    description="A principal signed in to the console from an IPv4 /24 (or IPv6 address) and, "
    "where ASNs are known, an AS it had never used before, after its learning period.",
    remediation="Confirm the sign-in with the person; if unknown, reset the password, "
    "deactivate keys and review the session's actions.",
    resource_type="AwsIamUser",
)
