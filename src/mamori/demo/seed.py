"""Create the demo organisation described in `mamori.demo.planted` on the emulated AWS.

Everything goes through boto3 over HTTP, as it would against AWS: the organisation and its
member accounts, then every catalogue resource, each recorded as a `Planted` item with the
ARN its check reports. Settings that no AWS API can make are set in-process (see
`mamori.demo.server`), so the server must run in this process.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from mamori.demo import catalogue as cat
from mamori.demo.planted import (
    DEMO_REGIONS,
    OWN_ACCOUNT,
    DemoOrg,
    Role,
    bad,
    good,
)
from mamori.demo.seed_network import seed_ec2
from mamori.demo.seed_workloads import seed_databases, seed_functions, seed_load_balancers
from mamori.demo.seeding import Seed, aws_policy
from mamori.demo.server import (
    MANAGEMENT_ACCOUNT,
    DemoConnection,
    backdate_access_key,
    set_root_credentials,
)

MEMBERS: tuple[tuple[Role, str], ...] = (("prod", "workloads-prod"), ("dev", "workloads-dev"))
_LOG_DELIVERY = "uri=http://acs.amazonaws.com/groups/s3/LogDelivery"


# -- the organisation ----------------------------------------------------------------------------


def _create_member(org: Any, name: str) -> str:
    status = org.create_account(Email=f"aws+{name}@acme.example", AccountName=name)[
        "CreateAccountStatus"
    ]
    deadline = time.monotonic() + 30
    # Creation is asynchronous in AWS (moto finishes at once): ask until it is done.
    while status["State"] == "IN_PROGRESS" and time.monotonic() < deadline:
        time.sleep(0.2)
        status = org.describe_create_account_status(CreateAccountRequestId=status["Id"])[
            "CreateAccountStatus"
        ]
    if status["State"] != "SUCCEEDED":
        raise RuntimeError(f"creating account {name}: {status.get('FailureReason', status)}")
    return str(status["AccountId"])


def _organisation(conn: DemoConnection) -> tuple[str, dict[Role, str]]:
    org = conn.client("organizations")
    try:
        org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "AlreadyInOrganizationException":
            raise RuntimeError(
                "the emulated AWS is already seeded; seed a fresh one (EmulatedAws.reset())"
            ) from exc
        raise
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    accounts: dict[Role, str] = {"mgmt": MANAGEMENT_ACCOUNT}
    for role, name in MEMBERS:
        accounts[role] = _create_member(org, name)
        conn.assume(accounts[role])  # as the organisation reaches it; verifies the identity
    return str(org_id), accounts


def _seed_units(s: Seed) -> None:
    org = s.c("organizations", "mgmt")
    root = org.list_roots()["Roots"][0]["Id"]
    arns = {a["Id"]: a["Arn"] for a in org.list_accounts()["Accounts"]}
    scp = org.create_policy(
        Name="acme-security-guardrails",
        Type="SERVICE_CONTROL_POLICY",
        Description="Keep accounts in the organisation and the security tooling on",
        Content=cat.GUARDRAIL_SCP,
    )["Policy"]["PolicySummary"]["Id"]
    for unit, role, guarded, plant in cat.UNITS:
        ou = org.create_organizational_unit(ParentId=root, Name=unit)["OrganizationalUnit"]["Id"]
        account = s.accounts[role]
        org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=ou)
        if guarded:
            org.attach_policy(PolicyId=scp, TargetId=ou)
        s.record(plant, "mgmt", arns[account])


# -- IAM -----------------------------------------------------------------------------------------


def _seed_accounts(s: Seed) -> None:
    for role, spec in cat.ACCOUNTS.items():
        iam = s.c("iam", role)
        iam.create_account_alias(AccountAlias=spec.alias)
        if spec.passwords:
            iam.update_account_password_policy(**spec.passwords)
        set_root_credentials(
            s.accounts[role], mfa_enabled=spec.root_mfa, access_keys=spec.root_access_key
        )
        for plant in spec.plants:
            s.record(plant, role, s.account_arn(role))


def _seed_groups(s: Seed) -> None:
    for group in cat.GROUPS:
        iam = s.c("iam", group.account)
        arn = iam.create_group(GroupName=group.name)["Group"]["Arn"]
        if group.inline:
            iam.put_group_policy(
                GroupName=group.name,
                PolicyName=group.inline,
                PolicyDocument=cat.INLINE_POLICIES[group.inline],
            )
        for name in group.managed:
            iam.attach_group_policy(GroupName=group.name, PolicyArn=aws_policy(name))
        s.record(group.plant, group.account, arn)


def _seed_users(s: Seed) -> None:
    for user in cat.USERS:
        iam, account = s.c("iam", user.account), s.accounts[user.account]
        arn = iam.create_user(UserName=user.name, Tags=[{"Key": "owner", "Value": "acme"}])["User"][
            "Arn"
        ]
        if user.console:
            iam.create_login_profile(
                UserName=user.name,
                Password="Demo-only-Passw0rd!",  # noqa: S106
                PasswordResetRequired=False,
            )
        if user.mfa:
            serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=user.name)[
                "VirtualMFADevice"
            ]["SerialNumber"]
            iam.enable_mfa_device(
                UserName=user.name,
                SerialNumber=serial,
                AuthenticationCode1="123456",
                AuthenticationCode2="654321",
            )
        for group in user.groups:
            iam.add_user_to_group(GroupName=group, UserName=user.name)
        for name in user.managed:
            iam.attach_user_policy(UserName=user.name, PolicyArn=aws_policy(name))
        if user.inline:
            iam.put_user_policy(
                UserName=user.name,
                PolicyName=user.inline,
                PolicyDocument=cat.INLINE_POLICIES[user.inline],
            )
        keys = [
            iam.create_access_key(UserName=user.name)["AccessKey"]["AccessKeyId"]
            for _ in range(user.keys)
        ]
        if user.key_age_days:
            backdate_access_key(account, user.name, keys[0], user.key_age_days)
        s.record(user.plant, user.account, arn)
        s.record(user.escalation, user.account, arn)


def _customer_policy(s: Seed, role: Role, name: str) -> str:
    """The ARN of a CUSTOMER_POLICIES entry in the account, created on first use."""
    arn = f"arn:aws:iam::{s.accounts[role]}:policy/{name}"
    if (role, name) not in s.created_policies:
        s.c("iam", role).create_policy(PolicyName=name, PolicyDocument=cat.CUSTOMER_POLICIES[name])
        s.created_policies.add((role, name))
    return arn


def _seed_roles(s: Seed) -> None:
    for role in cat.ROLES:
        iam, account = s.c("iam", role.account), s.accounts[role.account]
        trust = role.trust.replace(OWN_ACCOUNT, account)
        bound = (
            {"PermissionsBoundary": _customer_policy(s, role.account, role.boundary)}
            if role.boundary
            else {}
        )
        arn = iam.create_role(RoleName=role.name, AssumeRolePolicyDocument=trust, **bound)["Role"][
            "Arn"
        ]
        if role.inline:
            iam.put_role_policy(
                RoleName=role.name,
                PolicyName=role.inline,
                PolicyDocument=cat.INLINE_POLICIES[role.inline],
            )
        attached = [aws_policy(name) for name in role.managed]
        for name, plant in zip(role.customer, role.customer_plant, strict=True):
            policy = iam.create_policy(PolicyName=name, PolicyDocument=cat.CUSTOMER_POLICIES[name])[
                "Policy"
            ]["Arn"]
            s.record(plant, role.account, policy)
            attached.append(policy)
        for policy in attached:
            iam.attach_role_policy(RoleName=role.name, PolicyArn=policy)
        s.record(role.plant, role.account, arn)
        s.record(role.escalation, role.account, arn)


# -- KMS and S3 ----------------------------------------------------------------------------------


def _seed_keys(s: Seed) -> None:
    for key in cat.KEYS:
        kms, account = s.c("kms", key.account, key.where), s.accounts[key.account]
        policy = cat.key_policy(key.policy, account)
        meta = kms.create_key(
            Description=key.alias,
            **({"Policy": policy} if policy else {}),
            Tags=[{"TagKey": "owner", "TagValue": "acme"}],
        )["KeyMetadata"]
        kms.create_alias(AliasName=f"alias/{key.alias}", TargetKeyId=meta["KeyId"])
        if key.rotate:
            kms.enable_key_rotation(KeyId=meta["KeyId"])
        if key.pending_deletion:
            kms.schedule_key_deletion(KeyId=meta["KeyId"], PendingWindowInDays=7)
        s.keys[key.alias] = meta["Arn"]
        s.record(key.plant, key.account, meta["Arn"], key.where)


def _encryption(setting: str, keys: dict[str, str]) -> dict[str, Any]:
    default = (
        {"SSEAlgorithm": "AES256"}
        if setting == "AES256"
        else {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": keys[setting]}
    )
    return {"Rules": [{"ApplyServerSideEncryptionByDefault": default}]}


def _seed_buckets(s: Seed) -> None:
    for b in cat.BUCKETS:
        s3, region = s.c("s3", b.account, b.where), s.regions[b.where]
        where = (
            {}
            if region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        s3.create_bucket(Bucket=b.name, **where)
        s3.put_bucket_tagging(
            Bucket=b.name, Tagging={"TagSet": [{"Key": "owner", "Value": "acme"}]}
        )
        if b.encryption:
            s3.put_bucket_encryption(
                Bucket=b.name, ServerSideEncryptionConfiguration=_encryption(b.encryption, s.keys)
            )
        else:  # new buckets get SSE-S3 by default, as in S3 since 2023
            s3.delete_bucket_encryption(Bucket=b.name)
        if b.versioned:
            s3.put_bucket_versioning(Bucket=b.name, VersioningConfiguration={"Status": "Enabled"})
        if b.logs_to:
            s3.put_bucket_logging(
                Bucket=b.name,
                BucketLoggingStatus={
                    "LoggingEnabled": {"TargetBucket": b.logs_to, "TargetPrefix": f"{b.name}/"}
                },
            )
        if b.policy:
            statements = [
                st
                for kind in b.policy
                for st in cat.bucket_statements(kind, b.name, s.accounts[b.account])
            ]
            s3.put_bucket_policy(Bucket=b.name, Policy=cat.document(*statements))
        if b.acl == "log-delivery":
            s3.put_bucket_acl(Bucket=b.name, GrantWrite=_LOG_DELIVERY, GrantReadACP=_LOG_DELIVERY)
        elif b.acl:
            s3.put_bucket_acl(Bucket=b.name, ACL=b.acl)
        if b.block_public:
            s3.put_public_access_block(Bucket=b.name, PublicAccessBlockConfiguration=cat.PAB_ON)
        s.record(b.plant, b.account, f"arn:aws:s3:::{b.name}", b.where)
    # Last, as it happens: account-level settings come after the public grants were made.
    for role, spec in cat.ACCOUNTS.items():
        if spec.public_access_block:
            s.c("s3control", role).put_public_access_block(
                AccountId=s.accounts[role], PublicAccessBlockConfiguration=spec.public_access_block
            )


# -- logging and monitoring ----------------------------------------------------------------------


def _log_group(s: Seed, role: Role, group: str) -> dict[str, str]:
    """A log group for a trail to deliver to, and the role CloudTrail uses to write there."""
    account, region = s.accounts[role], s.regions["home"]
    s.c("logs", role).create_log_group(logGroupName=group)
    arn = f"arn:aws:logs:{region}:{account}:log-group:{group}:*"
    writer = s.c("iam", role).create_role(
        RoleName=f"{group}-writer", AssumeRolePolicyDocument=cat.service_trust("cloudtrail")
    )
    s.c("iam", role).put_role_policy(
        RoleName=f"{group}-writer",
        PolicyName="deliver",
        PolicyDocument=cat.document(cat.allow(["logs:CreateLogStream", "logs:PutLogEvents"], arn)),
    )
    return {"CloudWatchLogsLogGroupArn": arn, "CloudWatchLogsRoleArn": writer["Role"]["Arn"]}


def _seed_trails(s: Seed) -> None:
    for t in cat.TRAILS:
        ct = s.c("cloudtrail", t.account, t.where)
        extra: dict[str, Any] = {"KmsKeyId": s.keys[t.key]} if t.key else {}
        if t.log_group:
            extra.update(_log_group(s, t.account, t.log_group))
        arn = ct.create_trail(
            Name=t.name,
            S3BucketName=t.bucket,
            IsMultiRegionTrail=t.multi_region,
            IncludeGlobalServiceEvents=t.multi_region,
            EnableLogFileValidation=t.validation,
            **extra,
        )["TrailARN"]
        if t.multi_region:  # management events (read and write) plus S3 object events
            ct.put_event_selectors(
                TrailName=t.name,
                EventSelectors=[
                    {
                        "ReadWriteType": "All",
                        "IncludeManagementEvents": True,
                        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}],
                    }
                ],
            )
        ct.start_logging(Name=t.name)
        if not t.logging:
            ct.stop_logging(Name=t.name)
        s.record(t.plant, t.account, arn, t.where)
        if t.log_group:
            _seed_alarms(s, t.account, t.log_group)


def _seed_alarms(s: Seed, role: Role, log_group: str) -> None:
    """The CIS 4.x metric filters and alarms on a trail's log group, to a subscribed topic."""
    sns = s.c("sns", role)
    topic = sns.create_topic(Name="acme-security-alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="security@acme.example")
    logs, cloudwatch = s.c("logs", role), s.c("cloudwatch", role)
    for suffix, metric, pattern in cat.CIS_ALARMS:
        logs.put_metric_filter(
            logGroupName=log_group,
            filterName=f"cis-{metric}",
            filterPattern=pattern,
            metricTransformations=[
                {"metricName": metric, "metricNamespace": "CISBenchmark", "metricValue": "1"}
            ],
        )
        cloudwatch.put_metric_alarm(
            AlarmName=f"cis-{metric}",
            MetricName=metric,
            Namespace="CISBenchmark",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",
            AlarmActions=[topic],
        )
        check = f"cloudwatch.{suffix}"
        s.record(
            good(f"filter and alarm {metric}, to a subscribed topic", check),
            role,
            s.account_arn(role),
        )
        for other in cat.NO_ALARMS:
            s.record(bad("no metric filter or alarm", check), other, s.account_arn(other))


def _config(client: Any, account: str, enabled: bool) -> None:
    recorder_role = (
        f"arn:aws:iam::{account}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
    )
    client.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": recorder_role,
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        }
    )
    client.put_delivery_channel(
        DeliveryChannel={"name": "default", "s3BucketName": cat.CONFIG_BUCKET}
    )
    if enabled:
        client.start_configuration_recorder(ConfigurationRecorderName="default")


