"""The identity model from a Mamori Snapshot: an organisation collected on moto (SCPs at the
root, an OU, a nested OU and an account; workloads running with roles; users' credentials), and
hand-built snapshots for every workload kind and for data that could not be collected."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mamori.aws import AccountSession, AwsOptions, resolve_targets
from mamori.core import DataUnavailable
from mamori.identity.model import IdentityModel, model_from_auth_details, model_from_snapshot
from mamori.inventory import GLOBAL, Snapshot, collect
from mamori.inventory.snapshot import unavailable
from tests.identity import gaad_sample as g

MANAGEMENT = "123456789012"  # moto's default account
REGION = "us-east-1"
OPTIONS = AwsOptions(max_attempts=1, retry_mode="standard")


def _trust(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    return buffer.getvalue()


@dataclass
class Org:
    member: str
    root: str
    workloads_ou: str
    prod_ou: str
    sessions: list[AccountSession]


@pytest.fixture
def org() -> Iterator[Org]:
    with mock_aws():
        client = boto3.client("organizations", region_name=REGION)
        client.create_organization(FeatureSet="ALL")
        root = client.list_roots()["Roots"][0]["Id"]
        workloads = client.create_organizational_unit(ParentId=root, Name="workloads")
        workloads_ou = workloads["OrganizationalUnit"]["Id"]
        prod = client.create_organizational_unit(ParentId=workloads_ou, Name="prod")
        prod_ou = prod["OrganizationalUnit"]["Id"]
        status = client.create_account(AccountName="shop", Email="shop@example.com")
        member = status["CreateAccountStatus"]["AccountId"]
        client.move_account(AccountId=member, SourceParentId=root, DestinationParentId=prod_ou)
        for name, effect, action, target in (
            ("deny-leave", "Deny", "organizations:LeaveOrganization", root),
            ("deny-regions", "Deny", "ec2:RunInstances", workloads_ou),
            ("prod-guard", "Deny", "iam:CreateUser", prod_ou),
            ("shop-only", "Deny", "s3:DeleteBucket", member),
        ):
            policy = client.create_policy(
                Name=name,
                Description=name,
                Type="SERVICE_CONTROL_POLICY",
                Content=g.statement(effect, action),
            )
            client.attach_policy(PolicyId=policy["Policy"]["PolicySummary"]["Id"], TargetId=target)
        targets = resolve_targets(OPTIONS, org=True)
        yield Org(member, root, workloads_ou, prod_ou, targets.accounts)


def _session(org: Org, account: str) -> AccountSession:
    return next(s for s in org.sessions if s.account_id == account)


def _seed_member(session: AccountSession) -> dict[str, str]:
    iam = session.client("iam", REGION)
    app = iam.create_role(
        RoleName="app-server", AssumeRolePolicyDocument=_trust("ec2.amazonaws.com")
    )
    iam.put_role_policy(
        RoleName="app-server", PolicyName="table", PolicyDocument=g.statement("Allow", "dynamodb:*")
    )
    profile = iam.create_instance_profile(InstanceProfileName="app-server-profile")
    iam.add_role_to_instance_profile(
        InstanceProfileName="app-server-profile", RoleName="app-server"
    )
    fn_role = iam.create_role(
        RoleName="fn", AssumeRolePolicyDocument=_trust("lambda.amazonaws.com")
    )
    ec2 = session.client("ec2", REGION)
    image = ec2.register_image(Name="base", RootDeviceName="/dev/sda1")["ImageId"]
    ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        IamInstanceProfile={"Arn": profile["InstanceProfile"]["Arn"]},
    )
    session.client("lambda", REGION).create_function(
        FunctionName="resize",
        Runtime="python3.12",
        Role=fn_role["Role"]["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
    )
    ec2.create_launch_template(
        LaunchTemplateName="web",
        LaunchTemplateData={"ImageId": image, "IamInstanceProfile": {"Name": "app-server-profile"}},
    )
    session.client("autoscaling", REGION).create_auto_scaling_group(
        AutoScalingGroupName="web-asg",
        LaunchTemplate={"LaunchTemplateName": "web", "Version": "$Default"},
        MinSize=0,
        MaxSize=1,
        AvailabilityZones=[f"{REGION}a"],
    )
    etl = iam.create_role(RoleName="etl", AssumeRolePolicyDocument=_trust("glue.amazonaws.com"))
    # Glue takes a role by name as well as by ARN.
    session.client("glue", REGION).create_job(
        Name="nightly", Role="etl", Command={"Name": "glueetl", "ScriptLocation": "s3://x/y.py"}
    )
    return {"app": app["Role"]["Arn"], "fn": fn_role["Role"]["Arn"], "etl": etl["Role"]["Arn"]}


def _seed_management(session: AccountSession) -> None:
    iam = session.client("iam", REGION)
    iam.create_user(UserName="ops")
    iam.create_login_profile(UserName="ops", Password="Correct-Horse-42-Battery!")
    iam.create_access_key(UserName="ops")
    iam.create_user(UserName="robot")
    iam.create_group(GroupName="admins")
    iam.add_user_to_group(GroupName="admins", UserName="ops")
    iam.attach_group_policy(GroupName="admins", PolicyArn=g.ADMIN_ARN)


def test_organisation_collected_on_moto(org: Org) -> None:
    roles = _seed_member(_session(org, org.member))
    _seed_management(_session(org, MANAGEMENT))
    snapshot = collect(
        org.sessions,
        [REGION],
        services=["iam", "organizations", "ec2", "lambda", "autoscaling", "glue"],
        workers=2,
    )
    model = model_from_snapshot(snapshot)

    assert set(model.accounts) == {MANAGEMENT, org.member}
    member = model.accounts[org.member]
    assert member.errors == []
    assert member.name == "shop"
    app = member.role_by_name("app-server")
    assert app is not None and app.arn == roles["app"]
    assert app.instance_profile_arns == [
        f"arn:aws:iam::{org.member}:instance-profile/app-server-profile"
    ]
    assert [d.key for d in member.policy_docs_of_role(app)] == [f"{app.arn}#table"]
    by_kind = {w.kind: w for w in member.workloads}
    assert set(by_kind) == {"ec2", "lambda", "launch-template", "autoscaling", "glue-job"}
    assert by_kind["ec2"].role_arn == roles["app"]  # through the instance profile
    assert by_kind["ec2"].details["State"] == "running"
    assert by_kind["ec2"].region == REGION
    assert by_kind["lambda"].role_arn == roles["fn"]
    # The group's role is its launch template's instance profile's.
    assert by_kind["launch-template"].role_arn == roles["app"]
    assert by_kind["autoscaling"].role_arn == roles["app"]
    assert (by_kind["glue-job"].name, by_kind["glue-job"].role_arn) == ("nightly", roles["etl"])
    assert (by_kind["lambda"].name, by_kind["lambda"].details) == (
        "resize",
        {"Runtime": "python3.12"},
    )

    management = model.accounts[MANAGEMENT]
    ops = management.user_by_name("ops")
    robot = management.user_by_name("robot")
    assert ops is not None and robot is not None
    assert ops.groups == ["admins"]
    assert [d.key for d in management.policy_docs_of_user(ops)] == [f"{g.ADMIN_ARN}:v1"]
    assert (ops.has_password, robot.has_password) == (True, False)
    assert (ops.mfa_active, robot.mfa_active) == (False, False)
    assert ops.access_keys is not None and len(ops.access_keys) == 1
    assert ops.access_keys[0].status == "Active" and ops.access_keys[0].created
    assert robot.access_keys == []

    organization = model.organization
    assert organization is not None
    assert organization.management_account == MANAGEMENT
    assert organization.id.startswith("o-")
    assert organization.accounts[org.member].parents == [org.root, org.workloads_ou, org.prod_ou]
    assert organization.accounts[MANAGEMENT].is_management
    levels = organization.levels(org.member)
    assert levels is not None
    # Root, OU, nested OU, account; moto attaches FullAWSAccess everywhere, as AWS does.
    assert [g.policy_names(level) for level in levels] == [
        ["FullAWSAccess", "deny-leave"],
        ["FullAWSAccess", "deny-regions"],
        ["FullAWSAccess", "prod-guard"],
        ["FullAWSAccess", "shop-only"],
    ]
    guard = next(d for d in levels[2] if d.name == "prod-guard")
    assert guard.kind == "scp" and guard.arn and guard.key == guard.arn
    assert guard.document["Statement"][0]["Action"] == "iam:CreateUser"
    # SCPs do not apply in the management account.
    assert organization.levels(MANAGEMENT) is None


def test_member_scanned_without_the_management_account(org: Org) -> None:
    snapshot = collect(
        [_session(org, org.member)], [REGION], services=["iam", "organizations"], workers=2
    )
    organization = model_from_snapshot(snapshot).organization
    assert organization is not None
    assert organization.management_account == MANAGEMENT
    with pytest.raises(DataUnavailable, match="management account"):
        organization.levels(org.member)
    assert organization.levels(MANAGEMENT) is None


# -- hand-built snapshots ----------------------------------------------------------------------

ACCOUNT = g.ACCOUNT
PROFILE_ARN = g.PROFILE_ARN
APP_ROLE = f"{g.IAM}:role/app-server"


def _put(snapshot: Snapshot, service: str, data: dict[str, Any], region: str = REGION) -> None:
    snapshot.put_service(ACCOUNT, service, region, data)


def _workloads(snapshot: Snapshot) -> tuple[dict[str, Any], list[str]]:
    account = model_from_snapshot(snapshot).accounts[ACCOUNT]
    return {w.name: w for w in account.workloads}, account.errors


def test_every_workload_kind_and_its_role() -> None:
    snapshot = g.gaad_snapshot()
    region_arn = f"{REGION}:{ACCOUNT}"
    _put(
        snapshot,
        "ec2",
        {
            "instances": [],
            "launch_templates": [
                {
                    "LaunchTemplateId": "lt-0abc",
                    "LaunchTemplateName": "web",
                    "_arn": f"arn:aws:ec2:{region_arn}:launch-template/lt-0abc",
                    "LaunchTemplateData": {"IamInstanceProfile": {"Name": "app-server"}},
                }
            ],
        },
    )
    _put(
        snapshot,
        "autoscaling",
        {
            "groups": [
                {
                    "AutoScalingGroupName": "web-asg",
                    "AutoScalingGroupARN": f"arn:aws:autoscaling:{region_arn}:asg/web-asg",
                    "LaunchTemplate": {"LaunchTemplateName": "web", "Version": "$Default"},
                },
                {
                    "AutoScalingGroupName": "old-asg",
                    "AutoScalingGroupARN": f"arn:aws:autoscaling:{region_arn}:asg/old-asg",
                    "LaunchConfigurationName": "old-config",
                },
            ],
            "launch_configurations": [
                {"LaunchConfigurationName": "old-config", "IamInstanceProfile": PROFILE_ARN}
            ],
        },
    )
    _put(
        snapshot,
        "cloudformation",
        {
            "stacks": [
                {
                    "StackId": f"arn:aws:cloudformation:{region_arn}:stack/net/1",
                    "StackName": "net",
                    "RoleARN": f"{g.IAM}:role/ci-deployer",
                    "StackStatus": "CREATE_COMPLETE",
                }
            ]
        },
    )
    _put(
        snapshot,
        "codebuild",
        {
            "projects": [
                {
                    "arn": f"arn:aws:codebuild:{region_arn}:project/build",
                    "name": "build",
                    "serviceRole": f"{g.IAM}:role/ci-deployer",
                }
            ]
        },
    )
    _put(
        snapshot,
        "glue",
        {
            # No _arn: the ARN is built from the name.
            "dev_endpoints": [{"EndpointName": "notebook", "RoleArn": APP_ROLE, "Status": "READY"}],
            # Glue accepts a role name; it resolves to the role of that name, in any case.
            "jobs": [{"Name": "etl", "Role": "CI-Deployer", "_arn": "arn:aws:glue:x:1:job/etl"}],
        },
    )
    _put(
        snapshot,
        "sagemaker",
        {
            "notebook_instances": [
                {
                    "NotebookInstanceArn": f"arn:aws:sagemaker:{region_arn}:notebook-instance/lab",
                    "NotebookInstanceName": "lab",
                    "RoleArn": APP_ROLE,
                    "DirectInternetAccess": "Enabled",
                    "RootAccess": "Enabled",
                }
            ]
        },
    )
    _put(
        snapshot,
        "ecs",
        {
            "task_definitions": [
                {
                    "taskDefinitionArn": f"arn:aws:ecs:{region_arn}:task-definition/api:3",
                    "taskRoleArn": APP_ROLE,
                    "executionRoleArn": f"{g.IAM}:role/ecsTaskExecutionRole",
                }
            ]
        },
    )

    found, errors = _workloads(snapshot)
    assert errors == []
    assert {name: (w.kind, w.role_arn) for name, w in found.items()} == {
        "web": ("launch-template", APP_ROLE),
        "web-asg": ("autoscaling", APP_ROLE),
        "old-asg": ("autoscaling", APP_ROLE),
        "net": ("cloudformation", f"{g.IAM}:role/ci-deployer"),
        "build": ("codebuild", f"{g.IAM}:role/ci-deployer"),
        "notebook": ("glue-dev-endpoint", APP_ROLE),
        "etl": ("glue-job", f"{g.IAM}:role/ci-deployer"),
        "lab": ("sagemaker-notebook", APP_ROLE),
        "api:3": ("ecs-task", APP_ROLE),
    }
    assert found["notebook"].arn == f"arn:aws:glue:{region_arn}:devEndpoint/notebook"
    assert found["lab"].details == {"DirectInternetAccess": "Enabled", "RootAccess": "Enabled"}
    assert found["api:3"].details == {"executionRoleArn": f"{g.IAM}:role/ecsTaskExecutionRole"}
    assert all(w.account == ACCOUNT and w.region == REGION for w in found.values())


def test_instance_profile_without_a_known_role() -> None:
    snapshot = g.gaad_snapshot()
    other_profile = f"{g.IAM}:instance-profile/empty"
    instance = {
        "InstanceId": "i-0123",
        "_arn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0123",
        "IamInstanceProfile": {"Arn": other_profile, "Id": "AIPA"},
        "State": {"Name": "stopped"},
    }
    _put(snapshot, "ec2", {"instances": [instance], "launch_templates": []})
    found, errors = _workloads(snapshot)
    assert errors == []
    assert found["i-0123"].role_arn is None
    assert found["i-0123"].details == {"State": "stopped", "InstanceProfileArn": other_profile}


def test_unavailable_workload_data_is_an_error_and_the_rest_is_loaded() -> None:
    snapshot = g.gaad_snapshot()
    _put(snapshot, "lambda", {"functions": unavailable("AccessDenied", "no lambda:List")})
    _put(
        snapshot,
        "lambda",
        {"functions": [{"FunctionName": "ok", "_arn": "arn:aws:lambda:x"}]},
        "eu-west-1",
    )
    _put(snapshot, "ec2", {"instances": []})  # collected, but without launch templates
    _put(snapshot, "glue", {"jobs": [{"Role": APP_ROLE}], "dev_endpoints": []})
    found, errors = _workloads(snapshot)
    assert list(found) == ["ok"]
    assert (
        f"lambda.functions in {REGION} could not be read (AccessDenied: no lambda:List)" in errors
    )
    assert f"ec2.launch_templates in {REGION} is not in the snapshot" in errors
    assert any(e.startswith(f"glue.jobs in {REGION}: [0] has no ARN") for e in errors)
    # Services that were not collected at all (sagemaker, ecs...) are no error.
    assert len(errors) == 3


def test_unreadable_role_field_keeps_the_workload_with_an_unknown_role() -> None:
    snapshot = g.gaad_snapshot()
    denied = unavailable("AccessDenied", "no describe")
    notebook = {"NotebookInstanceName": "lab", "_arn": "arn:aws:sagemaker:x", "RoleArn": denied}
    template = {
        "LaunchTemplateId": "lt-1",
        "LaunchTemplateName": "web",
        "_arn": "arn:aws:ec2:x",
        "LaunchTemplateData": denied,
    }
    group = {"AutoScalingGroupName": "old", "_arn": "arn:aws:autoscaling:x"}
    _put(snapshot, "sagemaker", {"notebook_instances": [notebook]})
    _put(snapshot, "ec2", {"instances": [], "launch_templates": [template]})
    _put(snapshot, "autoscaling", {"groups": [{**group, "LaunchConfigurationName": "lc"}]})
    found, errors = _workloads(snapshot)
    assert {name: w.role_arn for name, w in found.items()} == {
        "lab": None,
        "web": None,
        "old": None,
    }
    assert sorted(errors) == [
        f"autoscaling.groups in {REGION}: old: launch configurations were not collected",
        f"ec2.launch_templates in {REGION}: web: LaunchTemplateData could not be read "
        "(AccessDenied: no describe)",
        f"sagemaker.notebook_instances in {REGION}: lab: RoleArn could not be read "
        "(AccessDenied: no describe)",
    ]


def test_unavailable_iam_data_is_recorded_never_read_as_empty() -> None:
    snapshot = Snapshot()
    denied = unavailable("AccessDenied", "iam:GetAccountAuthorizationDetails")
    snapshot.put_service(
        ACCOUNT,
        "iam",
        GLOBAL,
        {"users": denied, "groups": denied, "roles": denied, "policies": denied},
    )
    snapshot.put_service("210987654321", "s3", GLOBAL, {"buckets": []})
    model = model_from_snapshot(snapshot)
    account = model.accounts[ACCOUNT]
    assert account.users == {} and account.roles == {}
    assert (
        "iam.users could not be read (AccessDenied: iam:GetAccountAuthorizationDetails)"
        in account.errors
    )
    assert len(account.errors) == 4
    assert model.accounts["210987654321"].errors == ["iam: not collected for this account"]


def test_credentials_fall_back_on_the_credential_report() -> None:
    doc = g.sample()
    denied = unavailable("AccessDenied", "not allowed")
    users = doc["UserDetailList"]
    for user in users:
        user["MFADevices"] = denied
        user["LoginProfile"] = denied
        user["AccessKeys"] = [
            {
                "AccessKeyId": f"AKIA{user['UserName'].upper()}",
                "Status": "Active",
                "CreateDate": "2024-01-01T00:00:00+00:00",
                "LastUsed": denied if user["UserName"] == "carol" else {"LastUsedDate": None},
            }
        ]
    report = [
        {"user": "alice", "password_enabled": "true", "mfa_active": "true",
         "password_last_used": "2024-10-01T08:00:00+00:00"},
        {"user": "bob", "password_enabled": "false", "mfa_active": "false",
         "password_last_used": "N/A"},
    ]  # fmt: skip
    snapshot = Snapshot()
    snapshot.put_service(
        ACCOUNT,
        "iam",
        GLOBAL,
        {
            "users": users,
            "groups": doc["GroupDetailList"],
            "roles": doc["RoleDetailList"],
            "policies": doc["Policies"],
            "credential_report": report,
        },
    )
    account = model_from_snapshot(snapshot).accounts[ACCOUNT]
    alice, bob, carol = (account.user_by_name(n) for n in ("alice", "bob", "carol"))
    assert alice is not None and bob is not None and carol is not None
    assert (alice.has_password, alice.mfa_active) == (True, True)
    assert alice.password_last_used == "2024-10-01T08:00:00.000Z"
    assert (bob.has_password, bob.mfa_active, bob.password_last_used) == (False, False, None)
    assert (carol.has_password, carol.mfa_active) == (None, None)  # not in the report either
    assert carol.access_keys is not None and carol.access_keys[0].last_used is None
    assert carol.access_keys[0].created == "2024-01-01T00:00:00.000Z"
    # One message per cause, not one per user.
    assert (
        "iam.users MFADevices could not be read for 3 user(s) (AccessDenied: not allowed): "
        "alice, bob, carol" in account.errors
    )
    assert any(
        e.startswith("iam.users LastUsed could not be read for 1 user(s)") for e in account.errors
    )
    assert len(account.errors) == 3


def test_snapshot_and_gaad_agree_on_iam() -> None:
    from_snapshot: IdentityModel = model_from_snapshot(g.gaad_snapshot())
    from_gaad = model_from_auth_details(g.sample(), "gaad.json")
    ours, theirs = from_snapshot.accounts[ACCOUNT], from_gaad.accounts[ACCOUNT]
    assert ours.roles == theirs.roles and ours.groups == theirs.groups
    assert ours.policies == theirs.policies
    assert ours.unresolved_policies == theirs.unresolved_policies
    assert ours.name == "shop" and theirs.name == ""
