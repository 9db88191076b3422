"""CloudTrail: this account's trails homed in the region (with their status and event
selectors), and the list of every trail that delivers events for the region."""

from __future__ import annotations

from typing import Any

from mamori.core import InputError, parse_arn
from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable

# What a region needs to know about a trail it does not own (a multi-region trail homed
# elsewhere, or an organization trail of the management account).
_LISTING_KEYS = ("Name", "TrailARN", "HomeRegion", "IsMultiRegionTrail", "IsOrganizationTrail")


@collector(
    "cloudtrail",
    scope="regional",
    calls=[
        "cloudtrail.describe_trails",
        "cloudtrail.get_trail_status",
        "cloudtrail.get_event_selectors",
    ],
)
def collect_cloudtrail(ctx: CollectContext) -> None:
    # One listing with shadow trails: a multi-region trail shows up in every region it covers,
    # so the same answer gives both the trails to inspect here and the region's coverage.
    listing = ctx.call("cloudtrail", "describe_trails", pick="trailList", includeShadowTrails=True)
    if is_unavailable(listing):
        ctx.put("trails", listing)
        ctx.put("all_trails", listing)
        return
    listing = listing or []
    ctx.put(
        "all_trails",
        [{k: t.get(k) for k in _LISTING_KEYS} | {"_arn": t.get("TrailARN")} for t in listing],
    )
    ctx.put("trails", [_trail(ctx, t) for t in listing if _homed_here(ctx, t)])


def _homed_here(ctx: CollectContext, trail: dict[str, Any]) -> bool:
    """Trails this account owns with this region as home; each is then reported exactly once."""
    try:
        owner = parse_arn(str(trail.get("TrailARN") or "")).account
    except InputError:
        return False
    return trail.get("HomeRegion") == ctx.region and owner == ctx.account_id


def _trail(ctx: CollectContext, summary: dict[str, Any]) -> dict[str, Any]:
    arn = summary["TrailARN"]
    out = dict(summary)
    out["_arn"] = arn
    out["_name"] = summary.get("Name") or arn
    status = ctx.call("cloudtrail", "get_trail_status", Name=arn)
    out["Status"] = status if is_unavailable(status) else _without_metadata(status)
    selectors = ctx.call("cloudtrail", "get_event_selectors", TrailName=arn)
    if is_unavailable(selectors):
        out["EventSelectors"] = out["AdvancedEventSelectors"] = selectors
    else:
        out["EventSelectors"] = selectors.get("EventSelectors") or []
        out["AdvancedEventSelectors"] = selectors.get("AdvancedEventSelectors") or []
    return out


def _without_metadata(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}
