"""IAM scenarios.

moto has no root user: the account summary's root flags, the root's virtual MFA assignment and
the credential report's <root_account> row are shaped into AWS's answers per account. moto also
reports one fixed expiry for every server certificate, and no API back-dates a key or a sign-in,
so those dates are set in moto's own state.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from moto.iam.models import User, iam_backends

from tests.posture.harness import Env, scenario

_ADMIN = {"Effect": "Allow", "Action": "*", "Resource": "*"}
_READ = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
_AWS_POLICY = "arn:aws:iam::aws:policy/"


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _own_account_trust(env: Env) -> str:
    return _doc(
        {"Effect": "Allow", "Principal": {"AWS": env.account_arn()}, "Action": "sts:AssumeRole"}
    )


def _user_arn(env: Env, name: str, label: str = "main") -> str:
    return f"arn:aws:iam::{env.account(label)}:user/{name}"


def _user(
    env: Env, name: str, label: str = "main", *, password: bool = False, keys: int = 0
) -> str:
    iam = env.client("iam", label)
    iam.create_user(UserName=name)
    if password:
        iam.create_login_profile(UserName=name, Password="Correct-Horse-42-Battery!")
    for _ in range(keys):
        iam.create_access_key(UserName=name)
    return _user_arn(env, name, label)


def _moto_user(env: Env, name: str, label: str = "main") -> User:
    """moto's stored user: the only place a key's or a password's dates can be set."""
    return iam_backends[env.account(label)]["aws"].users[name]


def _days_ago(days: int) -> datetime:
    # moto keeps naive UTC datetimes.
    return datetime.now(UTC).replace(tzinfo=None) - timedelta(days=days)


def _amend_account(
    env: Env, label: str, operation: str, fn: Callable[[dict[str, Any]], None]
) -> None:
    """Like env.amend, for one account only: the root user's settings differ per account."""

    def edit(parsed: dict[str, Any], **_: Any) -> None:
        fn(parsed)

    env.session(label).session.events.register(f"after-call.iam.{operation}", edit)


def _summary(env: Env, label: str, **values: int) -> None:
    # moto cannot give the root user access keys or MFA (it has no root user).
    _amend_account(
        env, label, "GetAccountSummary", lambda parsed: parsed["SummaryMap"].update(values)
    )


# -- the root user -----------------------------------------------------------------------------


@scenario("iam.root_access_key_absent")
def root_access_key(env: Env) -> None:
    env.passes(env.account_arn("main"))
    _summary(env, "other", AccountAccessKeysPresent=1)
    env.fails(env.account_arn("other"), "other")


@scenario("iam.root_mfa_enabled")
def root_mfa(env: Env) -> None:
    _summary(env, "main", AccountMFAEnabled=1)
    env.passes(env.account_arn("main"))
    env.fails(env.account_arn("other"), "other")


@scenario("iam.root_hardware_mfa_enabled")
def root_hardware_mfa(env: Env) -> None:
    _summary(env, "main", AccountMFAEnabled=1)
    env.passes(env.account_arn("main"))

    _summary(env, "other", AccountMFAEnabled=1)
    device = env.client("iam", "other").create_virtual_mfa_device(
        VirtualMFADeviceName="root-account-mfa-device"
    )["VirtualMFADevice"]
    root = env.account_arn("other")

    def assign_to_root(parsed: dict[str, Any]) -> None:
        # moto cannot assign a virtual device to the root user; AWS lists it like this.
        for item in parsed["VirtualMFADevices"]:
            if item["SerialNumber"] == device["SerialNumber"]:
                item["User"] = {
                    "Path": "/",
                    "UserId": env.account("other"),
                    "Arn": root,
                    "CreateDate": _days_ago(400),
                }
                item["EnableDate"] = _days_ago(300)

    _amend_account(env, "other", "ListVirtualMFADevices", assign_to_root)
    env.fails(root, "other")


def _root_row(account: str, password_used: datetime) -> str:
    stamp = password_used.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return (
        f"<root_account>,arn:aws:iam::{account}:root,2019-01-01T00:00:00+00:00,"
        f"not_supported,{stamp},not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,"
        f"false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
    )


def _root_signed_in(env: Env, label: str, days_ago: int) -> None:
    row = _root_row(env.account(label), _days_ago(days_ago))

    def add_root(parsed: dict[str, Any]) -> None:
        # AWS lists the root user first, right after the header; moto has no root row.
        header, _, users = parsed["Content"].decode().partition("\n")
        parsed["Content"] = f"{header}\n{row}\n{users}".encode()

    _amend_account(env, label, "GetCredentialReport", add_root)


