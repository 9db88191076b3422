"""IAM Access Analyzer: the analyzers of each region (CIS 1.20 wants one in every region)."""

from __future__ import annotations

from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable


@collector("accessanalyzer", scope="regional", calls=["accessanalyzer.list_analyzers"])
def collect_accessanalyzer(ctx: CollectContext) -> None:
    analyzers = ctx.paginate("accessanalyzer", "list_analyzers", "analyzers")
    ctx.put(
        "analyzers",
        analyzers
        if is_unavailable(analyzers)
        else [
            {**a, "_arn": a["arn"], "_name": a.get("name", a["arn"]), "_tags": a.get("tags") or {}}
            for a in analyzers
        ],
    )
