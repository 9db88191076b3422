"""API Gateway: REST APIs and their stages. A stage is stored with its API's id, name and
endpoint configuration; AWS's stage carries "webAclArn" when a WAF web ACL is associated.

HTTP and WebSocket APIs (API Gateway v2) are not read: AWS WAF cannot be associated with them.
"""

from __future__ import annotations

from typing import Any

from mamori.inventory.collectors._items import Item, each, labelled
from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable

_API_KEYS = ("id", "name", "endpointConfiguration", "disableExecuteApiEndpoint")


@collector(
    "apigateway",
    scope="regional",
    calls=["apigateway.get_rest_apis", "apigateway.get_stages"],
)
def collect_apigateway(ctx: CollectContext) -> None:
    apis = ctx.paginate("apigateway", "get_rest_apis", "items")
    ctx.put("rest_apis", each(ctx, apis, lambda api: _api(ctx, api)))
    if is_unavailable(apis):
        ctx.put("stages", apis)
        return
    stages: list[Any] = []
    for api, listed in zip(apis, each(ctx, apis, lambda api: _stages(ctx, api)), strict=True):
        if is_unavailable(listed):
            # One API's stages unreadable: an entry that names the API, reported as ERROR.
            stages.append({**listed, "_arn": _api_arn(ctx, api["id"])})
        else:
            stages.extend(listed)
    ctx.put("stages", stages)


def _api(ctx: CollectContext, api: Item) -> Item:
    out = labelled(dict(api), _api_arn(ctx, api["id"]), str(api.get("name") or api["id"]))
    out["_tags"] = dict(api.get("tags") or {})
    return out


def _stages(ctx: CollectContext, api: Item) -> Any:
    answer = ctx.call("apigateway", "get_stages", pick="item", restApiId=api["id"])
    if is_unavailable(answer) or not isinstance(answer, list):
        return answer
    context = {f"restApi_{k}": api[k] for k in _API_KEYS if k in api}
    return [_stage(ctx, api, stage, context) for stage in answer]


def _stage(ctx: CollectContext, api: Item, stage: Item, context: Item) -> Item:
    name = str(stage["stageName"])
    arn = f"{_api_arn(ctx, api['id'])}/stages/{name}"
    out = labelled({**stage, **context}, arn, f"{api.get('name') or api['id']}/{name}")
    out["_tags"] = dict(stage.get("tags") or {})
    return out


def _api_arn(ctx: CollectContext, api_id: str) -> str:
    # API Gateway resources carry no account in their ARN.
    return f"arn:{ctx.partition}:apigateway:{ctx.region}::/restapis/{api_id}"
