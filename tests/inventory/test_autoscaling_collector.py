"""Auto Scaling collector on moto: groups with what they launch from, launch configurations
with their instance profile and without their user data."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from mamori.aws import AccountSession
from tests.inventory.collecting import by_name, fail, marker_code, moto_account, run


@pytest.fixture
def session() -> Iterator[AccountSession]:
    with moto_account() as account:
        yield account


def _seed() -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    image = ec2.register_image(Name="base-image", RootDeviceName="/dev/sda1")["ImageId"]
    ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={"ImageId": image})
    autoscaling = boto3.client("autoscaling", region_name="us-east-1")
    autoscaling.create_launch_configuration(
        LaunchConfigurationName="workers-v1",
        ImageId=image,
        InstanceType="t3.micro",
        IamInstanceProfile="worker-profile",
        UserData="#!/bin/sh\nexport DB_PASSWORD=hunter2\n",
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="web",
        LaunchTemplate={"LaunchTemplateName": "web"},
        MinSize=0,
        MaxSize=1,
        AvailabilityZones=["us-east-1a"],
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="workers",
        LaunchConfigurationName="workers-v1",
        MinSize=0,
        MaxSize=1,
        AvailabilityZones=["us-east-1a"],
    )


def test_groups_and_launch_configurations(session: AccountSession) -> None:
    _seed()

    data, snapshot = run(session, "autoscaling")

    assert snapshot.errors == []
    groups = by_name(data["groups"])
    assert groups["web"]["_arn"] == groups["web"]["AutoScalingGroupARN"]
    assert groups["web"]["LaunchTemplate"]["LaunchTemplateName"] == "web"
    assert groups["workers"]["LaunchConfigurationName"] == "workers-v1"
    (config,) = data["launch_configurations"]
    assert config["_name"] == "workers-v1"
    assert config["_arn"] == config["LaunchConfigurationARN"]
    assert config["IamInstanceProfile"] == "worker-profile"
    # Whether there is a boot script is kept; the script (and what it holds) is not.
    assert config["_has_user_data"] is True
    assert "UserData" not in config
    assert "hunter2" not in str(snapshot.to_json())


def test_denied_launch_configurations_leave_the_groups(session: AccountSession) -> None:
    _seed()
    fail(session, "DescribeLaunchConfigurations")

    data, _ = run(session, "autoscaling")

    assert marker_code(data["launch_configurations"]) == "AccessDenied"
    assert set(by_name(data["groups"])) == {"web", "workers"}
