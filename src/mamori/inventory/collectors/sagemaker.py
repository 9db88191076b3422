"""SageMaker: notebook instances, with the role they run as and whether they reach the internet
directly or give their users root."""

from __future__ import annotations

from mamori.inventory.collectors._items import Item, described, listed
from mamori.inventory.framework import CollectContext, collector

# What the listing lacks and the per-instance call answers.
_DESCRIBED = ("RoleArn", "DirectInternetAccess", "RootAccess")


@collector(
    "sagemaker",
    scope="regional",
    calls=["sagemaker.list_notebook_instances", "sagemaker.describe_notebook_instance"],
)
def collect_sagemaker(ctx: CollectContext) -> None:
    def details(item: Item) -> Item:
        answer = ctx.call(
            "sagemaker",
            "describe_notebook_instance",
            NotebookInstanceName=item["NotebookInstanceName"],
        )
        return described(answer, _DESCRIBED)

    ctx.put(
        "notebook_instances",
        listed(
            ctx,
            "sagemaker",
            "list_notebook_instances",
            "NotebookInstances",
            arn="NotebookInstanceArn",
            name="NotebookInstanceName",
            details=details,
        ),
    )
