"""Lambda: functions with their resource-based policy and function URL configuration.

Only the unqualified function ($LATEST) is read: policies and URLs attached to aliases or
versions are not collected yet.
"""

from __future__ import annotations

from typing import Any

from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable

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
    ],
)
def collect_lambda(ctx: CollectContext) -> None:
    listing = ctx.paginate("lambda", "list_functions", "Functions")
    if is_unavailable(listing):
        ctx.put("functions", listing)
        return
    ctx.put("functions", ctx.map(lambda f: _function(ctx, f), listing))


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
