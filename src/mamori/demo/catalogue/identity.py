"""IAM groups, users and roles, each planted for the checks it must trip or pass."""

from __future__ import annotations

from dataclasses import dataclass

from mamori.demo.catalogue.policies import service_trust, trust
from mamori.demo.planted import OWN_ACCOUNT, PARTNER_ACCOUNT, Plant, Role, bad, good


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
