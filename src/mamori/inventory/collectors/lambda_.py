"""Lambda: functions with their resource-based policy and function URL configuration; layers
with the policy of their latest version (who may use or copy the layer).

Only the unqualified function ($LATEST) is read: policies and URLs attached to aliases or
versions are not collected yet; nor are the policies of a layer's older versions.
"""

from __future__ import annotations

from typing import Any

from mamori.inventory.collectors._items import Item, listed
from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable, unavailable

# Lambda answers ResourceNotFoundException both for "no policy / no URL" and for a function
# deleted mid-scan; either way there is nothing to judge.
_NOT_FOUND = ("ResourceNotFoundException",)


@collector(
    "lambda",
    scope="regional",
    calls=[
        "lambda.list_functions",
        "lambda.get_policy",
        "lambda.get_function_url_config",
        "lambda.list_layers",
        "lambda.get_layer_version_policy",
    ],
)
def collect_lambda(ctx: CollectContext) -> None:
    listing = ctx.paginate("lambda", "list_functions", "Functions")
    ctx.put(
        "functions",
        listing if is_unavailable(listing) else ctx.map(lambda f: _function(ctx, f), listing),
    )
    ctx.put(
        "layers",
        listed(
            ctx,
            "lambda",
            "list_layers",
            "Layers",
            arn="LayerArn",
            name="LayerName",
            details=lambda layer: _layer_policy(ctx, layer),
        ),
    )


def _function(ctx: CollectContext, item: dict[str, Any]) -> dict[str, Any]:
    name = item["FunctionName"]
    out = {**item, "_arn": item["FunctionArn"], "_name": name}
    out["Policy"] = ctx.call(
        "lambda", "get_policy", absent=_NOT_FOUND, pick="Policy", FunctionName=name
    )
    url = ctx.call("lambda", "get_function_url_config", absent=_NOT_FOUND, FunctionName=name)
    if isinstance(url, dict) and not is_unavailable(url):
        url = {k: v for k, v in url.items() if k != "ResponseMetadata"}
    out["UrlConfig"] = url
    return out


def _layer_policy(ctx: CollectContext, layer: Item) -> Item:
    latest = layer.get("LatestMatchingVersion") or {}
    if "Version" not in latest:
        # ListLayers names only layers that have a version; without one, nothing is known.
        return {"Policy": unavailable("Malformed", "no LatestMatchingVersion in ListLayers")}
    policy = ctx.call(
        "lambda",
        "get_layer_version_policy",
        absent=_NOT_FOUND,
        pick="Policy",
        LayerName=layer["LayerName"],
        VersionNumber=latest["Version"],
    )
    return {"Policy": policy}
