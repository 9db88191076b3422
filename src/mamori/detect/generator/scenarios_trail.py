"""Attack scenarios that show in CloudTrail, each with its benign look-alike where one exists.

Scenario ids are stable strings; SCENARIOS (in base) lists them with their finding types.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from mamori.detect.generator.base import Context, scenario
from mamori.detect.generator.cloudtrail import console_login, s3_object_record
from mamori.detect.generator.model import (
    KALI_AGENT,
    MALICIOUS_IPS,
    TOR_EXIT_IPS,
    UNLISTED_IP,
    Actor,
    hex_id,
)


@scenario(
    "root-usage",
    "Policy:IAMUser/RootCredentialUsage",
    "cloudtrail",
    "the root user signs in and makes API calls",
)
def _root_usage(ctx: Context) -> None:
    root, ip = ctx.world.root, ctx.world.root.ips[0]
    t = ctx.at(0)
    ctx.trail(console_login(ctx.rng, root, t, ctx.regions, mfa_used=True, ip=ip), t)
    for n, (service, name) in enumerate(
        [("iam", "ListUsers"), ("ec2", "DescribeInstances"), ("billing", "GetBillingData")]
    ):
        ctx.call(root, 60 + n * 40, service, name, ip=ip, access_key="")
    ctx.label(root.arn, f"arn:aws:iam::{ctx.world.account_id}:root", t)


@scenario(
    "cloudtrail-logging-disabled",
    "Stealth:IAMUser/CloudTrailLoggingDisabled",
    "cloudtrail",
    "a stolen key stops and deletes the trail; an admin's UpdateTrail is the look-alike",
    has_benign=True,
)
def _trail_disabled(ctx: Context) -> None:
    thief, admin, trail = ctx.person(0), ctx.world.people[4], ctx.world.trail_arn
    ip = ctx.outside_ip(3)
    t = ctx.call(thief, 0, "cloudtrail", "StopLogging", ip=ip, request={"name": trail})
    ctx.call(thief, 95, "cloudtrail", "DeleteTrail", ip=ip, request={"name": trail})
    ctx.label(thief.arn, trail, t, remote_ip=ip)
    tb = ctx.call(
        admin,
        3600,
        "cloudtrail",
        "UpdateTrail",
        request={"name": trail, "isMultiRegionTrail": True, "includeGlobalServiceEvents": True},
        response={
            "name": "org-trail",
            "trailARN": trail,
            "isMultiRegionTrail": True,
            "logFileValidationEnabled": True,
            "s3BucketName": "org-cloudtrail-logs",
        },
    )
    ctx.label(admin.arn, trail, tb, benign=True)


@scenario(
    "guardduty-detector-deleted",
    "Stealth:IAMUser/GuardDutyDisabled",
    "cloudtrail",
    "GuardDuty's detector is deleted (Mamori's own type name)",
    mamori_type=True,
)
def _detector_deleted(ctx: Context) -> None:
    actor, detector = ctx.person(3), hex_id(ctx.rng, 32)
    ctx.call(actor, 0, "guardduty", "ListDetectors", ip=ctx.outside_ip(1))
    t = ctx.call(
        actor,
        20,
        "guardduty",
        "DeleteDetector",
        ip=ctx.outside_ip(1),
        request={"detectorId": detector},
    )
    region = ctx.world.region
    ctx.label(
        actor.arn, f"arn:aws:guardduty:{region}:{ctx.world.account_id}:detector/{detector}", t
    )


_STRONG_POLICY = {
    "minimumPasswordLength": 16,
    "requireSymbols": True,
    "requireNumbers": True,
    "requireUppercaseCharacters": True,
    "requireLowercaseCharacters": True,
    "allowUsersToChangePassword": True,
    "maxPasswordAge": 90,
    "passwordReusePrevention": 24,
}


@scenario(
    "password-policy-weakened",
    "Stealth:IAMUser/PasswordPolicyChange",
    "cloudtrail",
    "the account password policy is weakened; strengthening it is the look-alike",
    has_benign=True,
)
def _password_policy(ctx: Context) -> None:
    actor, admin = ctx.person(2), ctx.world.people[4]
    weak = {**_STRONG_POLICY, "minimumPasswordLength": 6, "requireSymbols": False}
    weak.update(requireNumbers=False, maxPasswordAge=0, passwordReusePrevention=0)
    resource = f"arn:aws:iam::{ctx.world.account_id}:account-password-policy"
    tb = ctx.call(admin, 0, "iam", "UpdateAccountPasswordPolicy", request=_STRONG_POLICY)
    ctx.label(admin.arn, resource, tb, benign=True)
    t = ctx.call(
        actor, 5400, "iam", "UpdateAccountPasswordPolicy", request=weak, ip=ctx.outside_ip(2)
    )
    ctx.label(actor.arn, resource, t)


def _bucket_call(
    ctx: Context, actor: Actor, seconds: float, name: str, bucket: str, extra: dict[str, Any]
) -> datetime:
    request = {"bucketName": bucket, "Host": f"{bucket}.s3.{ctx.world.region}.amazonaws.com"}
    request.update(extra)
    resources = [
        {
            "accountId": ctx.world.account_id,
            "type": "AWS::S3::Bucket",
            "ARN": f"arn:aws:s3:::{bucket}",
        }
    ]
    return ctx.call(actor, seconds, "s3", name, request=request, resources=resources)


def _pab(block: bool) -> dict[str, Any]:
    return {
        "publicAccessBlock": "",
        "PublicAccessBlockConfiguration": {
            "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
            "BlockPublicAcls": block,
            "IgnorePublicAcls": block,
            "BlockPublicPolicy": block,
            "RestrictPublicBuckets": block,
        },
    }


@scenario(
    "s3-block-public-access-disabled",
    "Policy:S3/BucketBlockPublicAccessDisabled",
    "cloudtrail",
    "a bucket's Block Public Access is switched off; switching it on is the look-alike",
    has_benign=True,
)
def _bpa_disabled(ctx: Context) -> None:
    actor, bucket = ctx.person(1), ctx.world.buckets[1]
    tb = _bucket_call(ctx, actor, 0, "PutBucketPublicAccessBlock", ctx.world.buckets[2], _pab(True))
    ctx.label(actor.arn, f"arn:aws:s3:::{ctx.world.buckets[2]}", tb, benign=True)
    t = _bucket_call(ctx, actor, 1800, "PutBucketPublicAccessBlock", bucket, _pab(False))
    ctx.label(actor.arn, f"arn:aws:s3:::{bucket}", t)


def _policy(bucket: str, effect: str, principal: Any, condition: dict[str, Any] | None) -> str:
    statement: dict[str, Any] = {
        "Sid": "Stmt1",
        "Effect": effect,
        "Principal": principal,
        "Action": "s3:GetObject" if effect == "Allow" else "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}/*"]
        + ([f"arn:aws:s3:::{bucket}"] * (effect != "Allow")),
    }
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@scenario(
    "s3-anonymous-access",
    "Policy:S3/BucketAnonymousAccessGranted",
    "cloudtrail",
    "a bucket policy grants everyone read; a Deny-insecure-transport policy is the look-alike",
    has_benign=True,
)
def _anonymous_access(ctx: Context) -> None:
    actor, bucket, other = ctx.person(0), ctx.world.buckets[1], ctx.world.buckets[0]
    deny = _policy(other, "Deny", "*", {"Bool": {"aws:SecureTransport": "false"}})
    tb = _bucket_call(
        ctx, actor, 0, "PutBucketPolicy", other, {"bucketPolicy": json.loads(deny), "policy": ""}
    )
    ctx.label(actor.arn, f"arn:aws:s3:::{other}", tb, benign=True)
    allow = _policy(bucket, "Allow", "*", None)
    t = _bucket_call(
        ctx,
        actor,
        1200,
        "PutBucketPolicy",
        bucket,
        {"bucketPolicy": json.loads(allow), "policy": ""},
    )
    ctx.label(actor.arn, f"arn:aws:s3:::{bucket}", t)


@scenario(
    "console-login-without-mfa",
    "Policy:IAMUser/ConsoleLoginWithoutMFA",
    "cloudtrail",
    "a user signs in to the console without MFA (Mamori's own type name); a login with MFA "
    "is the look-alike",
    has_benign=True,
    mamori_type=True,
)
def _login_no_mfa(ctx: Context) -> None:
    user, careful = ctx.person(3), ctx.person(2)
    tb = ctx.at(0)
    ctx.trail(console_login(ctx.rng, careful, tb, ctx.regions, mfa_used=True), tb)
    ctx.label(careful.arn, careful.arn, tb, benign=True)
    t = ctx.at(900)
    ctx.trail(console_login(ctx.rng, user, t, ctx.regions, mfa_used=False), t)
    ctx.label(user.arn, user.arn, t)


def _recon_calls(
    ctx: Context, actor: Actor, offset: float, ip: str, agent: str | None
) -> tuple[datetime, datetime]:
    """A stolen key's first look around; returns the first call's time and ListBuckets' time."""
    times = [
        ctx.call(actor, offset + n * 25, service, name, ip=ip, user_agent=agent)
        for n, (service, name) in enumerate(
            [
                ("sts", "GetCallerIdentity"),
                ("iam", "ListUsers"),
                ("s3", "ListBuckets"),
                ("ec2", "DescribeInstances"),
            ]
        )
    ]
    return times[0], times[2]


