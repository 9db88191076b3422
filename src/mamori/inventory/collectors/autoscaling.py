"""Auto Scaling: groups (which launch template or configuration they start instances from) and
launch configurations (the instance profile those instances get). User data is not stored,
only whether there is any."""

from __future__ import annotations

from mamori.inventory.collectors._items import listed, without_user_data
from mamori.inventory.framework import CollectContext, collector


@collector(
    "autoscaling",
    scope="regional",
    calls=[
        "autoscaling.describe_auto_scaling_groups",
        "autoscaling.describe_launch_configurations",
    ],
)
def collect_autoscaling(ctx: CollectContext) -> None:
    ctx.put(
        "groups",
        listed(
            ctx,
            "autoscaling",
            "describe_auto_scaling_groups",
            "AutoScalingGroups",
            arn="AutoScalingGroupARN",
            name="AutoScalingGroupName",
        ),
    )
    ctx.put(
        "launch_configurations",
        listed(
            ctx,
            "autoscaling",
            "describe_launch_configurations",
            "LaunchConfigurations",
            arn="LaunchConfigurationARN",
            name="LaunchConfigurationName",
            shape=without_user_data,
        ),
    )
