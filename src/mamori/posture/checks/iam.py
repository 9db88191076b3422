"""IAM checks: the root user, the password policy, users' credentials, and policies that grant
full administrator access or let anyone assume a role."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from mamori.core import DataUnavailable, as_utc, utcnow
from mamori.inventory.snapshot import Res
from mamori.posture.policy import allows_full_admin, public_statements
from mamori.posture.registry import ACCOUNT, CheckContext, Verdict, check, failed, passed, verdict

_IAM_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
_PASSWORD_DOC = _IAM_DOC + "id_credentials_passwords_account-policy.html"
_ROOT_ROW = "<root_account>"
_ROOT_USED_DAYS = 90  # CIS 1.7's window
_UNUSED_DAYS = 45  # CIS 1.12
_KEY_MAX_AGE_DAYS = 90  # CIS 1.14
_ROOT_USE_COLUMNS = {
    "password_last_used": "password",
    "access_key_1_last_used_date": "access key 1",
    "access_key_2_last_used_date": "access key 2",
}
_COMPLEXITY = {
    "RequireUppercaseCharacters": "uppercase letters",
    "RequireLowercaseCharacters": "lowercase letters",
    "RequireNumbers": "numbers",
    "RequireSymbols": "symbols",
}


# -- shared readers ----------------------------------------------------------------------------


def _summary(ctx: CheckContext, key: str) -> Any:
    return Res(ctx.data("iam", "account_summary"), "iam.account_summary")[key]


def _when(value: Any) -> datetime | None:
    """A timestamp from AWS, or None for the report's "N/A", "no_information" and the like."""
    try:
        return as_utc(value) if isinstance(value, str | datetime) else None
    except ValueError:
        return None


def _days_since(value: Any) -> float | None:
    moment = _when(value)
    return None if moment is None else (utcnow() - moment).total_seconds() / 86400.0


def _idle_days(last_used: Any, created: Any) -> float | None:
    """Days since a credential was last used or, never used, since it was created."""
    since_use = _days_since(last_used)
    return since_use if since_use is not None else _days_since(created)


_report_index: tuple[list[Any], dict[str, dict[str, str]]] | None = None


def _report_row(ctx: CheckContext, arn_or_user: str) -> dict[str, str] | None:
    """The credential report row of a user ARN (or of "<root_account>")."""
    global _report_index  # noqa: PLW0603 - one index per report instead of a scan per user
    rows = ctx.data("iam", "credential_report")
    if _report_index is None or _report_index[0] is not rows:
        index: dict[str, dict[str, str]] = {}
        for row in rows:
            index[row.get("arn", "")] = row
            index[row.get("user", "")] = row
        _report_index = (rows, index)
    return _report_index[1].get(arn_or_user)


def _active_keys(user: Res) -> list[dict[str, Any]]:
    return [k for k in user["AccessKeys"] if k.get("Status") == "Active"]


def _aws_policy_arn(ctx: CheckContext, name: str) -> str:
    return f"arn:{ctx.partition}:iam::aws:policy/{name}"


def _principals_with(ctx: CheckContext, policy_arn: str) -> list[str]:
    """ARNs of the users, groups and roles that have `policy_arn` attached."""
    return [
        principal.arn
        for kind in ("users", "groups", "roles")
        for principal in ctx.resources("iam", kind)
        if any(p.get("PolicyArn") == policy_arn for p in principal["AttachedManagedPolicies"])
    ]


# -- the root user -----------------------------------------------------------------------------


@check(
    id="iam.root_access_key_absent",
    service="iam",
    over=ACCOUNT,
    severity="critical",
    title="The root user should have no access keys",
    resource_type="AwsAccount",
    description="Root access keys give unrestricted, unconditional access to the account and "
    "cannot be limited by any policy (CIS AWS Foundations 1.4).",
    remediation="Sign in as the root user and delete its access keys under Security credentials.",
    references=[_IAM_DOC + "id_root-user_manage_delete-key.html"],
)
def root_access_key_absent(ctx: CheckContext) -> Verdict:
    present = _summary(ctx, "AccountAccessKeysPresent")
    return verdict(
        present == 0,
        "the root user has no access keys",
        "the root user has access keys",
        AccountAccessKeysPresent=present,
    )