@scenario("iam.root_not_used_recently")
def root_not_used(env: Env) -> None:
    _root_signed_in(env, "main", days_ago=200)
    env.passes(env.account_arn("main"))
    _root_signed_in(env, "other", days_ago=3)
    env.fails(env.account_arn("other"), "other")


# -- the password policy -----------------------------------------------------------------------


def _strong_password_policy(env: Env) -> None:
    env.client("iam", "main").update_account_password_policy(
        MinimumPasswordLength=16,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        PasswordReusePrevention=24,
        MaxPasswordAge=60,
    )
    env.passes(env.account_arn("main"))


@scenario(
    "iam.password_policy_min_length",
    "iam.password_policy_reuse_prevention",
    "iam.password_policy_complexity",
)
def weak_password_policy(env: Env) -> None:
    _strong_password_policy(env)
    env.client("iam", "weak").update_account_password_policy(
        MinimumPasswordLength=8,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        PasswordReusePrevention=5,
        MaxPasswordAge=60,
    )
    env.fails(env.account_arn("weak"), "weak")


@scenario("iam.password_policy_expiry")
def no_password_policy(env: Env) -> None:
    _strong_password_policy(env)
    env.session("no-policy")
    env.fails(env.account_arn("no-policy"), "no-policy")


# -- users' credentials ------------------------------------------------------------------------


