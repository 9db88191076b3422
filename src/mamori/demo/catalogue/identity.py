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
    escalation: Plant | None = None  # what identity analysis must say about this user


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
    boundary: str | None = None  # a key of CUSTOMER_POLICIES, set as permissions boundary
    escalation: Plant | None = None  # what identity analysis must say about this role


_INLINE_ADMIN = "iam.inline_policy_no_full_admin"
_ROLE_ADMIN = "iam.role_inline_policy_no_full_admin"
_GROUP_ADMIN = "iam.group_inline_policy_no_full_admin"
_KEY_CHECKS = ("iam.user_single_active_access_key", "iam.access_key_rotated")
ESCALATION = "identity.privilege-escalation"

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
    User("dev", "intern-sandbox", good("inline policy is not *:*", _INLINE_ADMIN),
         inline="self-attach",
         escalation=bad("can attach AdministratorAccess to itself", ESCALATION)),
    User("dev", "build-bot", good("inline policy is not *:*", _INLINE_ADMIN),
         inline="lambda-deployer",
         escalation=bad("passes the lambda-admin role to a new function", ESCALATION)),
    User("dev", "build-bot-ec2", good("inline policy is not *:*", _INLINE_ADMIN),
         inline="lambda-deployer-ec2-only",
         escalation=good("may pass roles only to EC2, and no EC2 role has a profile",
                         ESCALATION)),
    User("mgmt", "helpdesk", good("inline policy is not *:*", _INLINE_ADMIN),
         inline="admin-keys",
         escalation=bad("can create access keys for alice.admin", ESCALATION)),
    User("mgmt", "helpdesk-self", good("inline policy is not *:*", _INLINE_ADMIN),
         inline="own-keys",
         escalation=good("can create access keys only for itself (${aws:username})",
                         ESCALATION)),
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
    IamRole("dev", "lambda-admin", service_trust("lambda"),
            bad("inline policy allows *:*", _ROLE_ADMIN), inline="admin"),
    IamRole("dev", "intern-automation", trust({"AWS": f"arn:aws:iam::{OWN_ACCOUNT}:root"}),
            good("inline policy is not *:*", _ROLE_ADMIN), inline="self-attach-role",
            escalation=bad("can attach AdministratorAccess to itself", ESCALATION)),
    IamRole("dev", "intern-automation-bounded",
            trust({"AWS": f"arn:aws:iam::{OWN_ACCOUNT}:root"}),
            good("inline policy is not *:*", _ROLE_ADMIN), inline="self-attach-role",
            boundary="developer-boundary",
            escalation=good("the same policy, but its permissions boundary has no IAM",
                            ESCALATION)),
)  # fmt: skip