@check(
    id="iam.root_mfa_enabled",
    service="iam",
    over=ACCOUNT,
    severity="critical",
    title="MFA should be enabled for the root user",
    resource_type="AwsAccount",
    description="Without MFA, the root password alone gives full control of the account "
    "(CIS AWS Foundations 1.5).",
    remediation="Sign in as the root user and assign an MFA device under Security credentials.",
    references=[_IAM_DOC + "enable-mfa-for-root.html"],
)
def root_mfa_enabled(ctx: CheckContext) -> Verdict:
    enabled = _summary(ctx, "AccountMFAEnabled")
    return verdict(enabled == 1, "the root user has MFA", "the root user has no MFA device")


def _root_virtual_devices(ctx: CheckContext) -> list[str]:
    root_arn = ctx.account_arn()
    return [
        str(d.get("SerialNumber"))
        for d in ctx.data("iam", "virtual_mfa_devices")
        if str(d.get("SerialNumber", "")).endswith(":mfa/root-account-mfa-device")
        or (d.get("User") or {}).get("Arn") == root_arn
    ]


@check(
    id="iam.root_hardware_mfa_enabled",
    service="iam",
    over=ACCOUNT,
    severity="high",
    title="Hardware MFA should be enabled for the root user",
    resource_type="AwsAccount",
    description="A virtual MFA app lives on a phone that is itself exposed to compromise and "
    "loss; a hardware key or FIDO security key protects the root user better "
    "(CIS AWS Foundations 1.6).",
    remediation="Replace the root user's virtual MFA device with a hardware TOTP token or a "
    "FIDO security key.",
    references=[_IAM_DOC + "id_credentials_mfa_enable_physical.html"],
)
def root_hardware_mfa_enabled(ctx: CheckContext) -> Verdict:
    if _summary(ctx, "AccountMFAEnabled") != 1:
        return failed("the root user has no MFA device")
    virtual = _root_virtual_devices(ctx)
    return verdict(
        not virtual,
        "the root user's MFA is not a virtual device",
        f"the root user's MFA is a virtual device ({', '.join(virtual)})",
        devices=virtual,
    )


@check(
    id="iam.root_not_used_recently",
    service="iam",
    over=ACCOUNT,
    severity="high",
    title="The root user should not be used for everyday tasks",
    resource_type="AwsAccount",
    description=f"The credential report shows when the root user's password or access keys "
    f"were last used; any use in the last {_ROOT_USED_DAYS} days suggests it serves "
    f"daily work instead of the few tasks that need it (CIS AWS Foundations 1.7).",
    remediation="Use IAM roles or IAM Identity Center users for administration; keep the root "
    "user for the tasks that require it, and investigate recent use.",
    references=[
        _IAM_DOC + "root-user-best-practices.html",
        _IAM_DOC + "id_credentials_getting-report.html",
    ],
)
def root_not_used_recently(ctx: CheckContext) -> Verdict:
    row = _report_row(ctx, _ROOT_ROW)
    if row is None:
        raise DataUnavailable(
            "iam.credential_report", "Missing", f"the credential report has no {_ROOT_ROW} row"
        )
    uses = {
        label: row.get(column)
        for column, label in _ROOT_USE_COLUMNS.items()
        if _when(row.get(column)) is not None
    }
    recent = {
        label: when for label, when in uses.items() if (_days_since(when) or 0.0) <= _ROOT_USED_DAYS
    }
    if not recent:
        return passed(
            f"the root user was not used in the last {_ROOT_USED_DAYS} days", last_used=uses
        )
    said = ", ".join(
        f"{label} on {when} ({_days_since(when):.0f} days ago)" for label, when in recent.items()
    )
    return failed(f"the root user was used recently: {said}", last_used=uses)


# -- the password policy -----------------------------------------------------------------------


def _password_policy(ctx: CheckContext, judge: Callable[[Res], Verdict]) -> Verdict:
    policy = ctx.data("iam", "password_policy")
    if policy is None:
        return failed("the account has no password policy (IAM's defaults apply)")
    return judge(Res(policy, "iam.password_policy"))


def _at_least(policy: Res, key: str, minimum: int, what: str) -> Verdict:
    value = policy.get(key)
    return verdict(
        isinstance(value, int) and value >= minimum,
        f"{what} is {value}",
        f"{what} is {value or 'not set'}, below {minimum}",
        **{key: value},
    )


