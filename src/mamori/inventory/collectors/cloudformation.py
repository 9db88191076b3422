"""CloudFormation: stacks, with the service role they deploy as (RoleARN) and the capabilities
they were granted (an IAM-creating stack deploys whatever its template says)."""

from __future__ import annotations

from mamori.inventory.collectors._items import listed, without_secrets
from mamori.inventory.framework import CollectContext, collector


@collector("cloudformation", scope="regional", calls=["cloudformation.describe_stacks"])
def collect_cloudformation(ctx: CollectContext) -> None:
    ctx.put(
        "stacks",
        listed(
            ctx,
            "cloudformation",
            "describe_stacks",
            "Stacks",
            arn="StackId",
            name="StackName",
            shape=without_secrets,
        ),
    )
