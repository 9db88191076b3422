"""CloudTrail scenarios of persistence, credential access, exposure, discovery and impact."""

from __future__ import annotations

import json
from datetime import timedelta

from mamori.detect.generator.base import Context, denied, scenario
from mamori.detect.generator.cloudtrail import s3_object_record
from mamori.detect.generator.model import OFFICE_NETWORKS, OUTSIDE_ACCOUNT, hex_id, upper_id

_PERSIST = "Persistence:IAMUser/UserPermissions"


def _iam_arn(ctx: Context, kind: str, name: str) -> str:
    return f"arn:aws:iam::{ctx.world.account_id}:{kind}/{name}"


def _access_key_response(ctx: Context, user: str) -> dict[str, object]:
    return {
        "accessKey": {
            "accessKeyId": "AKIA" + upper_id(ctx.rng, 16),
            "status": "Active",
            "userName": user,
            "createDate": ctx.t0.strftime("%b %d, %Y %I:%M:%S %p"),
        }
    }


@scenario(
    "iam-access-key-for-other-user",
    _PERSIST,
    "cloudtrail",
    "a stolen key creates an access key for another user; a user creating their own key is "
    "the look-alike",
    has_benign=True,
)
def _key_for_other(ctx: Context) -> None:
    own, thief, victim = ctx.person(2), ctx.person(0), ctx.person(1)
    tb = ctx.call(
        own, 0, "iam", "CreateAccessKey", request=None, response=_access_key_response(ctx, own.name)
    )
    ctx.label(own.arn, own.arn, tb, benign=True)
    ip = ctx.outside_ip(1)
    t = ctx.call(
        thief,
        2700,
        "iam",
        "CreateAccessKey",
        ip=ip,
        request={"userName": victim.name},
        response=_access_key_response(ctx, victim.name),
    )
    ctx.label(thief.arn, victim.arn, t, remote_ip=ip)