# What the four password policy checks have in common; one command fixes all of them.
_PASSWORD_CHECK: dict[str, Any] = {
    "service": "iam",
    "over": ACCOUNT,
    "resource_type": "AwsAccount",
    "remediation_cli": "aws iam update-account-password-policy --minimum-password-length 14 "
    "--require-uppercase-characters --require-lowercase-characters "
    "--require-numbers --require-symbols --password-reuse-prevention 24 "
    "--max-password-age 90",
    "references": [_PASSWORD_DOC],
}


@check(
    id="iam.password_policy_min_length",
    severity="medium",
    **_PASSWORD_CHECK,
    title="The IAM password policy should require at least 14 characters",
    description="Longer passwords resist guessing and brute force (CIS AWS Foundations 1.8).",
    remediation="Set the minimum password length of the account password policy to 14 or more.",
)
def password_policy_min_length(ctx: CheckContext) -> Verdict:
    return _password_policy(
        ctx, lambda p: _at_least(p, "MinimumPasswordLength", 14, "minimum password length")
    )


@check(
    id="iam.password_policy_reuse_prevention",
    severity="medium",
    **_PASSWORD_CHECK,
    title="The IAM password policy should prevent reuse of the last 24 passwords",
    description="Preventing reuse stops users from cycling back to a password that may have "
    "leaked (CIS AWS Foundations 1.9).",
    remediation="Set password reuse prevention of the account password policy to 24.",
)
def password_policy_reuse_prevention(ctx: CheckContext) -> Verdict:
    return _password_policy(
        ctx, lambda p: _at_least(p, "PasswordReusePrevention", 24, "passwords remembered")
    )


def _complexity(policy: Res) -> Verdict:
    missing = [label for key, label in _COMPLEXITY.items() if policy.get(key) is not True]
    return verdict(
        not missing,
        "uppercase, lowercase, numbers and symbols are all required",
        f"the policy does not require {', '.join(missing)}",
        missing=missing,
    )


@check(
    id="iam.password_policy_complexity",
    severity="medium",
    **_PASSWORD_CHECK,
    title="The IAM password policy should require uppercase, lowercase, numbers and symbols",
    description="Requiring every character class enlarges the space an attacker must search "
    "(AWS Foundational Security Best Practices IAM.7).",
    remediation="Require uppercase letters, lowercase letters, numbers and symbols in the "
    "account password policy.",
)
def password_policy_complexity(ctx: CheckContext) -> Verdict:
    return _password_policy(ctx, _complexity)


def _expiry(policy: Res) -> Verdict:
    age = policy.get("MaxPasswordAge")
    return verdict(
        isinstance(age, int) and 0 < age <= 90,
        f"passwords expire after {age} days",
        f"passwords expire after {age} days" if age else "passwords never expire",
        MaxPasswordAge=age,
    )


@check(
    id="iam.password_policy_expiry",
    severity="low",
    **_PASSWORD_CHECK,
    title="The IAM password policy should expire passwords within 90 days",
    description="Expiring passwords limits how long a leaked password stays usable.",
    remediation="Set the maximum password age of the account password policy to 90 days or fewer.",
)
def password_policy_expiry(ctx: CheckContext) -> Verdict:
    return _password_policy(ctx, _expiry)


# -- users' credentials ------------------------------------------------------------------------


@check(
    id="iam.user_mfa_for_console",
    service="iam",
    over="users",
    severity="high",
    title="IAM users with a console password should have MFA",
    resource_type="AwsIamUser",
    description="A console password without MFA can be phished or guessed into full use of "
    "the user's permissions (CIS AWS Foundations 1.10).",
    remediation="Assign an MFA device to the user, or remove the console password if the user "
    "does not sign in.",
    references=[_IAM_DOC + "id_credentials_mfa_enable.html"],
)
def user_mfa_for_console(user: Res, ctx: CheckContext) -> Verdict | None:
    if user["LoginProfile"] is None:
        return None
    devices = [d.get("SerialNumber") for d in user["MFADevices"]]
    return verdict(
        bool(devices),
        f"MFA device(s): {', '.join(map(str, devices))}",
        "the user has a console password and no MFA device",
    )


