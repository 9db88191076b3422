"""ECR: repositories with their repository policy (policyText, None when there is none)."""

from __future__ import annotations

from mamori.inventory.collectors._items import Item, listed
from mamori.inventory.framework import CollectContext, collector

_NO_POLICY = ("RepositoryPolicyNotFoundException",)


@collector(
    "ecr",
    scope="regional",
    calls=["ecr.describe_repositories", "ecr.get_repository_policy"],
)
def collect_ecr(ctx: CollectContext) -> None:
    def details(item: Item) -> Item:
        policy = ctx.call(
            "ecr",
            "get_repository_policy",
            absent=_NO_POLICY,
            pick="policyText",
            repositoryName=item["repositoryName"],
            registryId=item["registryId"],
        )
        return {"policyText": policy}

    ctx.put(
        "repositories",
        listed(
            ctx,
            "ecr",
            "describe_repositories",
            "repositories",
            arn="repositoryArn",
            name="repositoryName",
            details=details,
        ),
    )
