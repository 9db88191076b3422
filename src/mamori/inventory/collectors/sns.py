"""SNS: subscriptions, to tell whether a topic that an alarm notifies reaches anybody."""

from __future__ import annotations

from typing import Any

from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable


@collector("sns", scope="regional", calls=["sns.list_subscriptions"])
def collect_sns(ctx: CollectContext) -> None:
    subs = ctx.paginate("sns", "list_subscriptions", "Subscriptions")
    if is_unavailable(subs):
        ctx.put("subscriptions", subs)
        return
    ctx.put("subscriptions", [_subscription(s) for s in subs])


def _subscription(item: dict[str, Any]) -> dict[str, Any]:
    # An unconfirmed subscription has the text "PendingConfirmation" where the ARN would be;
    # it is kept as AWS gives it (the checks decide what it counts for) but gets no `_arn`.
    arn = str(item.get("SubscriptionArn") or "")
    return {**item, "_arn": arn} if arn.startswith("arn:") else dict(item)