def _stale_credentials(user: Res, ctx: CheckContext) -> list[str]:
    stale = []
    if user["LoginProfile"] is not None:
        row = _report_row(ctx, user.arn)
        if row is None:
            raise DataUnavailable(
                f"iam.credential_report[{user.name}]",
                "Missing",
                "the user is not in the credential report yet",
            )
        last = row.get("password_last_used")
        idle = _idle_days(last, user["LoginProfile"].get("CreateDate"))
        if idle is not None and idle > _UNUSED_DAYS:
            said = f"last used {last}" if _when(last) else "never used"
            stale.append(f"console password ({said}, idle {idle:.0f} days)")
    for key in _active_keys(user):
        last = (key.get("LastUsed") or {}).get("LastUsedDate")
        idle = _idle_days(last, key.get("CreateDate"))
        if idle is not None and idle > _UNUSED_DAYS:
            said = f"last used {last}" if last else "never used"
            stale.append(f"access key {key.get('AccessKeyId')} ({said}, idle {idle:.0f} days)")
    return stale


@check(
    id="iam.user_unused_credentials_disabled",
    service="iam",
    over="users",
    severity="medium",
    title=f"IAM credentials unused for {_UNUSED_DAYS} days or more should be disabled",
    resource_type="AwsIamUser",
    description="Passwords and access keys nobody uses are still valid ways in; disabling them "
    "removes that exposure (CIS AWS Foundations 1.12).",
    remediation="Remove the console password and deactivate or delete the access keys that "
    "have not been used.",
    remediation_cli="aws iam update-access-key --user-name <user> --access-key-id <key-id> "
    "--status Inactive",
    references=[_IAM_DOC + "id_credentials_finding-unused.html"],
)
def user_unused_credentials_disabled(user: Res, ctx: CheckContext) -> Verdict:
    stale = _stale_credentials(user, ctx)
    return verdict(
        not stale,
        f"no password or active key unused for {_UNUSED_DAYS} days",
        f"unused credentials: {'; '.join(stale)}",
        stale=stale,
    )


@check(
    id="iam.user_single_active_access_key",
    service="iam",
    over="users",
    severity="medium",
    title="IAM users should have at most one active access key",
    resource_type="AwsIamUser",
    description="Two active keys are meant only for a rotation in progress; kept longer, they "
    "double what can leak (CIS AWS Foundations 1.13).",
    remediation="Deactivate and delete the access key that is no longer used.",
    remediation_cli="aws iam delete-access-key --user-name <user> --access-key-id <key-id>",
    references=[_IAM_DOC + "id_credentials_access-keys.html"],
)
def user_single_active_access_key(user: Res, ctx: CheckContext) -> Verdict:
    active = [str(k.get("AccessKeyId")) for k in _active_keys(user)]
    return verdict(
        len(active) <= 1,
        f"{len(active)} active access key(s)",
        f"{len(active)} active access keys: {', '.join(active)}",
        keys=active,
    )


@check(
    id="iam.access_key_rotated",
    service="iam",
    over="users",
    severity="medium",
    title=f"IAM access keys should be rotated every {_KEY_MAX_AGE_DAYS} days or less",
    resource_type="AwsIamUser",
    description="The older a key, the more places it has been copied to and the longer a "
    "leaked copy stays useful (CIS AWS Foundations 1.14).",
    remediation="Create a new access key, move its users over, then deactivate and delete the "
    "old key.",
    remediation_cli="aws iam create-access-key --user-name <user>",
    references=[_IAM_DOC + "id_credentials_access-keys.html#rotating_access_keys_console"],
)
def access_key_rotated(user: Res, ctx: CheckContext) -> Verdict | None:
    keys = _active_keys(user)
    if not keys:
        return None
    ages = {str(k.get("AccessKeyId")): _days_since(k.get("CreateDate")) for k in keys}
    if any(age is None for age in ages.values()):
        raise DataUnavailable(f"iam.users[{user.name}].AccessKeys", "Missing", "no CreateDate")
    old = {key: age for key, age in ages.items() if age is not None and age > _KEY_MAX_AGE_DAYS}
    said = ", ".join(f"{key} is {age:.0f} days old" for key, age in old.items())
    return verdict(
        not old,
        f"every active key is at most {_KEY_MAX_AGE_DAYS} days old",
        f"access key {said}",
        age_days={k: round(a or 0) for k, a in ages.items()},
    )


