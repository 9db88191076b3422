"""CloudTrail trails, the CIS 4.x metric filters and alarms, and per-region detective
services (Config, GuardDuty, Security Hub)."""

from __future__ import annotations

from dataclasses import dataclass

from mamori.demo.catalogue.storage import DEV_TRAIL_BUCKET, MGMT_TRAIL_BUCKET
from mamori.demo.planted import Plant, Role, Where, bad, good


@dataclass(frozen=True)
class Trail:
    account: Role
    where: Where
    name: str
    bucket: str
    plant: Plant
    multi_region: bool = False
    validation: bool = False
    key: str | None = None  # a KEYS alias
    log_group: str | None = None  # CloudWatch Logs delivery (and the CIS 4.x metric filters)
    logging: bool = True


_TRAIL_CHECKS = (
    "cloudtrail.log_file_validation", "cloudtrail.kms_encryption", "cloudtrail.trail_logging",
    "cloudtrail.bucket_not_public", "cloudtrail.bucket_access_logging",
)  # fmt: skip
TRAILS = (
    Trail("mgmt", "home", "acme-org-trail", MGMT_TRAIL_BUCKET,
          good("validated, KMS-encrypted, logging, to a private logged bucket", *_TRAIL_CHECKS),
          multi_region=True, validation=True, key="acme-cloudtrail",
          log_group="aws-cloudtrail-logs-acme-org"),
    Trail("dev", "away", "dev-audit-trail", DEV_TRAIL_BUCKET,
          bad("single-region, stopped, no validation, no KMS, world-readable unlogged bucket",
              *_TRAIL_CHECKS), logging=False),
)  # fmt: skip

