"""Every remediation on moto, through the real collector, snapshot and check: the finding's
check fails before and passes after; a dry run changes nothing; the guards hold."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from mamori.core import Finding, Resource, Severity, WorkflowStatus
from mamori.demo.server import backdate_access_key
from mamori.hub import Store
from mamori.hub.automation import AccountSessions, registry
from mamori.hub.automation.actions import ActionContext, Outcome, RunResources
from mamori.inventory import collect
from mamori.posture import load_checks
from mamori.posture.engine import run_check
from tests.posture.harness import OPTIONS, Env

CHECKS = load_checks()
SG_CHECKS = (
    "ec2.sg_no_admin_ports_open_ipv4",
    "ec2.sg_no_admin_ports_open_ipv6",
    "ec2.sg_no_db_ports_open",
    "ec2.sg_no_unrestricted_all_traffic",
)


@pytest.fixture
def env() -> Iterator[Env]:
    with mock_aws():
        built = Env()
        built.session("main")
        yield built


@pytest.fixture
def store() -> Iterator[Store]:
    opened = Store.open("sqlite://")
    yield opened
    opened.close()


def scan(env: Env, check_id: str) -> dict[str, Finding]:
    """The check's findings by resource id, collected from moto as `mamori scan` does."""
    spec = CHECKS[check_id]
    snapshot = collect(
        list(env.sessions.values()), env.regions, services=list(spec.requires), workers=1
    )
    return {f.resource.id: f for f in run_check(spec, snapshot, env.account())}


def status(env: Env, check_id: str, resource_id: str) -> str | None:
    found = scan(env, check_id).get(resource_id)
    return found.status.value if found and found.status else None


def remediate(
    kind: str, finding: Finding, store: Store, dry_run: bool = False, **params: Any
) -> Outcome:
    spec = registry()[kind]
    run = RunResources(store, AccountSessions(OPTIONS), env={})
    outcome = spec.fn(finding, spec.params(type=kind, **params), ActionContext("r1", dry_run, run))
    assert outcome.status != "failed", outcome
    return outcome


def fix_and_rescan(
    env: Env, store: Store, kind: str, check_id: str, resource_id: str, **params: Any
) -> Outcome:
    """Fails before; a dry run plans and changes nothing; the remediation leaves it passing."""
    finding = scan(env, check_id)[resource_id]
    assert finding.status is not None and finding.status.value == "FAILED", finding.description
    planned = remediate(kind, finding, store, dry_run=True, **params)
    assert planned.status == "planned" and planned.detail.startswith("would "), planned
    assert status(env, check_id, resource_id) == "FAILED", "a dry run changed the resource"
    outcome = remediate(kind, finding, store, **params)
    assert outcome.status == "done", outcome
    return outcome


# -- S3 --------------------------------------------------------------------------------------------


