"""SQS: queues with their resource-based policy.

Each item is {"QueueUrl", "Attributes"} with Attributes as GetQueueAttributes answers it for
QueueArn and Policy: a queue without a policy has no "Policy" attribute.
"""

from __future__ import annotations

from mamori.inventory.collectors._items import Item, each, labelled
from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable

_ATTRIBUTES = ["QueueArn", "Policy"]


@collector("sqs", scope="regional", calls=["sqs.list_queues", "sqs.get_queue_attributes"])
def collect_sqs(ctx: CollectContext) -> None:
    urls = ctx.paginate("sqs", "list_queues", "QueueUrls")
    ctx.put("queues", each(ctx, urls, lambda url: _queue(ctx, url)))


def _queue(ctx: CollectContext, url: str) -> Item:
    attributes = ctx.call(
        "sqs", "get_queue_attributes", pick="Attributes", QueueUrl=url, AttributeNames=_ATTRIBUTES
    )
    # A queue URL ends in <account>/<name>; the ARN is rebuilt from it when the attributes
    # could not be read, so the queue is still named in what is reported about it.
    head, _, name = url.rstrip("/").rpartition("/")
    arn = ctx.arn("sqs", name, account=head.rsplit("/", 1)[-1])
    if isinstance(attributes, dict) and not is_unavailable(attributes):
        arn = str(attributes.get("QueueArn") or arn)
    return labelled({"QueueUrl": url, "Attributes": attributes}, arn, name)