# CIS AWS Foundations v3.0.0 section 4: (check suffix, metric, the benchmark's filter pattern).
# The account whose trail delivers to CloudWatch Logs gets each filter on that log group with
# an alarm to a subscribed SNS topic; these accounts have none.
NO_ALARMS: tuple[Role, ...] = ("dev",)
CIS_ALARMS = (
    ("alarm_unauthorized_api_calls", "UnauthorizedAPICalls",
     '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && '
     '($.sourceIPAddress != "delivered.logs.amazonaws.com") && ($.eventName != "HeadBucket") }'),
    ("alarm_console_login_no_mfa", "ConsoleSigninWithoutMFA",
     '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
     '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }'),
    ("alarm_root_usage", "RootAccountUsage",
     '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && '
     '$.eventType != "AwsServiceEvent" }'),
    ("alarm_iam_policy_changes", "IAMPolicyChanges",
     "{ ($.eventSource = iam.amazonaws.com) && (($.eventName = DeleteGroupPolicy) || "
     "($.eventName = DeleteRolePolicy) || ($.eventName = DeleteUserPolicy) || "
     "($.eventName = PutGroupPolicy) || ($.eventName = PutRolePolicy) || "
     "($.eventName = PutUserPolicy) || ($.eventName = CreatePolicy) || "
     "($.eventName = DeletePolicy) || ($.eventName = CreatePolicyVersion) || "
     "($.eventName = DeletePolicyVersion) || ($.eventName = AttachRolePolicy) || "
     "($.eventName = DetachRolePolicy) || ($.eventName = AttachUserPolicy) || "
     "($.eventName = DetachUserPolicy) || ($.eventName = AttachGroupPolicy) || "
     "($.eventName = DetachGroupPolicy)) }"),
    ("alarm_cloudtrail_changes", "CloudTrailConfigChanges",
     "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || "
     "($.eventName = DeleteTrail) || ($.eventName = StartLogging) || "
     "($.eventName = StopLogging) }"),
    ("alarm_console_auth_failures", "ConsoleSigninFailures",
     '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }'),
    ("alarm_cmk_disable_or_deletion", "DisableOrDeleteCMK",
     "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || "
     "($.eventName = ScheduleKeyDeletion)) }"),
    ("alarm_s3_bucket_policy_changes", "S3BucketPolicyChanges",
     "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || "
     "($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || "
     "($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || "
     "($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || "
     "($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }"),
    ("alarm_config_changes", "AWSConfigChanges",
     "{ ($.eventSource = config.amazonaws.com) && "
     "(($.eventName = StopConfigurationRecorder) || ($.eventName = DeleteDeliveryChannel) || "
     "($.eventName = PutDeliveryChannel) || ($.eventName = PutConfigurationRecorder)) }"),
    ("alarm_security_group_changes", "SecurityGroupChanges",
     "{ ($.eventName = AuthorizeSecurityGroupIngress) || "
     "($.eventName = AuthorizeSecurityGroupEgress) || "
     "($.eventName = RevokeSecurityGroupIngress) || "
     "($.eventName = RevokeSecurityGroupEgress) || "
     "($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }"),
    ("alarm_nacl_changes", "NACLChanges",
     "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || "
     "($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || "
     "($.eventName = ReplaceNetworkAclEntry) || "
     "($.eventName = ReplaceNetworkAclAssociation) }"),
    ("alarm_network_gateway_changes", "NetworkGatewayChanges",
     "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || "
     "($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || "
     "($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }"),
    ("alarm_route_table_changes", "RouteTableChanges",
     "{ ($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || "
     "($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || "
     "($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || "
     "($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }"),
    ("alarm_vpc_changes", "VPCChanges",
     "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || "
     "($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || "
     "($.eventName = CreateVpcPeeringConnection) || "
     "($.eventName = DeleteVpcPeeringConnection) || "
     "($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || "
     "($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || "
     "($.eventName = EnableVpcClassicLink) }"),
    ("alarm_organizations_changes", "OrganizationsChanges",
     "{ ($.eventSource = organizations.amazonaws.com) && "
     "(($.eventName = AcceptHandshake) || ($.eventName = AttachPolicy) || "
     "($.eventName = CreateAccount) || ($.eventName = CreateOrganizationalUnit) || "
     "($.eventName = CreatePolicy) || ($.eventName = DeclineHandshake) || "
     "($.eventName = DeleteOrganization) || ($.eventName = DeleteOrganizationalUnit) || "
     "($.eventName = DeletePolicy) || ($.eventName = DetachPolicy) || "
     "($.eventName = DisablePolicyType) || ($.eventName = EnablePolicyType) || "
     "($.eventName = InviteAccountToOrganization) || ($.eventName = LeaveOrganization) || "
     "($.eventName = MoveAccount) || ($.eventName = RemoveAccountFromOrganization) || "
     "($.eventName = UpdatePolicy) || ($.eventName = UpdateOrganizationalUnit)) }"),
)  # fmt: skip


@dataclass(frozen=True)
class RegionalService:
    """A per-region detective control, on or off in one account and region."""

    service: str  # "config", "guardduty" or "securityhub"
    account: Role
    where: Where
    enabled: bool
    plant: Plant | None = None


REGIONAL_SERVICES = (
    RegionalService("config", "mgmt", "home", True,
                    good("recording all resources to the log archive", "config.recorder_enabled")),
    RegionalService("config", "prod", "away", False,
                    bad("recorder configured but never started", "config.recorder_enabled")),
    RegionalService("guardduty", "mgmt", "home", True, good("detector on", "guardduty.enabled")),
    RegionalService("guardduty", "mgmt", "away", True),
    RegionalService("guardduty", "dev", "home", False,
                    bad("detector suspended", "guardduty.enabled")),
    RegionalService("securityhub", "mgmt", "home", True, good("hub on", "securityhub.enabled")),
    RegionalService("securityhub", "mgmt", "away", False,
                    bad("never enabled in the second region", "securityhub.enabled")),
    RegionalService("ebs-encryption", "prod", "home", True,
                    good("EBS encryption by default on", "ec2.ebs_default_encryption")),
    RegionalService("ebs-encryption", "prod", "away", False,
                    bad("EBS encryption by default never turned on", "ec2.ebs_default_encryption")),
)  # fmt: skip