@scenario("iam.user_mfa_for_console")
def user_mfa(env: Env) -> None:
    iam = env.client("iam")
    env.passes(_user(env, "with-mfa", password=True))
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="with-mfa")["VirtualMFADevice"][
        "SerialNumber"
    ]
    iam.enable_mfa_device(
        UserName="with-mfa",
        SerialNumber=serial,
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    env.fails(_user(env, "no-mfa", password=True))
    _user(env, "api-only", keys=1)  # no console password: not applicable


@scenario("iam.user_unused_credentials_disabled")
def unused_credentials(env: Env) -> None:
    env.passes(_user(env, "fresh", password=True, keys=1))
    env.passes(_user(env, "no-credentials"))
    env.fails(_user(env, "idle-console", password=True))
    # moto annotates this attribute as None although it stores sign-in times there.
    _moto_user(env, "idle-console").password_last_used = _days_ago(100)  # type: ignore[assignment]
    env.fails(_user(env, "idle-key", keys=1))
    _moto_user(env, "idle-key").access_keys[0].create_date = _days_ago(60)


@scenario("iam.user_single_active_access_key")
def single_active_key(env: Env) -> None:
    env.fails(_user(env, "two-keys", keys=2))
    env.passes(_user(env, "rotating", keys=2))
    key = _moto_user(env, "rotating").access_keys[0].access_key_id
    env.client("iam").update_access_key(UserName="rotating", AccessKeyId=key, Status="Inactive")


@scenario("iam.access_key_rotated")
def key_rotated(env: Env) -> None:
    env.passes(_user(env, "new-key", keys=1))
    env.fails(_user(env, "old-key", keys=1))
    _moto_user(env, "old-key").access_keys[0].create_date = _days_ago(120)
    _user(env, "keyless")  # no key: not applicable


@scenario("iam.user_no_direct_policies")
def direct_policies(env: Env) -> None:
    iam = env.client("iam")
    iam.create_group(GroupName="readers")
    iam.attach_group_policy(GroupName="readers", PolicyArn=_AWS_POLICY + "ReadOnlyAccess")
    env.passes(_user(env, "grouped"))
    iam.add_user_to_group(GroupName="readers", UserName="grouped")
    env.fails(_user(env, "attached"))
    iam.attach_user_policy(UserName="attached", PolicyArn=_AWS_POLICY + "ReadOnlyAccess")
    env.fails(_user(env, "inline"))
    iam.put_user_policy(UserName="inline", PolicyName="read", PolicyDocument=_doc(_READ))


# -- policies ----------------------------------------------------------------------------------


@scenario("iam.policy_no_full_admin")
def managed_admin(env: Env) -> None:
    iam = env.client("iam")
    iam.create_role(
        RoleName="ops",
        AssumeRolePolicyDocument=_doc(
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ),
    )
    for name, statement in (("god-mode", _ADMIN), ("reader", _READ), ("unused-admin", _ADMIN)):
        arn = iam.create_policy(PolicyName=name, PolicyDocument=_doc(statement))["Policy"]["Arn"]
        if name != "unused-admin":
            iam.attach_role_policy(RoleName="ops", PolicyArn=arn)
    account = env.account()
    env.fails(f"arn:aws:iam::{account}:policy/god-mode")
    env.passes(f"arn:aws:iam::{account}:policy/reader")
    # A non-default version granting admin does not count: only the default one is in force.
    iam.create_policy_version(
        PolicyArn=f"arn:aws:iam::{account}:policy/reader",
        PolicyDocument=_doc(_ADMIN),
        SetAsDefault=False,
    )


def _inline_admin_scenario(kind: str) -> None:
    """Each inline-admin check judges one principal kind; its scenario builds only that kind."""

    def build(env: Env) -> None:
        iam = env.client("iam")
        account = env.account()
        for name, statement, expect in (
            ("admin", _ADMIN, env.fails),
            ("reader", _READ, env.passes),
        ):
            if kind == "role":
                iam.create_role(RoleName=name, AssumeRolePolicyDocument=_own_account_trust(env))
            else:
                getattr(iam, f"create_{kind}")(**{f"{kind.title()}Name": name})
            getattr(iam, f"put_{kind}_policy")(
                **{
                    f"{kind.title()}Name": name,
                    "PolicyName": "p",
                    "PolicyDocument": _doc(statement),
                }
            )
            expect(f"arn:aws:iam::{account}:{kind}/{name}")

    check_id = {"user": "iam.inline_policy_no_full_admin"}.get(
        kind, f"iam.{kind}_inline_policy_no_full_admin"
    )
    scenario(check_id)(build)


for _kind in ("user", "group", "role"):
    _inline_admin_scenario(_kind)


# -- AWS managed policies attached to anyone ---------------------------------------------------


@scenario("iam.support_role_exists")
def support_role(env: Env) -> None:
    iam = env.client("iam")
    iam.create_role(
        RoleName="support",
        AssumeRolePolicyDocument=_own_account_trust(env),
    )
    iam.attach_role_policy(RoleName="support", PolicyArn=_AWS_POLICY + "AWSSupportAccess")
    env.passes(env.account_arn("main"))
    env.fails(env.account_arn("other"), "other")


@scenario("iam.cloudshell_full_access_restricted")
def cloudshell(env: Env) -> None:
    _user(env, "shell-user")
    env.client("iam").attach_user_policy(
        UserName="shell-user", PolicyArn=_AWS_POLICY + "AWSCloudShellFullAccess"
    )
    env.fails(env.account_arn("main"))
    env.session("other")
    env.passes(env.account_arn("other"), "other")


# -- server certificates and roles -------------------------------------------------------------


def _certificate(name: str, not_after: datetime) -> tuple[str, str]:
    """A self-signed certificate (PEM) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name}.example.com")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - timedelta(days=365))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), pem_key.decode()


@scenario("iam.expired_server_certificates_removed")
def server_certificates(env: Env) -> None:
    iam = env.client("iam")
    now = datetime.now(UTC)
    expiry = {"current": now + timedelta(days=200), "lapsed": now - timedelta(days=30)}
    for name, not_after in expiry.items():
        body, key = _certificate(name, not_after)
        iam.upload_server_certificate(
            ServerCertificateName=name, CertificateBody=body, PrivateKey=key
        )

    def real_expiry(parsed: dict[str, Any], params: dict[str, Any]) -> None:
        # moto answers one fixed Expiration for every certificate instead of reading the
        # certificate; AWS reports the certificate's notAfter.
        for item in parsed["ServerCertificateMetadataList"]:
            item["Expiration"] = expiry[item["ServerCertificateName"]]

    env.amend("iam", "ListServerCertificates", real_expiry)
    account = env.account()
    env.passes(f"arn:aws:iam::{account}:server-certificate/current")
    env.fails(f"arn:aws:iam::{account}:server-certificate/lapsed")


@scenario("iam.role_trust_not_public")
def role_trust(env: Env) -> None:
    iam = env.client("iam")
    account = env.account()
    trusts = {
        "anyone": (
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
            env.fails,
        ),
        "org-only": (
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
            },
            env.passes,
        ),
        "partner": (
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                "Action": "sts:AssumeRole",
            },
            env.passes,
        ),
    }
    for name, (statement, expect) in trusts.items():
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=_doc(statement))
        expect(f"arn:aws:iam::{account}:role/{name}")
