"""CloudFront (global): distributions as ListDistributions summarises them (their "WebACLId"
is the associated web ACL's ARN, or a WAF Classic id, or "" for none) with their tags, and the
AWS WAF web ACLs of scope CLOUDFRONT that can protect them (answered in us-east-1)."""

from __future__ import annotations

from typing import Any

from mamori.inventory.collectors._items import Item, each, labelled
from mamori.inventory.collectors.wafv2 import (
    WEB_ACL_CALLS,
    global_api_region,
    marker_pages,
    web_acls,
)
from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable


@collector(
    "cloudfront",
    scope="global",
    calls=[
        "cloudfront.list_distributions",
        "cloudfront.list_tags_for_resource",
        *WEB_ACL_CALLS,
    ],
)
def collect_cloudfront(ctx: CollectContext) -> None:
    listing = marker_pages(
        ctx,
        "cloudfront",
        "list_distributions",
        lambda page: page.get("DistributionList", {}).get("Items", []),
        _next_marker,
    )
    ctx.put("distributions", each(ctx, listing, lambda d: _distribution(ctx, d)))
    ctx.put("web_acls", web_acls(ctx, "CLOUDFRONT", region=global_api_region(ctx)))


def _next_marker(page: Item) -> Any:
    listing = page.get("DistributionList", {})
    return listing.get("NextMarker") if listing.get("IsTruncated") else None


def _distribution(ctx: CollectContext, dist: Item) -> Item:
    arn = str(dist["ARN"])
    out = labelled(dict(dist), arn, str(dist.get("DomainName") or dist["Id"]))
    tags = ctx.call("cloudfront", "list_tags_for_resource", pick="Tags", Resource=arn)
    if isinstance(tags, dict) and not is_unavailable(tags):
        tags = {t["Key"]: t.get("Value", "") for t in tags.get("Items") or []}
    out["_tags"] = tags if tags is not None else {}
    return out