def _trust(principal: str | dict[str, str]) -> str:
    """A trust policy as CloudTrail records it (JSON text): an account id or a Principal."""
    who = {"AWS": f"arn:aws:iam::{principal}:root"} if isinstance(principal, str) else principal
    statement = {"Effect": "Allow", "Principal": who, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@scenario(
    "iam-trust-outside-account",
    _PERSIST,
    "cloudtrail",
    "a role's trust policy is changed to trust an account outside the organisation; trusting "
    "a sibling account is the look-alike",
    has_benign=True,
)
def _trust_outside(ctx: Context) -> None:
    admin = ctx.world.people[4]
    sibling = ctx.other_account()
    role = _iam_arn(ctx, "role", "deploy-role")
    if sibling:
        tb = ctx.call(
            admin,
            0,
            "iam",
            "UpdateAssumeRolePolicy",
            request={"roleName": "deploy-role", "policyDocument": _trust(sibling)},
        )
        ctx.label(admin.arn, role, tb, benign=True)
    actor, ip = ctx.person(3), ctx.outside_ip(3)
    t = ctx.call(
        actor,
        3000,
        "iam",
        "UpdateAssumeRolePolicy",
        ip=ip,
        request={"roleName": "deploy-role", "policyDocument": _trust(OUTSIDE_ACCOUNT)},
    )
    ctx.label(actor.arn, role, t, remote_ip=ip)


def _new_user(ctx: Context, seconds: float, name: str, policy: str, ip: str | None) -> None:
    actor = ctx.person(0)
    ctx.call(
        actor,
        seconds,
        "iam",
        "CreateUser",
        ip=ip,
        request={"userName": name},
        response={
            "user": {
                "path": "/",
                "userName": name,
                "userId": "AIDA" + upper_id(ctx.rng, 17),
                "arn": _iam_arn(ctx, "user", name),
            }
        },
    )
    ctx.call(
        actor,
        seconds + 30,
        "iam",
        "AttachUserPolicy",
        ip=ip,
        request={"userName": name, "policyArn": f"arn:aws:iam::aws:policy/{policy}"},
    )


@scenario(
    "iam-admin-user-created",
    _PERSIST,
    "cloudtrail",
    "a new user is created and given AdministratorAccess; a new read-only user is the look-alike",
    has_benign=True,
)
def _admin_user(ctx: Context) -> None:
    actor = ctx.person(0)
    _new_user(ctx, 0, "auditor-temp", "ReadOnlyAccess", None)
    ctx.label(actor.arn, _iam_arn(ctx, "user", "auditor-temp"), ctx.at(0), benign=True)
    ip = ctx.outside_ip(0)
    _new_user(ctx, 4000, "svc-backup2", "AdministratorAccess", ip)
    ctx.label(actor.arn, _iam_arn(ctx, "user", "svc-backup2"), ctx.at(4000), remote_ip=ip)


@scenario(
    "secrets-bulk-read",
    "CredentialAccess:IAMUser/AnomalousBehavior",
    "cloudtrail",
    "one principal reads 45 different secrets in minutes; a deploy reading three is the look-alike",
    has_benign=True,
    needs_history=True,
)
def _secrets(ctx: Context) -> None:
    ci = ctx.world.ci
    for n, secret in enumerate(ctx.world.secrets[:3]):
        ctx.call(ci, n * 5, "secretsmanager", "GetSecretValue", request={"secretId": secret})
    ctx.label(ci.arn, ci.arn, ctx.at(0), benign=True)
    actor, ip = ctx.person(2), ctx.outside_ip(2)
    ctx.call(actor, 1800, "secretsmanager", "ListSecrets", ip=ip)
    for n, secret in enumerate(ctx.world.secrets[3:]):
        ctx.call(
            actor,
            1810 + n * 6,
            "secretsmanager",
            "GetSecretValue",
            ip=ip,
            request={"secretId": secret},
        )
    ctx.label(actor.arn, actor.arn, ctx.at(1800), remote_ip=ip)


def _share(ctx: Context, seconds: float, snapshot: str, account: str, ip: str | None) -> None:
    ctx.call(
        ctx.person(1),
        seconds,
        "ec2",
        "ModifySnapshotAttribute",
        ip=ip,
        request={
            "snapshotId": snapshot,
            "attributeType": "CREATE_VOLUME_PERMISSION",
            "createVolumePermission": {"add": {"items": [{"userId": account}]}},
        },
        response={"_return": True},
    )


@scenario(
    "snapshot-shared-outside",
    "Exfiltration:IAMUser/AnomalousBehavior",
    "cloudtrail",
    "an EBS snapshot is shared with an account outside the organisation; sharing with a "
    "sibling account is the look-alike",
    has_benign=True,
)
def _snapshot(ctx: Context) -> None:
    actor, region, acct = ctx.person(1), ctx.world.region, ctx.world.account_id
    sibling = ctx.other_account()
    snap_ok, snap_bad = "snap-" + hex_id(ctx.rng, 17), "snap-" + hex_id(ctx.rng, 17)
    if sibling:
        _share(ctx, 0, snap_ok, sibling, None)
        ctx.label(
            actor.arn, f"arn:aws:ec2:{region}:{acct}:snapshot/{snap_ok}", ctx.at(0), benign=True
        )
    ip = ctx.outside_ip(1)
    _share(ctx, 2000, snap_bad, OUTSIDE_ACCOUNT, ip)
    ctx.label(
        actor.arn, f"arn:aws:ec2:{region}:{acct}:snapshot/{snap_bad}", ctx.at(2000), remote_ip=ip
    )


def _ingress(ctx: Context, seconds: float, group: str, cidr: str) -> None:
    permission = {
        "ipProtocol": "tcp",
        "fromPort": 22,
        "toPort": 22,
        "groups": {},
        "ipRanges": {"items": [{"cidrIp": cidr}]},
        "ipv6Ranges": {},
        "prefixListIds": {},
    }
    ctx.call(
        ctx.person(1),
        seconds,
        "ec2",
        "AuthorizeSecurityGroupIngress",
        request={"groupId": group, "ipPermissions": {"items": [permission]}},
        response={
            "_return": True,
            "securityGroupRuleSet": {
                "items": [
                    {
                        "groupId": group,
                        "isEgress": False,
                        "ipProtocol": "tcp",
                        "fromPort": 22,
                        "toPort": 22,
                        "cidrIpv4": cidr,
                        "securityGroupRuleId": "sgr-" + hex_id(ctx.rng, 17),
                    }
                ]
            },
        },
    )


@scenario(
    "security-group-open-world",
    "Policy:EC2/SecurityGroupOpenToWorld",
    "cloudtrail",
    "SSH is opened to 0.0.0.0/0 (Mamori's own type name); opening it to the office range is "
    "the look-alike",
    has_benign=True,
    mamori_type=True,
)
def _sg_open(ctx: Context) -> None:
    actor, region, acct = ctx.person(1), ctx.world.region, ctx.world.account_id
    ok, bad = "sg-" + hex_id(ctx.rng, 17), "sg-" + hex_id(ctx.rng, 17)
    _ingress(ctx, 0, ok, OFFICE_NETWORKS[0])
    ctx.label(actor.arn, f"arn:aws:ec2:{region}:{acct}:security-group/{ok}", ctx.at(0), benign=True)
    _ingress(ctx, 1500, bad, "0.0.0.0/0")
    ctx.label(actor.arn, f"arn:aws:ec2:{region}:{acct}:security-group/{bad}", ctx.at(1500))


_DISCOVERY = [
    ("iam", "ListRoles"),
    ("iam", "ListUsers"),
    ("iam", "GetAccountAuthorizationDetails"),
    ("ec2", "DescribeInstances"),
    ("s3", "ListBuckets"),
    ("secretsmanager", "ListSecrets"),
    ("lambda", "ListFunctions20150331"),
    ("rds", "DescribeDBInstances"),
    ("kms", "ListKeys"),
    ("dynamodb", "ListTables"),
    ("ssm", "DescribeParameters"),
    ("organizations", "ListAccounts"),
]


@scenario(
    "access-denied-burst",
    "Discovery:IAMUser/AnomalousBehavior",
    "cloudtrail",
    "a stolen key enumerates a dozen services and is mostly refused; an app retrying one "
    "denied call a few times is the look-alike",
    has_benign=True,
    needs_history=True,
)
def _denied_burst(ctx: Context) -> None:
    app = ctx.instance(0).role
    for n in range(4):
        ctx.call(
            app,
            n * 30,
            "sqs",
            "ReceiveMessage",
            error=denied(app, "sqs", "ReceiveMessage"),
            request={"queueUrl": "https://sqs.amazonaws.com/orders"},
        )
    ctx.label(app.arn, app.arn, ctx.at(0), benign=True)
    actor, ip = ctx.world.ci, ctx.outside_ip(1)
    for n in range(60):
        service, name = _DISCOVERY[n % len(_DISCOVERY)]
        ok = n % 7 == 0
        ctx.call(
            actor,
            2400 + n * 3,
            service,
            name,
            ip=ip,
            error=None if ok else denied(actor, service, name),
        )
    ctx.label(actor.arn, actor.arn, ctx.at(2400), remote_ip=ip)


@scenario(
    "s3-mass-deletion",
    "Impact:S3/ObjectDeletion.Unusual",
    "cloudtrail",
    "a user deletes 250 objects in minutes; the backup role's nightly clean-up of the same "
    "size is the look-alike",
    has_benign=True,
    needs_history=True,
)
def _mass_delete(ctx: Context) -> None:
    backup, bucket = ctx.world.backup, ctx.world.buckets[2]
    midnight = ctx.start
    for day in range(ctx.days):
        # The clean-up runs every night, so by the second night it is the role's habit.
        night = midnight + timedelta(days=day, hours=2, minutes=10)
        for n in range(250):
            t = night + timedelta(seconds=n * 2)
            key = f"tmp/{night:%Y-%m-%d}/chunk-{n:05d}.bak"
            ctx.trail(
                s3_object_record(ctx.rng, backup, t, ctx.world.region, "DeleteObject", bucket, key),
                t,
            )
        if day > 0:
            ctx.label(backup.arn, f"arn:aws:s3:::{bucket}", night, benign=True)
    actor, ip, target = ctx.person(2), ctx.outside_ip(3), ctx.world.buckets[0]
    for n in range(250):
        t = ctx.at(600 + n)
        key = f"data/{ctx.t0:%Y/%m/%d}/part-{n:05d}.parquet"
        ctx.trail(
            s3_object_record(
                ctx.rng, actor, t, ctx.world.region, "DeleteObject", target, key, ip=ip
            ),
            t,
        )
    ctx.label(actor.arn, f"arn:aws:s3:::{target}", ctx.at(600), remote_ip=ip)


# A network and a client no one in the generated world uses.
STOLEN_KEY_IP = "198.18.42.7"
STOLEN_KEY_AGENT = "aws-sdk-go/1.44.0 (go1.20.4; linux; amd64)"
_ANOMALIES = (
    "Persistence:IAMUser/AnomalousBehavior",
    "PrivilegeEscalation:IAMUser/AnomalousBehavior",
    "Impact:IAMUser/AnomalousBehavior",
)


@scenario(
    "iam-anomalous-behaviour",
    _ANOMALIES[0],
    "cloudtrail",
    "a developer's stolen keys, used from a network and with a client the developer never "
    "used, create a role, widen the developer's own permissions and terminate an instance; the "
    "administrator doing the same for the first time from the office is the look-alike",
    has_benign=True,
    also=_ANOMALIES[1:],
    needs_history=True,
)
def _anomalous(ctx: Context) -> None:
    admin, victim = ctx.world.people[4], ctx.person(3)
    instance = ctx.instance(0).instance_id
    trust = _trust({"Service": "ec2.amazonaws.com"})
    steps = [
        ("iam", "CreateRole", {"roleName": "ops-helper", "assumeRolePolicyDocument": trust}),
        (
            "iam",
            "AttachUserPolicy",
            {"userName": "{user}", "policyArn": "arn:aws:iam::aws:policy/AmazonEC2FullAccess"},
        ),
        ("ec2", "TerminateInstances", {"instancesSet": {"items": [{"instanceId": instance}]}}),
    ]
    for n, ((service, name, request), kind) in enumerate(zip(steps, _ANOMALIES, strict=True)):
        for actor, offset, outside in ((admin, 0, False), (victim, 3600, True)):
            body = json.loads(json.dumps(request).replace("{user}", actor.name))
            t = ctx.call(
                actor,
                offset + 60 * n,
                service,
                name,
                request=body,
                ip=STOLEN_KEY_IP if outside else None,
                user_agent=STOLEN_KEY_AGENT if outside else None,
            )
            ip = STOLEN_KEY_IP if outside else ""
            ctx.label(actor.arn, actor.arn, t, benign=not outside, remote_ip=ip, finding_type=kind)
