"""AWS WAF (v2): the Region's REGIONAL web ACLs with their rules and logging configuration.

Web ACLs of scope CLOUDFRONT are global; the cloudfront collector gathers them with
`web_acls(ctx, "CLOUDFRONT")` beside the distributions they protect. WAF Classic is not read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mamori.inventory.collectors._items import Item, described, each, labelled
from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable

WEB_ACL_CALLS = (
    "wafv2.list_web_acls",
    "wafv2.get_web_acl",
    "wafv2.get_logging_configuration",
)
# What GetWebACL adds to the listing; each reads as unavailable when that call failed.
_DETAIL_FIELDS = (
    "Rules",
    "DefaultAction",
    "PreProcessFirewallManagerRuleGroups",
    "PostProcessFirewallManagerRuleGroups",
    "ManagedByFirewallManager",
    "Capacity",
)
# AWS answers GetLoggingConfiguration for a web ACL without logging with this code.
_NO_LOGGING = ("WAFNonexistentItemException",)
# Services whose global control plane (CloudFront-scope WAF, Shield) answers in one Region.
_GLOBAL_API_REGION = {"aws": "us-east-1"}


def global_api_region(ctx: CollectContext) -> str:
    """Where the partition's global WAF and Shield APIs answer (us-east-1 in `aws`)."""
    return _GLOBAL_API_REGION.get(ctx.partition, ctx.api_region)


@collector("wafv2", scope="regional", calls=WEB_ACL_CALLS)
def collect_wafv2(ctx: CollectContext) -> None:
    ctx.put("web_acls", web_acls(ctx, "REGIONAL"))


def web_acls(ctx: CollectContext, scope: str, region: str | None = None) -> Any:
    """Every web ACL of `scope` as GetWebACL describes it, with "Scope" and
    "LoggingConfiguration" (None when logging is off); the listing's marker if unreadable."""
    listing = marker_pages(
        ctx,
        "wafv2",
        "list_web_acls",
        lambda page: page.get("WebACLs", []),
        marker_param="NextMarker",  # WAF names the request's marker as its answer does
        region=region,
        Scope=scope,
        Limit=100,
    )
    return each(ctx, listing, lambda summary: _web_acl(ctx, summary, scope, region))


def _web_acl(ctx: CollectContext, summary: Item, scope: str, region: str | None) -> Item:
    arn = str(summary["ARN"])
    answer = ctx.call(
        "wafv2",
        "get_web_acl",
        pick="WebACL",
        region=region,
        Name=summary["Name"],
        Scope=scope,
        Id=summary["Id"],
    )
    logging = ctx.call(
        "wafv2",
        "get_logging_configuration",
        absent=_NO_LOGGING,
        pick="LoggingConfiguration",
        region=region,
        ResourceArn=arn,
    )
    item = {k: v for k, v in summary.items() if k != "LockToken"}
    item.update(described(answer, _DETAIL_FIELDS))
    item.update({"Scope": scope, "LoggingConfiguration": logging})
    return labelled(item, arn, str(summary["Name"]))


def marker_pages(
    ctx: CollectContext,
    service: str,
    method: str,
    items: Callable[[Item], list[Any]],
    next_marker: Callable[[Item], Any] = lambda page: page.get("NextMarker"),
    *,
    marker_param: str = "Marker",
    region: str | None = None,
    **params: Any,
) -> Any:
    """Every item of a listing paged by markers that botocore has no paginator for (wafv2)
    or nests its items (CloudFront); the failing page's marker if any page failed."""
    out: list[Any] = []
    seen: set[str] = set()
    token = None
    while True:
        page = ctx.call(
            service, method, region=region, **params, **({marker_param: token} if token else {})
        )
        if is_unavailable(page):
            return page
        out.extend(items(page))
        token = next_marker(page)
        # A marker seen before would page forever: the listing ends there.
        if not token or str(token) in seen:
            return out
        seen.add(str(token))
