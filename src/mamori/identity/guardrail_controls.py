"""The preventive controls `guardrails` probes for, as data.

Ids and titles of AWS Control Tower's controls are Control Tower's (Controls Reference Guide:
mandatory, strongly recommended and the landing zone Region deny control). Control Tower has no
control for GuardDuty, Security Hub or leaving the organisation; those three are Mamori's own
ids (prefix MAMORI-), checked the same way.

Each control lists the requests it exists to stop. Resources are templates over {p} (partition),
{acct} and {region}; where Control Tower's control protects only its own resources (the
aws-controltower-* roles, its CloudTrail trail), the probe uses such a resource, which a broader
Deny covers as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mamori.core import Mitre, SeverityLabel

CT_DOCS = "https://docs.aws.amazon.com/controltower/latest/controlreference/"
ORG_SCP_DOCS = (
    "https://docs.aws.amazon.com/organizations/latest/userguide/"
    "orgs_manage_policies_scps_examples.html"
)

# Commercial Regions, in the order they are tried as "a Region the SCPs do not name".
KNOWN_REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "ca-west-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-south-1",
    "ap-south-2",
    "ap-east-1",
    "sa-east-1",
    "me-south-1",
    "me-central-1",
    "af-south-1",
    "il-central-1",
    "mx-central-1",
)

_DEFENSE_EVASION = "TA0005 Defense Evasion"
_PERSISTENCE = "TA0003 Persistence"

_DISABLE_TOOLS = Mitre(
    tactic=_DEFENSE_EVASION,
    technique_id="T1562.001",
    technique="Impair Defenses: Disable or Modify Tools",
)

_DISABLE_LOGS = Mitre(
    tactic=_DEFENSE_EVASION,
    technique_id="T1562.008",
    technique="Impair Defenses: Disable or Modify Cloud Logs",
)


@dataclass(frozen=True, slots=True)
class Control:
    id: str
    title: str
    guidance: str  # mandatory | strongly recommended | elective | mamori
    principal: Literal["user", "root"]
    requests: tuple[tuple[str, str], ...]  # (action, resource template)
    severity: SeverityLabel  # of a FAILED finding
    mitre: tuple[Mitre, ...]
    remediation: str
    url: str
    region: Literal["home", "outside"] = "home"

    @property
    def generator_id(self) -> str:
        return f"identity.guardrail.{self.id}"


_TRAIL = "arn:{p}:cloudtrail:{region}:{acct}:trail/aws-controltower-BaselineCloudTrail"
_CT_ROLE = "arn:{p}:iam::{acct}:role/aws-controltower-AdministratorExecutionRole"

CONTROLS: tuple[Control, ...] = (
    Control(
        "AWS-GR_RESTRICT_ROOT_USER_ACCESS_KEYS",
        "Disallow creation of access keys for the root user",
        "strongly recommended",
        "root",
        (("iam:CreateAccessKey", "arn:{p}:iam::{acct}:root"),),
        SeverityLabel.HIGH,
        (
            Mitre(
                tactic=_PERSISTENCE,
                technique_id="T1098.001",
                technique="Account Manipulation: Additional Cloud Credentials",
            ),
        ),
        "Attach an SCP to the account's OU that denies iam:CreateAccessKey when "
        "aws:PrincipalArn is the account root (Control Tower: enable the control).",
        CT_DOCS + "strongly-recommended-preventive-controls.html",
    ),
    Control(
        "AWS-GR_RESTRICT_ROOT_USER",
        "Disallow actions as a root user",
        "strongly recommended",
        "root",
        (
            ("ec2:RunInstances", "arn:{p}:ec2:{region}:{acct}:instance/*"),
            ("s3:DeleteBucket", "arn:{p}:s3:::mamori-guardrail-probe-{acct}"),
        ),
        SeverityLabel.MEDIUM,
        (
            Mitre(
                tactic="TA0004 Privilege Escalation",
                technique_id="T1078.004",
                technique="Valid Accounts: Cloud Accounts",
            ),
        ),
        "Attach an SCP that denies every action when aws:PrincipalArn is the account root, "
        "and use IAM Identity Center or roles for daily work.",
        CT_DOCS + "strongly-recommended-preventive-controls.html",
    ),
    Control(
        "AWS-GR_CLOUDTRAIL_CHANGE_PROHIBITED",
        "Disallow configuration changes to CloudTrail",
        "mandatory",
        "user",
        tuple(
            (f"cloudtrail:{a}", _TRAIL)
            for a in ("StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors")
        ),
        SeverityLabel.HIGH,
        (_DISABLE_LOGS,),
        "Deny cloudtrail:StopLogging, DeleteTrail, UpdateTrail and PutEventSelectors in an SCP "
        "for everyone but the role that administers logging.",
        CT_DOCS + "mandatory-controls.html",
    ),
    Control(
        "AWS-GR_CONFIG_CHANGE_PROHIBITED",
        "Disallow configuration changes to AWS Config",
        "mandatory",
        "user",
        tuple(
            (f"config:{a}", "*")
            for a in (
                "DeleteConfigurationRecorder",
                "StopConfigurationRecorder",
                "DeleteDeliveryChannel",
            )
        ),
        SeverityLabel.MEDIUM,
        (_DISABLE_LOGS,),
        "Deny config:DeleteConfigurationRecorder, StopConfigurationRecorder and "
        "DeleteDeliveryChannel in an SCP for everyone but the administering role.",
        CT_DOCS + "mandatory-controls.html",
    ),
    Control(
        "MAMORI-GUARDDUTY_CHANGE_PROHIBITED",
        "Deny disabling Amazon GuardDuty",
        "mamori",
        "user",
        tuple(
            (f"guardduty:{a}", "arn:{p}:guardduty:{region}:{acct}:detector/mamoriprobe")
            for a in (
                "DeleteDetector",
                "DisassociateFromAdministratorAccount",
                "DisassociateFromMasterAccount",
            )
        ),
        SeverityLabel.MEDIUM,
        (_DISABLE_TOOLS,),
        "Deny guardduty:DeleteDetector and the Disassociate actions in an SCP.",
        ORG_SCP_DOCS,
    ),
    Control(
        "MAMORI-SECURITYHUB_CHANGE_PROHIBITED",
        "Deny disabling AWS Security Hub",
        "mamori",
        "user",
        tuple(
            (f"securityhub:{a}", "arn:{p}:securityhub:{region}:{acct}:hub/default")
            for a in (
                "DisableSecurityHub",
                "DisassociateFromAdministratorAccount",
                "DisassociateFromMasterAccount",
            )
        ),
        SeverityLabel.MEDIUM,
        (_DISABLE_TOOLS,),
        "Deny securityhub:DisableSecurityHub and the Disassociate actions in an SCP.",
        ORG_SCP_DOCS,
    ),
    Control(
        "MAMORI-LEAVE_ORGANIZATION_PROHIBITED",
        "Deny leaving the organization",
        "mamori",
        "user",
        (("organizations:LeaveOrganization", "*"),),
        SeverityLabel.MEDIUM,
        (
            Mitre(
                tactic=_DEFENSE_EVASION,
                technique_id="T1666",
                technique="Modify Cloud Resource Hierarchy",
            ),
        ),
        "Deny organizations:LeaveOrganization in an SCP attached to the root.",
        ORG_SCP_DOCS,
    ),
    Control(
        "AWS-GR_REGION_DENY",
        "Deny access to AWS based on the requested AWS Region",
        "elective",
        "user",
        (("ec2:RunInstances", "arn:{p}:ec2:{region}:{acct}:instance/*"),),
        SeverityLabel.LOW,
        (
            Mitre(
                tactic=_DEFENSE_EVASION,
                technique_id="T1535",
                technique="Unused/Unsupported Cloud Regions",
            ),
        ),
        "Deny regional actions when aws:RequestedRegion is outside the Regions you govern "
        "(Control Tower: landing zone Region deny setting).",
        CT_DOCS + "primary-region-deny-policy.html",
        region="outside",
    ),
    Control(
        "AWS-GR_IAM_ROLE_CHANGE_PROHIBITED",
        "Disallow changes to IAM roles set up by AWS Control Tower and AWS CloudFormation",
        "mandatory",
        "user",
        (("iam:DeleteRole", _CT_ROLE), ("iam:AttachRolePolicy", _CT_ROLE)),
        SeverityLabel.MEDIUM,
        (Mitre(tactic=_PERSISTENCE, technique_id="T1098", technique="Account Manipulation"),),
        "Deny changes to the aws-controltower-* roles in an SCP for everyone but "
        "AWSControlTowerExecution.",
        CT_DOCS + "mandatory-controls.html",
    ),
)
