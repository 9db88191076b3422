"""Elastic Load Balancing v2: load balancers with their tags and, for Application Load
Balancers, the AWS WAF web ACL associated with them ("WebACL": None when there is none)."""

from __future__ import annotations

from typing import Any

from mamori.inventory.collectors._items import Item, chunked, each, labelled
from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable

_TAGS_PER_CALL = 20  # DescribeTags accepts at most 20 ARNs


@collector(
    "elbv2",
    scope="regional",
    calls=[
        "elbv2.describe_load_balancers",
        "elbv2.describe_tags",
        "wafv2.get_web_acl_for_resource",
    ],
)
def collect_elbv2(ctx: CollectContext) -> None:
    listing = ctx.paginate("elbv2", "describe_load_balancers", "LoadBalancers")
    if is_unavailable(listing):
        ctx.put("load_balancers", listing)
        return
    tags = _tags(ctx, [lb["LoadBalancerArn"] for lb in listing])
    ctx.put("load_balancers", each(ctx, listing, lambda lb: _load_balancer(ctx, lb, tags)))


def _tags(ctx: CollectContext, arns: list[str]) -> dict[str, Any]:
    """ARN -> {key: value}, or the marker of the call that covered that ARN."""
    out: dict[str, Any] = {}
    for batch in chunked(arns, _TAGS_PER_CALL):
        answer = ctx.call("elbv2", "describe_tags", pick="TagDescriptions", ResourceArns=batch)
        if is_unavailable(answer) or not isinstance(answer, list):
            out.update(dict.fromkeys(batch, answer))
            continue
        for desc in answer:
            out[desc["ResourceArn"]] = {t["Key"]: t.get("Value", "") for t in desc.get("Tags", [])}
    return out


def _load_balancer(ctx: CollectContext, lb: Item, tags: dict[str, Any]) -> Item:
    arn = str(lb["LoadBalancerArn"])
    out = labelled(dict(lb), arn, str(lb.get("LoadBalancerName") or arn))
    out["_tags"] = tags.get(arn, {})
    if lb.get("Type") == "application":
        # Only ALBs take a web ACL; the answer has no WebACL key when none is associated.
        acl = ctx.call("wafv2", "get_web_acl_for_resource", pick="WebACL", ResourceArn=arn)
        if isinstance(acl, dict) and not is_unavailable(acl):
            # The web ACL's rules are read once, from the wafv2 listing; this says which.
            acl = {k: acl[k] for k in ("ARN", "Name", "Id") if k in acl}
        out["WebACL"] = acl
    return out
