"""EC2 collector on moto: what lands in the snapshot, and what a denied call does to it."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from mamori.aws import AccountSession, AwsOptions
from mamori.core import ComplianceStatus, Finding
from mamori.inventory import collect, is_unavailable, load_collectors
from mamori.inventory.snapshot import Snapshot
from mamori.posture import load_checks
from mamori.posture.engine import run_check

ACCOUNT = "123456789012"  # moto's default account
EAST, WEST = "us-east-1", "eu-west-1"


@pytest.fixture
def session() -> Iterator[AccountSession]:
    with mock_aws():
        yield AccountSession(ACCOUNT, boto3.Session(region_name=EAST), AwsOptions(max_attempts=1))


def _deny(session: AccountSession, region: str, operation: str) -> None:
    """Make one EC2 operation in one region answer as AWS does without the permission."""

    def refuse(model: Any, **_: Any) -> None:
        raise ClientError(
            {
                "Error": {"Code": "UnauthorizedOperation", "Message": "not authorized"},
                "ResponseMetadata": {"HTTPStatusCode": 403},
            },
            model.name,
        )

    # The collector reuses the session's cached client for the region, so this is the one hit.
    session.client("ec2", region).meta.events.register(f"before-call.ec2.{operation}", refuse)


def _launch(region: str, **launch: Any) -> str:
    ec2 = boto3.client("ec2", region_name=region)
    image = ec2.register_image(Name="base-image", RootDeviceName="/dev/sda1")["ImageId"]
    answer = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, **launch)
    return str(answer["Instances"][0]["InstanceId"])


def _volume(region: str) -> str:
    ec2 = boto3.client("ec2", region_name=region)
    return str(ec2.create_volume(Size=8, AvailabilityZone=f"{region}a")["VolumeId"])


def _findings(snapshot: Snapshot, check_id: str) -> list[Finding]:
    return list(run_check(load_checks()[check_id], snapshot, ACCOUNT))


def _by_region(findings: list[Finding]) -> dict[str, list[tuple[str, ComplianceStatus]]]:
    out: dict[str, list[tuple[str, ComplianceStatus]]] = {}
    for f in findings:
        out.setdefault(f.region, []).append((f.resource.id, f.compliance.status))
    return out


def test_denied_describe_instances_is_one_error_and_only_that_key(
    session: AccountSession,
) -> None:
    east_instance = _launch(EAST)
    _launch(WEST)
    west_volume = _volume(WEST)
    _deny(session, WEST, "DescribeInstances")

    snapshot = collect([session], [EAST, WEST], services=["ec2"], workers=2)

    errors = [(e.account, e.region, e.service, e.code, e.count) for e in snapshot.errors]
    assert errors == [(ACCOUNT, WEST, "ec2", "UnauthorizedOperation", 1)]
    assert is_unavailable(snapshot.services(ACCOUNT)["ec2"][WEST]["instances"])
    # Everything else in the denied region is still there.
    west_volumes = [v["VolumeId"] for v in snapshot.data(ACCOUNT, "ec2", WEST, "volumes")]
    assert west_volume in west_volumes
    assert snapshot.data(ACCOUNT, "ec2", WEST, "security_groups")

    imds = _by_region(_findings(snapshot, "ec2.instance_imdsv2_required"))
    assert imds[WEST] == [
        (f"arn:aws:mamori:{WEST}:{ACCOUNT}:account-region", ComplianceStatus.NOT_AVAILABLE)
    ]
    assert (
        f"arn:aws:ec2:{EAST}:{ACCOUNT}:instance/{east_instance}",
        ComplianceStatus.FAILED,
    ) in imds[EAST]
    volumes = _by_region(_findings(snapshot, "ec2.ebs_volume_encrypted"))
    assert (
        f"arn:aws:ec2:{WEST}:{ACCOUNT}:volume/{west_volume}",
        ComplianceStatus.FAILED,
    ) in volumes[WEST]


def test_denied_snapshot_attribute_is_never_read_as_private(session: AccountSession) -> None:
    ec2 = boto3.client("ec2", region_name=EAST)
    snap_id = ec2.create_snapshot(VolumeId=_volume(EAST))["SnapshotId"]
    _deny(session, EAST, "DescribeSnapshotAttribute")

    snapshot = collect([session], [EAST], services=["ec2"], workers=1)

    [finding] = _findings(snapshot, "ec2.ebs_snapshot_not_public")
    assert finding.resource.id == f"arn:aws:ec2:{EAST}:{ACCOUNT}:snapshot/{snap_id}"
    assert finding.compliance.status is ComplianceStatus.NOT_AVAILABLE


def test_snapshot_shapes(session: AccountSession) -> None:
    ec2 = boto3.client("ec2", region_name=EAST)
    instance = _launch(
        EAST,
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web-1"}]}
        ],
    )
    snap_id = ec2.create_snapshot(VolumeId=_volume(EAST))["SnapshotId"]
    ec2.modify_snapshot_attribute(
        SnapshotId=snap_id,
        Attribute="createVolumePermission",
        OperationType="add",
        UserIds=["210987654321"],
    )
    ec2.enable_ebs_encryption_by_default()

    snapshot = collect([session], [EAST], services=["ec2"], workers=1)

    def data(key: str) -> Any:
        return snapshot.data(ACCOUNT, "ec2", EAST, key)

    assert snapshot.errors == []
    assert data("ebs_default_encryption") is True
    [inst] = [i for i in data("instances") if i["InstanceId"] == instance]
    assert inst["_arn"] == f"arn:aws:ec2:{EAST}:{ACCOUNT}:instance/{instance}"
    assert (inst["_name"], inst["_tags"]) == ("web-1", {"Name": "web-1"})
    assert {"MetadataOptions", "PublicIpAddress", "State", "SecurityGroups"} <= set(inst)
    [snap] = [s for s in data("snapshots") if s["SnapshotId"] == snap_id]
    assert snap["CreateVolumePermissions"] == [{"UserId": "210987654321"}]
    assert snap["_name"] == snap_id
    assert all(img["Public"] is False for img in data("images"))
    for key, kind in (
        ("vpcs", "vpc"),
        ("security_groups", "security-group"),
        ("network_acls", "network-acl"),
        ("volumes", "volume"),
    ):
        items = data(key)
        assert items, key
        assert all(i["_arn"].startswith(f"arn:aws:ec2:{EAST}:{ACCOUNT}:{kind}/") for i in items)
    for key in ("flow_logs", "internet_gateways", "route_tables"):
        assert isinstance(data(key), list), key


def test_declared_calls_are_ec2_operations() -> None:
    client = boto3.client("ec2", region_name=EAST)
    spec = load_collectors()["ec2"]
    assert spec.scope == "regional"
    for call in spec.calls:
        assert call.service == "ec2" and hasattr(client, call.method), call


def test_images_carry_who_may_launch_them(session: AccountSession) -> None:
    ec2 = boto3.client("ec2", region_name=EAST)
    shared = ec2.register_image(Name="shared-image", RootDeviceName="/dev/sda1")["ImageId"]
    ec2.modify_image_attribute(
        ImageId=shared, LaunchPermission={"Add": [{"UserId": "210987654321"}, {"Group": "all"}]}
    )
    private = ec2.register_image(Name="private-image", RootDeviceName="/dev/sda1")["ImageId"]

    snapshot = collect([session], [EAST], services=["ec2"], workers=1)

    images = {i["ImageId"]: i for i in snapshot.data(ACCOUNT, "ec2", EAST, "images")}
    assert sorted(images[shared]["LaunchPermissions"], key=str) == [
        {"Group": "all"},
        {"UserId": "210987654321"},
    ]
    assert images[private]["LaunchPermissions"] == []
    assert snapshot.errors == []


def test_denied_image_attribute_is_never_read_as_unshared(session: AccountSession) -> None:
    ec2 = boto3.client("ec2", region_name=EAST)
    image = ec2.register_image(Name="base-image", RootDeviceName="/dev/sda1")["ImageId"]
    _deny(session, EAST, "DescribeImageAttribute")

    snapshot = collect([session], [EAST], services=["ec2"], workers=1)

    [img] = snapshot.services(ACCOUNT)["ec2"][EAST]["images"]
    assert img["ImageId"] == image
    assert is_unavailable(img["LaunchPermissions"])


def test_launch_templates_carry_their_default_version_without_user_data(
    session: AccountSession,
) -> None:
    ec2 = boto3.client("ec2", region_name=EAST)
    profile = f"arn:aws:iam::{ACCOUNT}:instance-profile/web"
    template = ec2.create_launch_template(
        LaunchTemplateName="web",
        LaunchTemplateData={
            "ImageId": "ami-12345678",
            "IamInstanceProfile": {"Arn": profile},
            "UserData": base64.b64encode(b"#!/bin/sh\nexport TOKEN=secret\n").decode(),
        },
    )["LaunchTemplate"]
    # A newer version that is not the default must not be the one read.
    ec2.create_launch_template_version(
        LaunchTemplateId=template["LaunchTemplateId"],
        LaunchTemplateData={"ImageId": "ami-87654321"},
    )
    ec2.create_launch_template(
        LaunchTemplateName="bare", LaunchTemplateData={"ImageId": "ami-12345678"}
    )

    snapshot = collect([session], [EAST], services=["ec2"], workers=1)

    assert snapshot.errors == []
    templates = {t["_name"]: t for t in snapshot.data(ACCOUNT, "ec2", EAST, "launch_templates")}
    web = templates["web"]
    assert web["_arn"] == (
        f"arn:aws:ec2:{EAST}:{ACCOUNT}:launch-template/{template['LaunchTemplateId']}"
    )
    assert web["DefaultVersionNumber"] == 1
    assert web["LaunchTemplateData"] == {
        "ImageId": "ami-12345678",
        "IamInstanceProfile": {"Arn": profile},
        "_has_user_data": True,
    }
    assert templates["bare"]["LaunchTemplateData"]["_has_user_data"] is False
    assert "secret" not in str(snapshot.to_json())


def test_denied_template_versions_leave_the_templates_listed(session: AccountSession) -> None:
    ec2 = boto3.client("ec2", region_name=EAST)
    ec2.create_launch_template(
        LaunchTemplateName="web", LaunchTemplateData={"ImageId": "ami-12345678"}
    )
    _deny(session, EAST, "DescribeLaunchTemplateVersions")

    snapshot = collect([session], [EAST], services=["ec2"], workers=1)

    [web] = snapshot.services(ACCOUNT)["ec2"][EAST]["launch_templates"]
    assert web["_name"] == "web"
    assert is_unavailable(web["LaunchTemplateData"])
    assert [e.operation for e in snapshot.errors] == ["ec2:describe_launch_template_versions"]
