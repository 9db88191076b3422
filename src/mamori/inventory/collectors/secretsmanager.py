"""Secrets Manager: secrets (metadata only, never values) with their resource-based policy
(ResourcePolicy, None when there is none)."""

from __future__ import annotations

from mamori.inventory.collectors._items import listed, per_item
from mamori.inventory.framework import CollectContext, collector


@collector(
    "secretsmanager",
    scope="regional",
    calls=["secretsmanager.list_secrets", "secretsmanager.get_resource_policy"],
)
def collect_secretsmanager(ctx: CollectContext) -> None:
    # A secret without a policy is answered without the ResourcePolicy field.
    details = per_item(
        ctx,
        "secretsmanager",
        "get_resource_policy",
        "ResourcePolicy",
        pick="ResourcePolicy",
        SecretId="ARN",
    )
    ctx.put(
        "secrets",
        listed(
            ctx,
            "secretsmanager",
            "list_secrets",
            "SecretList",
            arn="ARN",
            name="Name",
            details=details,
        ),
    )
