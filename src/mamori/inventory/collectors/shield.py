"""AWS Shield Advanced (global): the account's subscription and its protections.

An account that never subscribed answers DescribeSubscription with ResourceNotFoundException:
that is stored as "subscription": None (an answer), and no protections are listed.
"""

from __future__ import annotations

from mamori.inventory.collectors._items import each, labelled
from mamori.inventory.collectors.wafv2 import global_api_region
from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable

_NOT_SUBSCRIBED = ("ResourceNotFoundException",)
_SUBSCRIPTION_KEYS = (
    "SubscriptionArn",
    "StartTime",
    "EndTime",
    "AutoRenew",
    "ProactiveEngagementStatus",
)


@collector(
    "shield",
    scope="global",
    calls=["shield.describe_subscription", "shield.list_protections"],
)
def collect_shield(ctx: CollectContext) -> None:
    region = global_api_region(ctx)
    sub = ctx.call(
        "shield",
        "describe_subscription",
        absent=_NOT_SUBSCRIBED,
        pick="Subscription",
        region=region,
    )
    if sub is None or is_unavailable(sub):
        ctx.put("subscription", sub)
        # Without a subscription nothing is protected; an unreadable one leaves it unknown.
        ctx.put("protections", [] if sub is None else sub)
        return
    ctx.put("subscription", {k: sub[k] for k in _SUBSCRIPTION_KEYS if k in sub})
    # ListProtections answers ResourceNotFoundException when there is none.
    listing = ctx.paginate(
        "shield", "list_protections", "Protections", absent=_NOT_SUBSCRIBED, region=region
    )
    ctx.put(
        "protections",
        each(ctx, listing, lambda p: labelled(dict(p), p["ProtectionArn"], p.get("Name"))),
    )
