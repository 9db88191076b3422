"""Glue: development endpoints (an SSH-reachable machine running as RoleArn) and jobs (code that
runs as Role)."""

from __future__ import annotations

from collections.abc import Callable

from mamori.inventory.collectors._items import Item, listed, without_secrets
from mamori.inventory.framework import CollectContext, collector


@collector("glue", scope="regional", calls=["glue.get_dev_endpoints", "glue.get_jobs"])
def collect_glue(ctx: CollectContext) -> None:
    ctx.put(
        "dev_endpoints",
        listed(
            ctx,
            "glue",
            "get_dev_endpoints",
            "DevEndpoints",
            arn=_arn_of(ctx, "devEndpoint", "EndpointName"),
            name="EndpointName",
            shape=without_secrets,
        ),
    )
    ctx.put(
        "jobs",
        listed(
            ctx,
            "glue",
            "get_jobs",
            "Jobs",
            arn=_arn_of(ctx, "job", "Name"),
            name="Name",
            shape=without_secrets,
        ),
    )


def _arn_of(ctx: CollectContext, kind: str, name_field: str) -> Callable[[Item], str]:
    # Neither answer carries an ARN; Glue's are <kind>/<name>.
    return lambda item: ctx.arn("glue", f"{kind}/{item.get(name_field, '')}")
