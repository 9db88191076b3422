"""SNS: subscriptions, to tell whether a topic that an alarm notifies reaches anybody; topics
with their attributes, among them the access policy (Attributes["Policy"])."""

from __future__ import annotations

from typing import Any

from mamori.inventory.collectors._items import listed, per_item
from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable


@collector(
    "sns",
    scope="regional",
    calls=["sns.list_subscriptions", "sns.list_topics", "sns.get_topic_attributes"],
)
def collect_sns(ctx: CollectContext) -> None:
    subs = ctx.paginate("sns", "list_subscriptions", "Subscriptions")
    ctx.put("subscriptions", subs if is_unavailable(subs) else [_subscription(s) for s in subs])

    details = per_item(
        ctx, "sns", "get_topic_attributes", "Attributes", pick="Attributes", TopicArn="TopicArn"
    )
    ctx.put(
        "topics",
        listed(
            ctx,
            "sns",
            "list_topics",
            "Topics",
            arn="TopicArn",
            name=lambda t: str(t.get("TopicArn", "")).rsplit(":", 1)[-1],
            details=details,
        ),
    )


def _subscription(item: dict[str, Any]) -> dict[str, Any]:
    # An unconfirmed subscription has the text "PendingConfirmation" where the ARN would be;
    # it is kept as AWS gives it (the checks decide what it counts for) but gets no `_arn`.
    arn = str(item.get("SubscriptionArn") or "")
    return {**item, "_arn": arn} if arn.startswith("arn:") else dict(item)