def _s3_label(ctx: Context, actor: Actor, t: datetime, ip: str, *, benign: bool = False) -> None:
    """ListBuckets is an S3 API call too, so the same caller also raises the S3 variant of the
    finding (GuardDuty: resource AccessKey for S3 management events). The call names no bucket:
    the account is what it was about."""
    kind = ctx.spec.finding_types[1]
    ctx.label(actor.arn, ctx.world.account_id, t, benign=benign, remote_ip=ip, finding_type=kind)


def _recon_from(
    ctx: Context,
    actor: Actor,
    offset: float,
    ip: str,
    *,
    agent: str | None = None,
    benign: bool = False,
    giveaway: str | None = None,
) -> None:
    """A first look around from `ip`, labelled for the IAM and the S3 variant of the finding;
    `giveaway` is the address that gives it away (by default `ip`; "" when it is the agent)."""
    t, ts3 = _recon_calls(ctx, actor, offset, ip, agent)
    remote = ip if giveaway is None else giveaway
    ctx.label(actor.arn, actor.arn, t, benign=benign, remote_ip=remote)
    _s3_label(ctx, actor, ts3, remote, benign=benign)


@scenario(
    "tor-caller",
    "UnauthorizedAccess:IAMUser/TorIPCaller",
    "cloudtrail",
    "a user's key is used from a Tor exit node",
    also=("UnauthorizedAccess:S3/TorIPCaller",),
)
def _tor(ctx: Context) -> None:
    _recon_from(ctx, ctx.person(3), 0, TOR_EXIT_IPS[0])


