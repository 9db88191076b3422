"""What the demo organisation is made of, and what a scan of it must report.

Acme is a small company with three AWS accounts: the management account (the organisation,
security tooling, the log archive), `workloads-prod` (the payments product, mostly well kept)
and `workloads-dev` (where shortcuts pile up). This module is the catalogue: every resource
that carries a deliberate misconfiguration (`bad`) or is its well-configured twin (`good`),
with the checks that must report it. `mamori.demo.seed` creates it all over boto3, and records
each item as a `Planted` in the `DemoOrg` it returns.

Accounts are named by role ("mgmt", "prod", "dev") and regions by "home" (the first demo
region) and "away" (the second); both are resolved when seeding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

Expected = Literal["FAILED", "PASSED"]
Role = Literal["mgmt", "prod", "dev"]
Where = Literal["home", "away"]
GLOBAL = "global"  # the region of IAM, S3 and Organizations findings and of account checks
DEMO_REGIONS = ("us-east-1", "eu-west-1")
PARTNER_ACCOUNT = "210987654321"  # an outside company Acme exchanges data with
OFFICE_CIDR = "203.0.113.0/24"  # Acme's office egress range (a documentation range)
WORLD4, WORLD6 = "0.0.0.0/0", "::/0"
OWN_ACCOUNT = "${account}"  # in a policy document: the id of the account it is created in


# -- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planted:
    check_id: str
    account_id: str
    region: str
    resource_arn: str
    expected: Expected
    what: str

    def describe(self) -> str:
        return (
            f"{self.check_id} expected {self.expected} on {self.resource_arn} "
            f"({self.account_id}, {self.region}): {self.what}"
        )


@dataclass
class DemoOrg:
    url: str
    organization_id: str
    management_account: str
    accounts: dict[str, str]  # account id -> account name, as Organizations lists them
    regions: tuple[str, ...]
    planted: list[Planted] = field(default_factory=list)

    @property
    def misconfigurations(self) -> list[Planted]:
        return [p for p in self.planted if p.expected == "FAILED"]

    @property
    def twins(self) -> list[Planted]:
        return [p for p in self.planted if p.expected == "PASSED"]

    def check_ids(self) -> set[str]:
        return {p.check_id for p in self.planted}


@dataclass(frozen=True)
class Plant:
    """What one catalogue resource must make its checks report."""

    expected: Expected
    checks: tuple[str, ...]
    what: str


def bad(what: str, *checks: str) -> Plant:
    return Plant("FAILED", checks, what)


def good(what: str, *checks: str) -> Plant:
    return Plant("PASSED", checks, what)


@dataclass
class Ledger:
    """Collects planted items while seeding, one per (check, account, resource)."""

    items: dict[tuple[str, str, str], Planted] = field(default_factory=dict)

    def record(self, plant: Plant | None, account: str, arn: str, region: str = GLOBAL) -> None:
        if plant is None:  # a supporting resource, planted for no check
            return
        for check_id in plant.checks:
            key = (check_id, account, arn)
            known = self.items.get(key)
            if known is not None and known.expected != plant.expected:
                raise ValueError(f"{check_id} on {arn} planted as both PASSED and FAILED")
            self.items[key] = Planted(check_id, account, region, arn, plant.expected, plant.what)

    def planted(self) -> list[Planted]:
        return sorted(self.items.values(), key=lambda p: (p.check_id, p.expected, p.resource_arn))


# -- policy documents ---------------------------------------------------------------------------


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str | list[str] = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def trust(principal: dict[str, Any] | str, condition: dict[str, Any] | None = None) -> str:
    assume = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    return document({**assume, "Condition": condition} if condition else assume)


def service_trust(service: str) -> str:
    return trust({"Service": f"{service}.amazonaws.com"})


def statement(
    sid: str,
    effect: str,
    principal: Any,
    action: str | list[str],
    resource: str | list[str],
    *,
    condition: dict[str, Any] | None = None,
) -> dict[str, Any]:
    out = {
        "Sid": sid,
        "Effect": effect,
        "Principal": principal,
        "Action": action,
        "Resource": resource,
    }
    return {**out, "Condition": condition} if condition else out


def bucket_statements(kind: str, bucket: str, account: str) -> list[dict[str, Any]]:
    arn, trail = f"arn:aws:s3:::{bucket}", {"Service": "cloudtrail.amazonaws.com"}
    insecure = {"Bool": {"aws:SecureTransport": "false"}}
    owner_acl = {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}
    return {
        "tls": [
            statement(
                "DenyInsecureTransport", "Deny", "*", "s3:*", [arn, f"{arn}/*"], condition=insecure
            )
        ],
        "public-read": [statement("PublicRead", "Allow", "*", "s3:GetObject", f"{arn}/*")],
        "cloudtrail": [
            statement("AWSCloudTrailAclCheck", "Allow", trail, "s3:GetBucketAcl", arn),
            statement(
                "AWSCloudTrailWrite",
                "Allow",
                trail,
                "s3:PutObject",
                f"{arn}/AWSLogs/{account}/*",
                condition=owner_acl,
            ),
        ],
    }[kind]


def key_policy(kind: str, account: str) -> str | None:
    """None: KMS's default policy (the account's own principals, through IAM)."""
    if kind == "owner":
        return None
    owner = statement(
        "EnableIAMPolicies", "Allow", {"AWS": f"arn:aws:iam::{account}:root"}, "kms:*", "*"
    )
    context = {
        "StringLike": {
            "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{account}:trail/*"
        }
    }
    extra = {
        "cloudtrail": statement(
            "AllowCloudTrailToEncrypt",
            "Allow",
            {"Service": "cloudtrail.amazonaws.com"},
            "kms:GenerateDataKey*",
            "*",
            condition=context,
        ),
        "public": statement(
            "PartnerDecrypt", "Allow", {"AWS": "*"}, ["kms:Decrypt", "kms:DescribeKey"], "*"
        ),
    }[kind]
    return document(owner, extra)


INLINE_POLICIES = {
    "admin": document(allow("*")),
    "developer-tools": document(allow(["codecommit:Git*", "logs:Get*", "logs:FilterLogEvents"])),
    "athena-queries": document(allow(["athena:StartQueryExecution", "athena:GetQueryResults"])),
    "payments-table": document(
        allow(["dynamodb:GetItem", "dynamodb:PutItem"], "arn:aws:dynamodb:*:*:table/payments")
    ),
}
CUSTOMER_POLICIES = {
    "acme-invoices-read": document(
        allow(
            ["s3:GetObject", "s3:ListBucket"],
            ["arn:aws:s3:::acme-prod-invoices", "arn:aws:s3:::acme-prod-invoices/*"],
        )
    ),
    "acme-legacy-admin": document(allow("*")),
}

# -- account-wide settings ----------------------------------------------------------------------

PASSWORD_CHECKS = (
    "iam.password_policy_min_length",
    "iam.password_policy_reuse_prevention",
    "iam.password_policy_complexity",
    "iam.password_policy_expiry",
)
STRONG_PASSWORDS = {
    "MinimumPasswordLength": 14,
    "RequireSymbols": True,
    "RequireNumbers": True,
    "RequireUppercaseCharacters": True,
    "RequireLowercaseCharacters": True,
    "AllowUsersToChangePassword": True,
    "MaxPasswordAge": 90,
    "PasswordReusePrevention": 24,
}
WEAK_PASSWORDS = {"MinimumPasswordLength": 8, "RequireNumbers": True}


@dataclass(frozen=True)
class Account:
    alias: str
    passwords: dict[str, Any] | None
    root_mfa: bool
    root_access_key: bool
    public_access_block: dict[str, bool] | None  # S3, account level
    plants: tuple[Plant, ...]


_PAB = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
PAB_ON = dict.fromkeys(_PAB, True)
# Someone ticked the "block new public access" half after the public grants were made.
PAB_HALF = {"BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": False}  # fmt: skip
ACCOUNT_PAB = "s3.account_public_access_block"
TRAIL_ACCOUNT_CHECKS = (
    "cloudtrail.multi_region_enabled",
    "cloudtrail.s3_object_write_events",
    "cloudtrail.s3_object_read_events",
)

ACCOUNTS: dict[Role, Account] = {
    "mgmt": Account(
        "acme-management",
        STRONG_PASSWORDS,
        root_mfa=True,
        root_access_key=False,
        public_access_block=PAB_ON,
        plants=(
            good("14+ characters, complex, 24 remembered, 90-day expiry", *PASSWORD_CHECKS),
            good(
                "root user with MFA and no access keys",
                "iam.root_mfa_enabled",
                "iam.root_access_key_absent",
            ),
            good("acme-support role holds AWSSupportAccess", "iam.support_role_exists"),
            good("nobody holds AWSCloudShellFullAccess", "iam.cloudshell_full_access_restricted"),
            good("all four settings on", ACCOUNT_PAB),
            good("multi-region trail with management and S3 data events", *TRAIL_ACCOUNT_CHECKS),
        ),
    ),
    "prod": Account(
        "acme-workloads-prod",
        None,
        root_mfa=True,
        root_access_key=True,
        public_access_block=None,
        plants=(
            bad("no password policy", "iam.password_policy_min_length"),
            bad("root user has an access key", "iam.root_access_key_absent"),
            bad("nobody can open AWS support cases", "iam.support_role_exists"),
            bad("account-level Block Public Access never configured", ACCOUNT_PAB),
        ),
    ),
    "dev": Account(
        "acme-workloads-dev",
        WEAK_PASSWORDS,
        root_mfa=False,
        root_access_key=False,
        public_access_block=PAB_HALF,
        plants=(
            bad("8 characters, digits only, no reuse prevention, no expiry", *PASSWORD_CHECKS),
            bad("root user without MFA", "iam.root_mfa_enabled"),
            bad("developers hold AWSCloudShellFullAccess", "iam.cloudshell_full_access_restricted"),
            bad("only the 'block new' half of Block Public Access", ACCOUNT_PAB),
            bad("only a single-region trail", *TRAIL_ACCOUNT_CHECKS),
        ),
    ),
}

# -- IAM principals ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    account: Role
    name: str
    plant: Plant | None = None
    inline: str | None = None  # a key of INLINE_POLICIES
    managed: tuple[str, ...] = ()  # AWS managed policy names


@dataclass(frozen=True)
class User:
    account: Role
    name: str
    plant: Plant
    console: bool = False
    mfa: bool = False
    keys: int = 0
    key_age_days: int = 0  # > 0: the (first) key was created that long ago
    groups: tuple[str, ...] = ()
    managed: tuple[str, ...] = ()
    inline: str | None = None


@dataclass(frozen=True)
class IamRole:
    account: Role
    name: str
    trust: str
    plant: Plant | None = None
    inline: str | None = None
    managed: tuple[str, ...] = ()  # AWS managed policy names
    customer: tuple[str, ...] = ()  # keys of CUSTOMER_POLICIES, created in the role's account
    customer_plant: tuple[Plant, ...] = ()  # one per customer policy


_INLINE_ADMIN = "iam.inline_policy_no_full_admin"
_ROLE_ADMIN = "iam.role_inline_policy_no_full_admin"
_GROUP_ADMIN = "iam.group_inline_policy_no_full_admin"
_KEY_CHECKS = ("iam.user_single_active_access_key", "iam.access_key_rotated")

GROUPS = (
    Group("mgmt", "Administrators", managed=("AdministratorAccess",)),
    Group("dev", "developers", good("inline policy limited to developer tools", _GROUP_ADMIN),
          inline="developer-tools", managed=("AWSCloudShellFullAccess",)),
    Group("dev", "ops", bad("inline policy allows *:*", _GROUP_ADMIN), inline="admin"),
)  # fmt: skip

USERS = (
    User("mgmt", "alice.admin", good("console user with MFA, rights from a group",
         "iam.user_mfa_for_console", "iam.user_no_direct_policies"),
         console=True, mfa=True, groups=("Administrators",)),
    User("mgmt", "bob.finance", bad("console password without MFA, Billing attached to him",
         "iam.user_mfa_for_console", "iam.user_no_direct_policies"),
         console=True, managed=("job-function/Billing",)),
    User("mgmt", "ci-deployer", bad("two active access keys", "iam.user_single_active_access_key"),
         keys=2),
    User("prod", "payments-api", good("one fresh access key", *_KEY_CHECKS), keys=1),
    User("prod", "legacy-backup", bad("access key created 400 days ago", "iam.access_key_rotated"),
         keys=1, key_age_days=400),
    User("dev", "data-analyst", good("inline policy for Athena only", _INLINE_ADMIN),
         groups=("developers",), inline="athena-queries"),
    User("dev", "ops-breakglass", bad("inline policy allows *:*", _INLINE_ADMIN), inline="admin"),
)  # fmt: skip

ROLES = (
    IamRole("mgmt", "acme-support", trust({"AWS": f"arn:aws:iam::{OWN_ACCOUNT}:root"}),
            managed=("AWSSupportAccess",)),
    IamRole("prod", "partner-data-exchange", trust({"AWS": "*"}),
            bad("any AWS principal may assume it", "iam.role_trust_not_public")),
    IamRole("prod", "partner-reporting",
            trust({"AWS": f"arn:aws:iam::{PARTNER_ACCOUNT}:root"},
                  {"StringEquals": {"sts:ExternalId": "acme-7f3c2a"}}),
            good("one partner account, with an external id", "iam.role_trust_not_public")),
    IamRole("prod", "payments-api-task", service_trust("ecs-tasks"),
            good("inline policy scoped to one table", _ROLE_ADMIN), inline="payments-table",
            customer=("acme-invoices-read",),
            customer_plant=(good("read-only on one bucket", "iam.policy_no_full_admin"),)),
    IamRole("prod", "legacy-jenkins", service_trust("ec2"),
            bad("inline policy allows *:*", _ROLE_ADMIN), inline="admin",
            customer=("acme-legacy-admin",),
            customer_plant=(bad("attached policy allows *:*", "iam.policy_no_full_admin"),)),
)  # fmt: skip

# -- S3 and KMS -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    account: Role
    name: str
    where: Where
    plant: Plant | None = None
    encryption: str | None = "AES256"  # "AES256", a KEYS alias (SSE-KMS), or None (off)
    versioned: bool = False
    logs_to: str | None = None  # target bucket of server access logs
    policy: tuple[str, ...] = ()  # kinds of statements, see bucket_statements()
    acl: str | None = None  # a canned ACL, or "log-delivery"
    block_public: bool = False


_BUCKET_GOOD = (
    "s3.bucket_public_access_block", "s3.bucket_policy_not_public", "s3.bucket_ssl_requests_only",
    "s3.bucket_default_encryption", "s3.bucket_versioning_enabled", "s3.bucket_access_logging",
)  # fmt: skip
MGMT_TRAIL_BUCKET = "acme-org-cloudtrail-logs"
DEV_TRAIL_BUCKET = "acme-dev-cloudtrail-logs"
CONFIG_BUCKET = "acme-config-history"
FLOW_LOG_BUCKET = "acme-prod-vpc-flow-logs"

BUCKETS = (
    Bucket("mgmt", "acme-mgmt-s3-access-logs", "home", acl="log-delivery", block_public=True),
    Bucket("mgmt", MGMT_TRAIL_BUCKET, "home", encryption="acme-cloudtrail", versioned=True,
           logs_to="acme-mgmt-s3-access-logs", policy=("cloudtrail", "tls"), block_public=True),
    Bucket("mgmt", CONFIG_BUCKET, "home", versioned=True, policy=("tls",), block_public=True),
    Bucket("prod", "acme-prod-s3-access-logs-eu", "away", acl="log-delivery", block_public=True),
    Bucket("prod", "acme-prod-invoices", "away",
           good("invoices: blocked, TLS-only, SSE-KMS, versioned, logged", *_BUCKET_GOOD),
           encryption="acme-invoices", versioned=True, logs_to="acme-prod-s3-access-logs-eu",
           policy=("tls",), block_public=True),
    Bucket("prod", "acme-prod-marketing-site", "home",
           bad("world-readable policy, no block, plain HTTP allowed, no access logs",
               "s3.bucket_public_access_block", "s3.bucket_policy_not_public",
               "s3.bucket_ssl_requests_only", "s3.bucket_access_logging"),
           policy=("public-read",)),
    Bucket("prod", FLOW_LOG_BUCKET, "home", versioned=True, block_public=True),
    Bucket("dev", "acme-dev-build-artifacts", "away",
           bad("public-read ACL, no default encryption, unversioned", "s3.bucket_acl_not_public",
               "s3.bucket_default_encryption", "s3.bucket_versioning_enabled"),
           encryption=None, acl="public-read"),
    Bucket("dev", "acme-dev-terraform-state", "away",
           good("private ACL, versioned", "s3.bucket_acl_not_public",
                "s3.bucket_versioning_enabled"), versioned=True, block_public=True),
    Bucket("dev", DEV_TRAIL_BUCKET, "away", policy=("cloudtrail", "public-read")),
)  # fmt: skip


@dataclass(frozen=True)
class Key:
    account: Role
    where: Where
    alias: str
    plant: Plant | None = None
    rotate: bool = True
    policy: str = "owner"  # see key_policy()
    pending_deletion: bool = False


KEYS = (
    Key("mgmt", "home", "acme-cloudtrail",
        good("rotated; policy limited to the account and CloudTrail",
             "kms.cmk_rotation_enabled", "kms.key_policy_not_public"), policy="cloudtrail"),
    Key("prod", "away", "acme-invoices"),
    Key("prod", "home", "payments-ledger",
        good("in use by the payments database", "kms.key_not_pending_deletion")),
    Key("prod", "home", "payments-legacy-tokenization",
        bad("automatic rotation off", "kms.cmk_rotation_enabled"), rotate=False),
    Key("prod", "home", "partner-exchange",
        bad("any AWS principal may decrypt", "kms.key_policy_not_public"), policy="public"),
    Key("dev", "away", "analytics-old",
        bad("scheduled for deletion in 7 days", "kms.key_not_pending_deletion"), rotate=False,
        pending_deletion=True),
)  # fmt: skip

# -- logging and monitoring --------------------------------------------------------------------


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

# -- Organizations -----------------------------------------------------------------------------

SCP_CHECK = "organizations.scp_guardrails_attached"
_TOOLING = ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "guardduty:DeleteDetector",
            "config:StopConfigurationRecorder", "config:DeleteConfigurationRecorder"]  # fmt: skip
GUARDRAIL_SCP = document(  # SCPs take no Principal
    {"Sid": "DenyLeavingOrganization", "Effect": "Deny",
     "Action": "organizations:LeaveOrganization", "Resource": "*"},
    {"Sid": "ProtectSecurityTooling", "Effect": "Deny", "Action": _TOOLING, "Resource": "*"},
    {"Sid": "DenyRootUser", "Effect": "Deny", "Action": "*", "Resource": "*",
     "Condition": {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}}},
)  # fmt: skip
# (organizational unit, member account in it, whether the guardrail SCP is attached, plant)
UNITS: tuple[tuple[str, Role, bool, Plant], ...] = (
    ("Production", "prod", True, good("in an OU with the guardrail SCP", SCP_CHECK)),
    ("Sandbox", "dev", False, bad("the Sandbox OU has only FullAWSAccess", SCP_CHECK)),
)

# -- EC2 / VPC (all in the home region) ----------------------------------------------------------


@dataclass(frozen=True)
class Network:
    account: Role
    vpc: str
    cidr: str
    subnet: str
    public: bool  # internet gateway, and the subnet gives instances public addresses
    flow_logs: bool
    lock_default_group: bool
    vpc_plant: Plant
    default_group_plant: Plant


@dataclass(frozen=True)
class Rule:
    port: int | None  # None: every protocol and port
    v4: tuple[str, ...] = ()
    v6: tuple[str, ...] = ()
    group: str | None = None  # a security group of the same VPC


@dataclass(frozen=True)
class SecurityGroup:
    account: Role
    vpc: str
    name: str
    description: str
    rules: tuple[Rule, ...]
    plant: Plant | None = None


# (rule number, egress, cidr, tcp port range or None for everything, action)
NaclEntry = tuple[int, bool, str, tuple[int, int] | None, str]


@dataclass(frozen=True)
class Nacl:
    account: Role
    vpc: str
    name: str
    entries: tuple[NaclEntry, ...]
    plant: Plant


@dataclass(frozen=True)
class Server:
    account: Role
    vpc: str
    name: str
    image: str  # registered in the account first; `image_plant` says how it is shared
    image_public: bool
    group: str
    imds_v2_only: bool
    plant: Plant
    image_plant: Plant


@dataclass(frozen=True)
class Volume:
    account: Role
    name: str
    key: str | None  # a KEYS alias; None = unencrypted
    public_snapshot: bool
    plant: Plant
    snapshot_plant: Plant


_ADMIN4, _ADMIN6 = "ec2.sg_no_admin_ports_open_ipv4", "ec2.sg_no_admin_ports_open_ipv6"
_ALL_OPEN, _DB_OPEN = "ec2.sg_no_unrestricted_all_traffic", "ec2.sg_no_db_ports_open"
_PROD_VPC, _DEV_VPC = "payments-vpc", "dev-sandbox-vpc"

NETWORKS = (
    Network("prod", _PROD_VPC, "10.20.0.0/16", "10.20.1.0/24", public=False, flow_logs=True,
            lock_default_group=True,
            vpc_plant=good("all traffic logged to S3", "ec2.vpc_flow_logs_enabled"),
            default_group_plant=good("default group has no rules", "ec2.default_sg_restricts_all")),
    Network("dev", _DEV_VPC, "10.30.0.0/16", "10.30.1.0/24", public=True, flow_logs=False,
            lock_default_group=False,
            vpc_plant=bad("no flow logs", "ec2.vpc_flow_logs_enabled"),
            default_group_plant=bad("default group still allows traffic",
                                    "ec2.default_sg_restricts_all")),
)  # fmt: skip

NACLS = (
    Nacl("prod", _PROD_VPC, "payments-private-nacl",
         ((100, False, WORLD4, (443, 443), "allow"),
          (110, False, "10.20.0.0/16", (1024, 65535), "allow"),
          (100, True, "10.20.0.0/16", None, "allow")),
         good("only HTTPS from the internet", "ec2.nacl_no_admin_ports_open")),
    Nacl("dev", _DEV_VPC, "dev-sandbox-nacl",
         ((100, False, WORLD4, (22, 22), "allow"), (200, False, WORLD4, (443, 443), "allow"),
          (100, True, WORLD4, None, "allow")),
         bad("SSH allowed from anywhere", "ec2.nacl_no_admin_ports_open")),
)  # fmt: skip

SECURITY_GROUPS = (
    SecurityGroup("prod", _PROD_VPC, "payments-api-alb", "Public HTTPS for the payments API",
                  (Rule(443, v4=(WORLD4,), v6=(WORLD6,)),),
                  good("only HTTPS open to the world", _ADMIN4, _ADMIN6, _ALL_OPEN)),
    SecurityGroup("prod", _PROD_VPC, "payments-api-app", "Payments API tasks",
                  (Rule(8080, group="payments-api-alb"),)),
    SecurityGroup("prod", _PROD_VPC, "payments-db", "Postgres from the API only",
                  (Rule(5432, group="payments-api-app"),),
                  good("Postgres only from the API's group", _DB_OPEN)),
    SecurityGroup("prod", _PROD_VPC, "corp-bastion-ssh", "SSH from the office",
                  (Rule(22, v4=(OFFICE_CIDR,)),), good("SSH only from the office", _ADMIN4)),
    SecurityGroup("dev", _DEV_VPC, "jenkins-ssh-open", "Jenkins",
                  (Rule(22, v4=(WORLD4,)), Rule(8080, v4=(WORLD4,))),
                  bad("SSH open to 0.0.0.0/0", _ADMIN4)),
    SecurityGroup("dev", _DEV_VPC, "windows-build-rdp", "RDP to the Windows builder",
                  (Rule(3389, v6=(WORLD6,)),), bad("RDP open to ::/0", _ADMIN6)),
    SecurityGroup("dev", _DEV_VPC, "debug-allow-all", "temporary, for debugging",
                  (Rule(None, v4=(WORLD4,)),), bad("everything open to 0.0.0.0/0", _ALL_OPEN)),
    SecurityGroup("dev", _DEV_VPC, "analytics-postgres-public", "analysts' laptops",
                  (Rule(5432, v4=(WORLD4,)),), bad("Postgres open to 0.0.0.0/0", _DB_OPEN)),
)  # fmt: skip

SERVERS = (
    Server("prod", _PROD_VPC, "payments-api-1", "acme-payments-base-2026.11", False,
           "payments-api-app", imds_v2_only=True,
           plant=good("IMDSv2 only, private subnet", "ec2.instance_imdsv2_required",
                      "ec2.instance_no_public_ip"),
           image_plant=good("private golden image", "ec2.ami_not_public")),
    Server("dev", _DEV_VPC, "jenkins-legacy", "jenkins-golden-image", True, "jenkins-ssh-open",
           imds_v2_only=False,
           plant=bad("IMDSv1 allowed, public IP", "ec2.instance_imdsv2_required",
                     "ec2.instance_no_public_ip"),
           image_plant=bad("image launchable by anyone", "ec2.ami_not_public")),
)  # fmt: skip

VOLUMES = (
    Volume("prod", "payments-ledger-data", "payments-ledger", public_snapshot=False,
           plant=good("KMS-encrypted", "ec2.ebs_volume_encrypted"),
           snapshot_plant=good("private snapshot", "ec2.ebs_snapshot_not_public")),
    Volume("dev", "jenkins-home", None, public_snapshot=True,
           plant=bad("unencrypted", "ec2.ebs_volume_encrypted"),
           snapshot_plant=bad("snapshot restorable by anyone", "ec2.ebs_snapshot_not_public")),
)  # fmt: skip

# -- RDS and Lambda -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    account: Role
    where: Where
    name: str
    engine: str
    hardened: bool  # encrypted, private, backups, deletion protection, minor upgrades, multi-AZ
    plant: Plant
    snapshot_plant: Plant  # a manual snapshot; shared with everyone unless hardened
    key: str | None = None
    group: tuple[str, str] | None = None  # (vpc, name) of a SECURITY_GROUPS entry


_DB_CHECKS = (
    "rds.instance_storage_encrypted", "rds.instance_not_public", "rds.instance_backup_enabled",
    "rds.instance_deletion_protection", "rds.instance_auto_minor_upgrade",
)  # fmt: skip
DATABASES = (
    Database("prod", "home", "payments-db", "postgres", True,
             good("encrypted, private, 14-day backups, deletion protection, minor upgrades",
                  *_DB_CHECKS),
             good("private manual snapshot", "rds.snapshot_not_public"),
             key="payments-ledger", group=(_PROD_VPC, "payments-db")),
    Database("dev", "away", "analytics-dev", "mysql", False,
             bad("unencrypted, public, no backups, no deletion protection, no minor upgrades",
                 *_DB_CHECKS),
             bad("snapshot restorable by anyone", "rds.snapshot_not_public")),
)  # fmt: skip


@dataclass(frozen=True)
class Function:
    account: Role
    name: str
    runtime: str
    plant: Plant
    url_auth: str | None = None  # a function URL with this AuthType
    invoker: str | None = None  # a resource-policy principal allowed to invoke it


FUNCTIONS = (
    Function("prod", "payments-webhook", "python3.12",
             good("IAM-authenticated URL for one partner, current runtime",
                  "lambda.function_not_public", "lambda.function_url_auth_required",
                  "lambda.supported_runtime"),
             url_auth="AWS_IAM", invoker=f"arn:aws:iam::{PARTNER_ACCOUNT}:root"),
    Function("dev", "image-resizer", "python3.8",
             bad("unauthenticated function URL, deprecated python3.8",
                 "lambda.function_url_auth_required", "lambda.supported_runtime"),
             url_auth="NONE"),
    Function("dev", "report-export", "python3.12",
             bad("anyone may invoke it", "lambda.function_not_public"), invoker="*"),
)  # fmt: skip