@check(
    id="iam.user_no_direct_policies",
    service="iam",
    over="users",
    severity="low",
    title="IAM users should receive permissions only through groups or roles",
    resource_type="AwsIamUser",
    description="Policies attached to individual users are hard to review and tend to "
    "accumulate; granting through groups keeps access consistent "
    "(CIS AWS Foundations 1.15).",
    remediation="Move the user's policies to a group, add the user to it, and detach the "
    "user's own policies.",
    references=[_IAM_DOC + "best-practices.html"],
)
def user_no_direct_policies(user: Res, ctx: CheckContext) -> Verdict:
    managed = [
        str(p.get("PolicyName") or p.get("PolicyArn")) for p in user["AttachedManagedPolicies"]
    ]
    inline = [str(p.get("PolicyName")) for p in user["UserPolicyList"]]
    return verdict(
        not managed and not inline,
        "no policy attached to the user directly",
        f"policies on the user: {', '.join(managed + inline)}",
        managed=managed,
        inline=inline,
    )


# -- policies ----------------------------------------------------------------------------------


def _default_document(policy: Res) -> Any:
    default = policy.get("DefaultVersionId")
    for version in policy["PolicyVersionList"]:
        if version.get("IsDefaultVersion") is True or version.get("VersionId") == default:
            return version.get("Document")
    raise DataUnavailable(f"iam.policies[{policy.name}]", "Missing", "no default version")


@check(
    id="iam.policy_no_full_admin",
    service="iam",
    over="policies",
    severity="high",
    title='Attached customer managed policies should not allow full "*:*" administrator access',
    resource_type="AwsIamPolicy",
    description="A policy that allows every action on every resource makes whoever holds it "
    "an administrator; least privilege means granting only what a job needs "
    "(CIS AWS Foundations 1.16).",
    remediation='Replace the "Action": "*", "Resource": "*" statement with the actions '
    "and resources actually needed, or detach the policy.",
    references=[_IAM_DOC + "best-practices.html#grant-least-privilege"],
)
def policy_no_full_admin(policy: Res, ctx: CheckContext) -> Verdict | None:
    if ":iam::aws:policy/" in policy.arn or not policy.get("AttachmentCount"):
        return None
    admin = allows_full_admin(_default_document(policy), f"policy {policy.name}")
    return verdict(
        not admin,
        'the default version does not allow "*:*"',
        f'the default version allows "*:*" and is attached {policy["AttachmentCount"]} time(s)',
    )


def _inline_admin_check(list_key: str) -> Callable[[Res, CheckContext], Verdict]:
    def evaluate(principal: Res, ctx: CheckContext) -> Verdict:
        admin = [
            str(p.get("PolicyName"))
            for p in principal[list_key]
            if allows_full_admin(
                p.get("PolicyDocument"), f"inline policy {p.get('PolicyName')} of {principal.name}"
            )
        ]
        return verdict(
            not admin,
            'no inline policy allows "*:*"',
            f'inline policy {", ".join(admin)} allows "*:*"',
            policies=admin,
        )

    return evaluate


# One check per principal kind, so that each finding names the user, group or role at fault.
for _id, _kind, _list, _type in (
    ("iam.inline_policy_no_full_admin", "users", "UserPolicyList", "AwsIamUser"),
    ("iam.group_inline_policy_no_full_admin", "groups", "GroupPolicyList", "AwsIamGroup"),
    ("iam.role_inline_policy_no_full_admin", "roles", "RolePolicyList", "AwsIamRole"),
):
    check(
        id=_id,
        service="iam",
        over=_kind,
        severity="high",
        resource_type=_type,
        title=f'Inline policies of IAM {_kind} should not allow full "*:*" administrator access',
        description=f"An inline policy that allows every action on every resource makes the "
        f"{_kind[:-1]} an administrator, outside any reviewed managed policy.",
        remediation="Replace the inline policy with a managed policy that grants only the "
        "actions and resources needed.",
        references=[_IAM_DOC + "access_policies_managed-vs-inline.html"],
    )(_inline_admin_check(_list))


# -- AWS managed policies attached to anyone ---------------------------------------------------