@scenario(
    "malicious-ip-caller",
    "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom",
    "cloudtrail",
    "calls from an IP on a custom threat list; an unlisted neighbour is the look-alike",
    has_benign=True,
    also=("UnauthorizedAccess:S3/MaliciousIPCaller.Custom",),
)
def _malicious_ip(ctx: Context) -> None:
    actor = ctx.person(1)
    _recon_from(ctx, actor, 0, UNLISTED_IP, benign=True)
    _recon_from(ctx, actor, 2400, MALICIOUS_IPS[0])


@scenario(
    "kali-user-agent",
    "PenTest:IAMUser/KaliLinux",
    "cloudtrail",
    "API calls from a Kali Linux machine",
    also=("PenTest:S3/KaliLinux",),
)
def _kali(ctx: Context) -> None:
    # the user agent gives it away, not the address
    _recon_from(ctx, ctx.world.ci, 0, ctx.outside_ip(0), agent=KALI_AGENT, giveaway="")


@scenario(
    "instance-credential-exfiltration",
    "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
    "cloudtrail",
    "an instance role session's key is used from outside AWS; the same session calling "
    "through a VPC endpoint is the look-alike",
    has_benign=True,
)
def _instance_exfil(ctx: Context) -> None:
    inst = ctx.instance(1)
    role = inst.role
    vpce = "vpce-" + hex_id(ctx.rng, 17)
    tb = ctx.at(0)
    private = inst.private_ip
    ctx.trail(
        s3_object_record(
            ctx.rng,
            role,
            tb,
            ctx.world.region,
            "GetObject",
            ctx.world.buckets[0],
            "config/app.json",
            ip=private,
            vpc_endpoint=vpce,
        ),
        tb,
    )
    ctx.label(role.arn, inst.instance_id, tb, benign=True, remote_ip=private)
    ip = ctx.outside_ip(0)
    t, _ = _recon_calls(ctx, role, 1800, ip, "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64")
    for n in range(3):
        t2 = ctx.at(1950 + n * 10)
        ctx.trail(
            s3_object_record(
                ctx.rng,
                role,
                t2,
                ctx.world.region,
                "GetObject",
                ctx.world.buckets[0],
                f"exports/customers-{n}.csv",
                ip=ip,
            ),
            t2,
        )
    ctx.label(role.arn, inst.instance_id, t, remote_ip=ip)