def _public_bucket(env: Env, name: str) -> str:
    s3 = env.client("s3")
    s3.create_bucket(Bucket=name)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Resource": f"arn:aws:s3:::{name}/*"}
        ],
    }  # fmt: skip
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
    return f"arn:aws:s3:::{name}"


def test_block_public_access_on_a_bucket(env: Env, store: Store) -> None:
    arn = _public_bucket(env, "marketing-site")
    other = _public_bucket(env, "other-site")
    assert status(env, "s3.bucket_policy_not_public", arn) == "FAILED"
    outcome = fix_and_rescan(
        env, store, "s3.block_public_access", "s3.bucket_public_access_block", arn
    )
    assert "s3:PutPublicAccessBlock" in outcome.detail
    assert status(env, "s3.bucket_public_access_block", arn) == "PASSED"
    assert status(env, "s3.bucket_policy_not_public", arn) == "PASSED"
    assert status(env, "s3.bucket_policy_not_public", other) == "FAILED"  # only that bucket


def test_block_public_access_on_the_account(env: Env, store: Store) -> None:
    arn = env.account_arn()
    bucket = _public_bucket(env, "marketing-site")
    fix_and_rescan(env, store, "s3.block_public_access", "s3.account_public_access_block", arn)
    assert status(env, "s3.account_public_access_block", arn) == "PASSED"
    assert status(env, "s3.bucket_policy_not_public", bucket) == "PASSED"
    again = remediate(
        "s3.block_public_access", scan(env, "s3.bucket_policy_not_public")[bucket], store
    )
    assert again.status == "skipped"  # the finding passes now: nothing asks for action


# -- IAM access keys -------------------------------------------------------------------------------


def test_deactivate_the_surplus_key_keeps_the_newest(env: Env, store: Store) -> None:
    iam = env.client("iam")
    iam.create_user(UserName="ci-deployer")
    old = iam.create_access_key(UserName="ci-deployer")["AccessKey"]["AccessKeyId"]
    new = iam.create_access_key(UserName="ci-deployer")["AccessKey"]["AccessKeyId"]
    backdate_access_key(env.account(), "ci-deployer", old, 30)
    arn = f"arn:aws:iam::{env.account()}:user/ci-deployer"
    outcome = fix_and_rescan(
        env, store, "iam.deactivate_access_key", "iam.user_single_active_access_key", arn
    )
    assert old in outcome.detail and new not in outcome.detail
    assert status(env, "iam.user_single_active_access_key", arn) == "PASSED"
    keys = {
        k["AccessKeyId"]: k["Status"]
        for k in iam.list_access_keys(UserName="ci-deployer")["AccessKeyMetadata"]
    }
    assert keys == {old: "Inactive", new: "Active"}


def test_deactivate_an_old_key(env: Env, store: Store) -> None:
    iam = env.client("iam")
    iam.create_user(UserName="legacy-backup")
    key = iam.create_access_key(UserName="legacy-backup")["AccessKey"]["AccessKeyId"]
    backdate_access_key(env.account(), "legacy-backup", key, 400)
    arn = f"arn:aws:iam::{env.account()}:user/legacy-backup"
    fix_and_rescan(env, store, "iam.deactivate_access_key", "iam.access_key_rotated", arn)
    # No active key is left to rotate: the check no longer fails (it does not apply).
    assert status(env, "iam.access_key_rotated", arn) in (None, "PASSED")


def test_deactivate_a_key_a_threat_names(env: Env, store: Store) -> None:
    iam = env.client("iam")
    iam.create_user(UserName="app")
    key = iam.create_access_key(UserName="app")["AccessKey"]["AccessKeyId"]
    threat = Finding.build(
        generator_id="UnauthorizedAccess:IAMUser/MaliciousIPCaller",
        resources=[Resource(type="AwsIamAccessKey", id=key)],
        account_id=env.account(),
        region="us-east-1",
        source="detect",
        types=["TTPs/Initial Access"],
        severity=Severity.of("HIGH"),
        title="API called from a known malicious address",
    )
    assert remediate("iam.deactivate_access_key", threat, store).status == "done"
    assert iam.list_access_keys(UserName="app")["AccessKeyMetadata"][0]["Status"] == "Inactive"
    again = remediate("iam.deactivate_access_key", threat, store)
    assert again.status == "skipped" and "no key" in again.detail


# -- security groups -------------------------------------------------------------------------------


def _group(env: Env, name: str, permissions: list[dict[str, Any]]) -> tuple[str, str]:
    ec2 = env.client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    gid = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=permissions)
    return gid, f"arn:aws:ec2:us-east-1:{env.account()}:security-group/{gid}"


def _tcp(port: int, *cidrs: str, v6: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "IpProtocol": "tcp",
        "FromPort": port,
        "ToPort": port,
        "IpRanges": [{"CidrIp": c} for c in cidrs],
        "Ipv6Ranges": [{"CidrIpv6": c} for c in v6],
    }


def test_revoke_only_the_world_open_admin_rule(env: Env, store: Store) -> None:
    gid, arn = _group(env, "jenkins", [_tcp(22, "0.0.0.0/0", "10.0.0.0/8"), _tcp(443, "0.0.0.0/0")])
    fix_and_rescan(
        env, store, "ec2.revoke_world_open_ingress", "ec2.sg_no_admin_ports_open_ipv4", arn
    )
    for check in SG_CHECKS:
        assert status(env, check, arn) == "PASSED", check
    rules = env.client("ec2").describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]
    left = {(p["FromPort"], r["CidrIp"]) for p in rules["IpPermissions"] for r in p["IpRanges"]}
    assert left == {(22, "10.0.0.0/8"), (443, "0.0.0.0/0")}  # the office and HTTPS stay


def test_revoke_ipv6_and_all_traffic_rules(env: Env, store: Store) -> None:
    _, rdp = _group(env, "rdp", [_tcp(3389, v6=("::/0",))])
    fix_and_rescan(
        env, store, "ec2.revoke_world_open_ingress", "ec2.sg_no_admin_ports_open_ipv6", rdp
    )
    assert status(env, "ec2.sg_no_admin_ports_open_ipv6", rdp) == "PASSED"
    _, everything = _group(
        env, "debug", [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
    fix_and_rescan(
        env,
        store,
        "ec2.revoke_world_open_ingress",
        "ec2.sg_no_unrestricted_all_traffic",
        everything,
    )
    assert status(env, "ec2.sg_no_unrestricted_all_traffic", everything) == "PASSED"
    _, db = _group(env, "pg", [_tcp(5432, "0.0.0.0/0")])
    fix_and_rescan(env, store, "ec2.revoke_world_open_ingress", "ec2.sg_no_db_ports_open", db)
    assert status(env, "ec2.sg_no_db_ports_open", db) == "PASSED"


# -- EBS, CloudTrail -------------------------------------------------------------------------------


def test_enable_ebs_default_encryption(env: Env, store: Store) -> None:
    arn = env.region_arn()
    fix_and_rescan(
        env, store, "ec2.enable_ebs_default_encryption", "ec2.ebs_default_encryption", arn
    )
    assert status(env, "ec2.ebs_default_encryption", arn) == "PASSED"


def test_start_cloudtrail_logging(env: Env, store: Store) -> None:
    env.client("s3").create_bucket(Bucket="trail-logs")
    ct = env.client("cloudtrail")
    arn = ct.create_trail(Name="org-audit", S3BucketName="trail-logs", IsMultiRegionTrail=True)[
        "TrailARN"
    ]
    fix_and_rescan(env, store, "cloudtrail.start_logging", "cloudtrail.trail_logging", arn)
    assert status(env, "cloudtrail.trail_logging", arn) == "PASSED"
    assert ct.get_trail_status(Name="org-audit")["IsLogging"] is True


# -- quarantine ------------------------------------------------------------------------------------


def test_quarantine_isolates_an_instance(env: Env, store: Store) -> None:
    ec2 = env.client("ec2")
    gid, sg_arn = _group(env, "web", [_tcp(22, "0.0.0.0/0")])
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    image = ec2.register_image(Name="base", RootDeviceName="/dev/sda1")["ImageId"]
    instance = ec2.run_instances(
        ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet, SecurityGroupIds=[gid]
    )["Instances"][0]["InstanceId"]
    assert status(env, "ec2.sg_no_admin_ports_open_ipv4", sg_arn) == "FAILED"
    threat = Finding.build(
        generator_id="Backdoor:EC2/C&CActivity.B",
        resources=[Resource(type="AwsEc2Instance", id=instance, region="us-east-1")],
        account_id=env.account(),
        region="us-east-1",
        source="detect",
        types=["TTPs/Command and Control"],
        severity=Severity.of("HIGH"),
        title="Instance talking to a command-and-control server",
    )
    planned = remediate("ec2.quarantine_instance", threat, store, dry_run=True)
    assert planned.status == "planned" and "CreateSecurityGroup" in planned.detail
    assert not ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["mamori-quarantine"]}]
    )["SecurityGroups"]
    outcome = remediate("ec2.quarantine_instance", threat, store)
    assert outcome.status == "done" and gid in outcome.detail
    described = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]
    # The instance's groups (moto keeps listing an interface's old groups beside the new one;
    # AWS replaces them, as it does the instance's).
    (quarantine,) = {g["GroupId"] for g in described["SecurityGroups"]}
    assert quarantine != gid
    isolating = ec2.describe_security_groups(GroupIds=[quarantine])["SecurityGroups"][0]
    assert isolating["IpPermissions"] == [] and isolating["IpPermissionsEgress"] == []
    tags = {t["Key"]: t["Value"] for t in described.get("Tags", [])}
    assert tags["mamori:quarantined-from"] == gid
    # Next scan: every group the instance is in passes every security-group check.
    q_arn = f"arn:aws:ec2:us-east-1:{env.account()}:security-group/{quarantine}"
    for check in SG_CHECKS:
        assert status(env, check, q_arn) == "PASSED", check
    again = remediate("ec2.quarantine_instance", threat, store)
    assert again.status == "skipped" and "already" in again.detail


# -- policies --------------------------------------------------------------------------------------


def test_detach_managed_policies_from_a_user(env: Env, store: Store) -> None:
    iam = env.client("iam")
    iam.create_user(UserName="bob.finance")
    iam.attach_user_policy(
        UserName="bob.finance", PolicyArn="arn:aws:iam::aws:policy/job-function/Billing"
    )
    arn = f"arn:aws:iam::{env.account()}:user/bob.finance"
    outcome = fix_and_rescan(env, store, "iam.detach_policy", "iam.user_no_direct_policies", arn)
    assert "Billing" in outcome.detail
    assert status(env, "iam.user_no_direct_policies", arn) == "PASSED"


def test_detach_an_admin_policy_from_everything(env: Env, store: Store) -> None:
    iam = env.client("iam")
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    policy = iam.create_policy(PolicyName="legacy-admin", PolicyDocument=json.dumps(doc))["Policy"][
        "Arn"
    ]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName="legacy-jenkins", AssumeRolePolicyDocument=json.dumps(trust))
    iam.attach_role_policy(RoleName="legacy-jenkins", PolicyArn=policy)
    iam.create_group(GroupName="ops")
    iam.attach_group_policy(GroupName="ops", PolicyArn=policy)
    outcome = fix_and_rescan(env, store, "iam.detach_policy", "iam.policy_no_full_admin", policy)
    assert "legacy-jenkins" in outcome.detail and "ops" in outcome.detail
    # Attached to nothing, the policy grants nothing: the check no longer fails.
    assert status(env, "iam.policy_no_full_admin", policy) is None


# -- guards ----------------------------------------------------------------------------------------


def test_guards_keep_remediations_to_what_they_fix(env: Env, store: Store) -> None:
    arn = _public_bucket(env, "site")
    finding = scan(env, "s3.bucket_public_access_block")[arn]
    wrong_check = finding.model_copy(update={"generator_id": "s3.bucket_versioning_enabled"})
    assert "does not fix" in remediate("s3.block_public_access", wrong_check, store).detail
    wrong_type = remediate("ec2.enable_ebs_default_encryption", finding, store)
    assert wrong_type.status == "skipped" and "AwsAccount" in wrong_type.detail
    suppressed = finding.model_copy(
        update={
            "workflow": finding.workflow.model_copy(update={"status": WorkflowStatus.SUPPRESSED})
        }
    )
    assert remediate("s3.block_public_access", suppressed, store).status == "deferred"
    assert status(env, "s3.bucket_public_access_block", arn) == "FAILED"  # nothing was changed
