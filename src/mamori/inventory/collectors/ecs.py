"""ECS: active task definitions, with the roles their tasks run as (taskRoleArn) and start with
(executionRoleArn), and the clusters.

Every ACTIVE revision is kept, not only the latest: any of them can still be run.
"""

from __future__ import annotations

from mamori.inventory.collectors._items import (
    Item,
    described,
    each,
    labelled,
    without_secrets,
)
from mamori.inventory.framework import CollectContext, collector

_DESCRIBED = ("taskRoleArn", "executionRoleArn")


@collector(
    "ecs",
    scope="regional",
    calls=["ecs.list_task_definitions", "ecs.describe_task_definition", "ecs.list_clusters"],
)
def collect_ecs(ctx: CollectContext) -> None:
    clusters = ctx.paginate("ecs", "list_clusters", "clusterArns")
    ctx.put(
        "clusters",
        each(ctx, clusters, lambda arn: labelled({"clusterArn": arn}, arn, _last(arn)), 1),
    )
    arns = ctx.paginate("ecs", "list_task_definitions", "taskDefinitionArns", status="ACTIVE")
    ctx.put("task_definitions", each(ctx, arns, lambda arn: _task_definition(ctx, arn)))


def _task_definition(ctx: CollectContext, arn: str) -> Item:
    answer = ctx.call("ecs", "describe_task_definition", pick="taskDefinition", taskDefinition=arn)
    # The name is family:revision, as the console and the CLI show it.
    item = without_secrets({"taskDefinitionArn": arn, **described(answer, _DESCRIBED)})
    return labelled(item, arn, _last(arn))


def _last(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]