def _guardduty(client: Any, account: str, enabled: bool) -> None:
    client.create_detector(Enable=enabled, FindingPublishingFrequency="FIFTEEN_MINUTES")


def _securityhub(client: Any, account: str, enabled: bool) -> None:
    if enabled:
        client.enable_security_hub(EnableDefaultStandards=True)


def _ebs_encryption(client: Any, account: str, enabled: bool) -> None:
    if enabled:
        client.enable_ebs_encryption_by_default()


# catalogue name -> (boto3 client, what turning it on or leaving it off takes)
_REGIONAL: dict[str, tuple[str, Callable[[Any, str, bool], None]]] = {
    "config": ("config", _config),
    "guardduty": ("guardduty", _guardduty),
    "securityhub": ("securityhub", _securityhub),
    "ebs-encryption": ("ec2", _ebs_encryption),
}


def _seed_regional(s: Seed) -> None:
    for item in cat.REGIONAL_SERVICES:
        client_name, switch = _REGIONAL[item.service]
        switch(s.c(client_name, item.account, item.where), s.accounts[item.account], item.enabled)
        s.record(item.plant, item.account, s.region_arn(item.account, item.where), item.where)


# -- entry point ---------------------------------------------------------------------------------

_STEPS: tuple[Callable[[Seed], None], ...] = (
    _seed_units,
    _seed_accounts,
    _seed_groups,
    _seed_users,
    _seed_roles,
    _seed_keys,
    _seed_buckets,
    _seed_trails,
    _seed_regional,
    seed_ec2,
    seed_databases,
    seed_functions,
    seed_load_balancers,
)


def seed_organisation(url: str, regions: tuple[str, ...] = DEMO_REGIONS) -> DemoOrg:
    """Create Acme's organisation on a fresh emulated AWS at `url` (running in this process)."""
    distinct = tuple(dict.fromkeys(regions))
    if len(distinct) < 2:
        raise ValueError("the demo spreads its resources over two regions; give two")
    conn = DemoConnection(url)
    org_id, accounts = _organisation(conn)
    seed = Seed(conn, accounts, {"home": distinct[0], "away": distinct[1]})
    for step in _STEPS:
        step(seed)
    listed = conn.client("organizations").list_accounts()["Accounts"]
    return DemoOrg(
        url=url,
        organization_id=org_id,
        management_account=MANAGEMENT_ACCOUNT,
        accounts={a["Id"]: a["Name"] for a in listed},
        regions=distinct,
        planted=seed.ledger.planted(),
    )
