"""CodeBuild: projects, with the service role their builds run as (serviceRole)."""

from __future__ import annotations

from typing import Any

from mamori.inventory.collectors._items import Item, chunked, labelled, without_secrets
from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable

# BatchGetProjects takes at most 100 names.
_BATCH = 100


@collector(
    "codebuild",
    scope="regional",
    calls=["codebuild.list_projects", "codebuild.batch_get_projects"],
)
def collect_codebuild(ctx: CollectContext) -> None:
    names = ctx.paginate("codebuild", "list_projects", "projects")
    if is_unavailable(names):
        ctx.put("projects", names)
        return
    batches = ctx.map(lambda batch: _projects(ctx, batch), list(chunked(names, _BATCH)))
    ctx.put("projects", [p for batch in batches for p in batch])


def _projects(ctx: CollectContext, names: list[str]) -> list[Item]:
    answer = ctx.call("codebuild", "batch_get_projects", names=names)
    if is_unavailable(answer):
        # The names are known: keep each project, with what could not be read marked.
        return [_unread(ctx, name, answer) for name in names]
    # A project deleted between the listing and this call is simply not in the answer.
    return [
        labelled(without_secrets(p), p["arn"], p.get("name")) for p in answer.get("projects", [])
    ]


def _unread(ctx: CollectContext, name: str, marker: Any) -> Item:
    arn = ctx.arn("codebuild", f"project/{name}")
    return labelled({"name": name, "arn": arn, "serviceRole": marker}, arn, name)