@check(
    id="iam.support_role_exists",
    service="iam",
    over=ACCOUNT,
    severity="low",
    title="A role or group should be allowed to manage incidents with AWS Support",
    resource_type="AwsAccount",
    description="Someone other than the root user must be able to open and follow AWS Support "
    "cases during an incident (CIS AWS Foundations 1.17).",
    remediation="Attach the AWSSupportAccess managed policy to a role or group for the "
    "incident responders.",
    remediation_cli="aws iam attach-role-policy --role-name <role> "
    "--policy-arn arn:aws:iam::aws:policy/AWSSupportAccess",
    references=[
        "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSSupportAccess.html"
    ],
)
def support_role_exists(ctx: CheckContext) -> Verdict:
    holders = _principals_with(ctx, _aws_policy_arn(ctx, "AWSSupportAccess"))
    return verdict(
        bool(holders),
        f"AWSSupportAccess is attached to {', '.join(holders)}",
        "AWSSupportAccess is attached to no user, group or role",
        principals=holders,
    )


@check(
    id="iam.cloudshell_full_access_restricted",
    service="iam",
    over=ACCOUNT,
    severity="medium",
    title="AWSCloudShellFullAccess should not be attached to any user, group or role",
    resource_type="AwsAccount",
    description="CloudShell's full access policy allows uploading and downloading files to a "
    "shell with the holder's credentials, a ready channel for data exfiltration "
    "(CIS AWS Foundations 1.22).",
    remediation="Detach AWSCloudShellFullAccess and grant a narrower CloudShell policy where "
    "needed.",
    references=[
        "https://docs.aws.amazon.com/cloudshell/latest/userguide/sec-auth-with-identities.html"
    ],
)
def cloudshell_full_access_restricted(ctx: CheckContext) -> Verdict:
    holders = _principals_with(ctx, _aws_policy_arn(ctx, "AWSCloudShellFullAccess"))
    return verdict(
        not holders,
        "AWSCloudShellFullAccess is attached to nobody",
        f"AWSCloudShellFullAccess is attached to {', '.join(holders)}",
        principals=holders,
    )


# -- server certificates and roles -------------------------------------------------------------


@check(
    id="iam.expired_server_certificates_removed",
    service="iam",
    over="server_certificates",
    severity="medium",
    title="Expired SSL/TLS certificates stored in IAM should be removed",
    resource_type="AwsIamServerCertificate",
    description="An expired certificate can be deployed to a load balancer or CloudFront by "
    "mistake and break or weaken its TLS (CIS AWS Foundations 1.19).",
    remediation="Delete the expired server certificate.",
    remediation_cli="aws iam delete-server-certificate --server-certificate-name <name>",
    references=[_IAM_DOC + "id_credentials_server-certs.html"],
)
def expired_server_certificates_removed(cert: Res, ctx: CheckContext) -> Verdict:
    expires = _when(cert["Expiration"])
    if expires is None:
        raise DataUnavailable(f"iam.server_certificates[{cert.name}].Expiration", "Malformed")
    return verdict(
        expires > utcnow(),
        f"valid until {expires:%Y-%m-%d}",
        f"expired on {expires:%Y-%m-%d}",
        expiration=expires.isoformat(),
    )


@check(
    id="iam.role_trust_not_public",
    service="iam",
    over="roles",
    severity="critical",
    title="IAM role trust policies should not let anyone assume the role",
    resource_type="AwsIamRole",
    description='A trust policy that allows Principal "*" without a restricting condition '
    "lets any AWS account (or anyone, for web identity) assume the role and use "
    "its permissions.",
    remediation="Name the accounts, roles or services that may assume the role, or add a "
    "condition such as aws:PrincipalOrgID.",
    references=[
        _IAM_DOC + "id_roles_create_for-user.html",
        _IAM_DOC + "reference_policies_elements_principal.html",
    ],
)
def role_trust_not_public(role: Res, ctx: CheckContext) -> Verdict | None:
    if str(role.get("Path", "")).startswith("/aws-service-role/"):
        return None  # AWS owns service-linked roles' trust and lets nobody change it
    sids = public_statements(role["AssumeRolePolicyDocument"], f"trust policy of {role.name}")
    return verdict(
        not sids,
        "no trust statement lets anyone assume the role",
        f"trust statement(s) {', '.join(sids)} allow anyone to assume the role",
        statements=sids,
    )
