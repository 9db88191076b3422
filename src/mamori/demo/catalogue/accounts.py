"""Account-wide settings (password policy, root user, S3 account block) and the
organisation's SCP guardrails."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mamori.demo.catalogue.policies import document
from mamori.demo.planted import Plant, Role, bad, good

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
