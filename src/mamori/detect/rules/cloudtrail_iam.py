"""CloudTrail rules about what a principal did with its access: IAM persistence and privilege
escalation, bulk secret reads, snapshots shared outside, security groups opened to the world,
and bursts of denied calls (reconnaissance)."""

# ruff: noqa: S608 - rule SQL is assembled from constants written here, never from user input

from __future__ import annotations

from mamori.detect.rules.base import (
    EVENT_DETAIL,
    RP,
    SUCCESS,
    Rule,
    burst_sql,
    distinct_list,
    event_rule,
    events_matched,
    outside_accounts,
    register,
    requested,
    sql_list,
)

_IAM = f"e.event_source = 'iam.amazonaws.com' AND {SUCCESS}"
_TARGET_USER = f"json_extract_string({RP}, '$.userName')"
_TARGET_ROLE = f"json_extract_string({RP}, '$.roleName')"
_ADMIN_POLICY = (
    f"regexp_matches(coalesce(json_extract_string({RP}, '$.policyArn'), ''),"
    " ':policy/AdministratorAccess$')"
)
_ATTACH = "e.event_name IN ('AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy')"
# A user or role that the same principal created earlier in the logs.
_CREATED_BY_CALLER = (
    "EXISTS (SELECT 1 FROM events c WHERE c.event_source = 'iam.amazonaws.com'"
    " AND c.error_code IS NULL AND c.account_id = e.account_id"
    " AND c.principal_arn = e.principal_arn AND c.event_time <= e.event_time"
    " AND ((c.event_name = 'CreateUser' AND json_extract_string(c.request_parameters,"
    f" '$.userName') = {_TARGET_USER}) OR (c.event_name = 'CreateRole'"
    f" AND json_extract_string(c.request_parameters, '$.roleName') = {_TARGET_ROLE})))"
)
_OTHER_USER = f"{_TARGET_USER} IS NOT NULL AND {_TARGET_USER} <> coalesce(e.principal_name, '')"
_TRUST_DOC = f"coalesce(json_extract_string({RP}, '$.policyDocument'), '')"
# The trust policy names an account outside the organisation (the accounts in the logs), or any
# principal at all.
_TRUST_OUTSIDE = (
    "("
    + outside_accounts(f"regexp_extract_all({_TRUST_DOC}, 'arn:aws[a-z-]*:iam::([0-9]{{12}}):', 1)")
    + f' OR regexp_matches({_TRUST_DOC}, \'"AWS"\\s*:\\s*\\[?\\s*"\\*"\')'
    f' OR regexp_matches({_TRUST_DOC}, \'"Principal"\\s*:\\s*"\\*"\'))'
)
_PRINCIPAL_ARN = (
    "'arn:aws:iam::' || e.account_id || CASE WHEN "
    f"{_TARGET_USER} IS NOT NULL THEN ':user/' || {_TARGET_USER}"
    f" WHEN {_TARGET_ROLE} IS NOT NULL THEN ':role/' || {_TARGET_ROLE}"
    f" ELSE ':group/' || coalesce(json_extract_string({RP}, '$.groupName'), '?') END"
)
_PERSIST = "TA0003 Persistence"

event_rule(
    "Persistence:IAMUser/UserPermissions",
    where=f"{_IAM} AND ("
    f"(e.event_name IN ('CreateAccessKey', 'CreateLoginProfile', 'UpdateLoginProfile')"
    f" AND {_OTHER_USER})"
    f" OR (e.event_name = 'UpdateAssumeRolePolicy' AND {_TRUST_OUTSIDE})"
    f" OR ({_ATTACH} AND {_ADMIN_POLICY} AND {_CREATED_BY_CALLER}))",
    resource=_PRINCIPAL_ARN,
    severity=5.0,
    tactic=_PERSIST,
    technique_id="T1098.001",
    technique="Account Manipulation: Additional Cloud Credentials",
    title="A principal gave itself a way back in",
    description="Credentials or access were added for another identity: an access key or "
    "console password for another user, a role trust policy opened to another account or to "
    "anyone, or a newly created user or role given AdministratorAccess.",
    remediation="Review the new key, password, trust or admin grant with its owner; delete "
    "what was not requested and rotate the calling principal's credentials.",
    resource_type="AwsIamUser",
)

