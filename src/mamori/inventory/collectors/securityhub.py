"""Security Hub: whether the hub is enabled in the region, and its enabled standards."""

from __future__ import annotations

from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable

# Security Hub answers DescribeHub with InvalidAccessException ("not subscribed") in a region
# where it was never enabled; ResourceNotFoundException when the hub was deleted.
_NOT_ENABLED = ("InvalidAccessException", "ResourceNotFoundException")
_HUB_KEYS = ("HubArn", "SubscribedAt", "AutoEnableControls", "ControlFindingGenerator")


@collector(
    "securityhub",
    scope="regional",
    calls=[
        "securityhub.describe_hub",
        "securityhub.get_enabled_standards",
    ],
)
def collect_securityhub(ctx: CollectContext) -> None:
    hub = ctx.call("securityhub", "describe_hub", absent=_NOT_ENABLED)
    if hub is None or is_unavailable(hub):
        ctx.put("hub", hub)
        # No hub, no standards; an unreadable hub leaves the standards unknown as well.
        ctx.put("standards", [] if hub is None else hub)
        return
    ctx.put("hub", {k: hub[k] for k in _HUB_KEYS if k in hub})
    ctx.put(
        "standards", ctx.paginate("securityhub", "get_enabled_standards", "StandardsSubscriptions")
    )
