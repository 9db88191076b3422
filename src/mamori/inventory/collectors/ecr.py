"""ECR: repositories with their repository policy (policyText, None when there is none)."""

from __future__ import annotations

from mamori.inventory.collectors._items import listed, per_item
from mamori.inventory.framework import CollectContext, collector

_NO_POLICY = ("RepositoryPolicyNotFoundException",)


@collector(
    "ecr",
    scope="regional",
    calls=["ecr.describe_repositories", "ecr.get_repository_policy"],
)
def collect_ecr(ctx: CollectContext) -> None:
    details = per_item(
        ctx,
        "ecr",
        "get_repository_policy",
        "policyText",
        pick="policyText",
        absent=_NO_POLICY,
        repositoryName="repositoryName",
        registryId="registryId",
    )
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