_WILDCARD_DOC = (
    f"regexp_matches(coalesce(json_extract_string({RP}, '$.policyDocument'), ''),"
    ' \'"Action"\\s*:\\s*\\[?\\s*"\\*"\')'
)
event_rule(
    "PrivilegeEscalation:IAMUser/AdministrativePermissions",
    where=f"{_IAM} AND ("
    f"({_ATTACH} AND {_ADMIN_POLICY} AND NOT {_CREATED_BY_CALLER})"
    " OR (e.event_name IN ('PutUserPolicy', 'PutRolePolicy', 'PutGroupPolicy')"
    f" AND {_WILDCARD_DOC})"
    " OR (e.event_name = 'CreatePolicyVersion'"
    f" AND coalesce(json_extract_string({RP}, '$.setAsDefault'), 'false') = 'true'"
    f" AND {_WILDCARD_DOC}))",
    resource=f"coalesce(json_extract_string({RP}, '$.policyArn'), {_PRINCIPAL_ARN})",
    severity=5.0,
    tactic="TA0004 Privilege Escalation",
    technique_id="T1098.003",
    technique="Account Manipulation: Additional Cloud Roles",
    title="Administrator permissions were granted",
    description="AdministratorAccess was attached to an existing identity, or a policy "
    "allowing every action was written inline or made a managed policy's default version.",
    remediation="Check the grant against change records; detach it if unexpected and review "
    "what the identity did afterwards.",
    resource_type="AwsIamUser",
)

_VAULT_READS = (
    "(e.event_source = 'secretsmanager.amazonaws.com'"
    " AND e.event_name IN ('GetSecretValue', 'BatchGetSecretValue'))"
    " OR (e.event_source = 'ssm.amazonaws.com'"
    " AND e.event_name IN ('GetParameter', 'GetParameters', 'GetParametersByPath'))"
)
_SECRET_ID = (
    f"coalesce(json_extract_string({RP}, '$.secretId'), json_extract_string({RP}, '$.name'),"
    f" json_extract_string({RP}, '$.path'), CAST(json_extract({RP}, '$.names') AS VARCHAR))"
)
register(
    Rule(
        finding_type="CredentialAccess:IAMUser/AnomalousBehavior",
        severity=5.0,
        data_source="cloudtrail",
        tactic="TA0006 Credential Access",
        technique_id="T1555.006",
        technique="Credentials from Password Stores: Cloud Secrets Management Stores",
        title="Many secrets read in a short time",
        description="One principal read ten or more different Secrets Manager secrets or SSM "
        "parameters within an hour, more than it had done before.",
        remediation="Confirm the reads with the principal's owner; rotate the secrets read "
        "if not, and restrict secretsmanager:GetSecretValue to the applications that need it.",
        sql=burst_sql(
            events_matched(
                f"{SUCCESS} AND ({_VAULT_READS})", "e.principal_arn", {"secret": _SECRET_ID}
            ),
            metric="count(DISTINCT secret)",
            threshold=10,
            detail={**EVENT_DETAIL, "secrets": distinct_list("secret", 20)},
        ),
        resource_type="AwsIamUser",
    )
)

_ACCOUNT_ID = "'(^|[^0-9])([0-9]{12})([^0-9]|$)', 2"
# Accounts outside the organisation or "all" added to the sharing of an EBS snapshot, an AMI or
# an RDS snapshot.
_SHARE_ADD = (
    f"coalesce(CAST(json_extract({RP}, '$.createVolumePermission.add') AS VARCHAR),"
    f" CAST(json_extract({RP}, '$.launchPermission.add') AS VARCHAR),"
    f" CAST(json_extract({RP}, '$.valuesToAdd') AS VARCHAR), '')"
)
event_rule(
    "Exfiltration:IAMUser/AnomalousBehavior",
    where=f"{SUCCESS} AND e.event_name IN "
    + sql_list(
        (
            "ModifySnapshotAttribute",
            "ModifyImageAttribute",
            "ModifyDBSnapshotAttribute",
            "ModifyDBClusterSnapshotAttribute",
        )
    )
    + f" AND ({outside_accounts(f'regexp_extract_all({_SHARE_ADD}, {_ACCOUNT_ID})')}"
    f" OR regexp_matches(lower({_SHARE_ADD}), '\"all\"'))",
    resource=f"coalesce(json_extract_string({RP}, '$.snapshotId'),"
    f" json_extract_string({RP}, '$.imageId'),"
    f" json_extract_string({RP}, '$.dBSnapshotIdentifier'),"
    f" json_extract_string({RP}, '$.dBClusterSnapshotIdentifier'))",
    detail={"shared_with": "any_value(shared_with)"},
    extra={"shared_with": _SHARE_ADD},
    severity=8.0,
    tactic="TA0010 Exfiltration",
    technique_id="T1537",
    technique="Transfer Data to Cloud Account",
    title="A snapshot or image was shared outside the account",
    description="An EBS snapshot, AMI or RDS snapshot was shared with another AWS account or "
    "made public, which lets its data be copied out.",
    remediation="Remove the sharing permission, check whether the other account is yours, "
    "and block public sharing (EBS and AMI block public access settings).",
    resource_type="Other",
)

# 0.0.0.0/0 or ::/0 on any port other than web ports 80 and 443.
_WORLD = f'regexp_matches({RP}, \'"cidrIp(v6)?"\\s*:\\s*"(0\\.0\\.0\\.0/0|::/0)"\')'
_PORTS = f"regexp_extract_all({RP}, '\"(fromPort|toPort)\"\\s*:\\s*(-?[0-9]+)', 2)"
event_rule(
    "Policy:EC2/SecurityGroupOpenToWorld",
    where=f"{SUCCESS} AND e.event_name = 'AuthorizeSecurityGroupIngress' AND {_WORLD}"
    f" AND (len({_PORTS}) = 0 OR len(list_filter({_PORTS}, lambda p: p NOT IN ('80', '443'))) > 0)",
    resource=requested("groupId"),
    detail={"ports": "list_sort(list_distinct(flatten(array_agg(ports))))"},
    extra={"ports": _PORTS},
    severity=5.0,
    tactic=_PERSIST,
    technique_id="T1562.007",
    technique="Impair Defenses: Disable or Modify Cloud Firewall",
    title="A security group was opened to the whole internet",
    description="An inbound rule allowing 0.0.0.0/0 or ::/0 was added on a port other than "
    "80/443 (Mamori's own finding type).",
    remediation="Replace the rule with the address ranges that need access, or reach the "
    "service through Session Manager or a load balancer.",
    resource_type="AwsEc2SecurityGroup",
)

register(
    Rule(
        finding_type="Discovery:IAMUser/AnomalousBehavior",
        severity=5.0,
        data_source="cloudtrail",
        tactic="TA0007 Discovery",
        technique_id="T1580",
        technique="Cloud Infrastructure Discovery",
        title="A burst of denied API calls",
        description="One principal had 20 or more calls denied across at least five different "
        "APIs within an hour, the pattern of someone enumerating what stolen credentials can do.",
        remediation="Find out who holds the credentials; if not their owner, deactivate them "
        "and review the calls that succeeded.",
        sql=burst_sql(
            events_matched(
                "regexp_matches(coalesce(e.error_code, ''), 'AccessDenied|UnauthorizedOperation"
                "|UnauthorizedAccess|NotAuthorized')",
                "e.principal_arn",
            ),
            metric="CASE WHEN count(DISTINCT event_name) >= 5 THEN count(*) ELSE 0 END",
            threshold=20,
            detail=EVENT_DETAIL,
        ),
        resource_type="AwsIamUser",
    )
)
