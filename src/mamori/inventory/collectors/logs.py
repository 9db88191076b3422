"""CloudWatch Logs: metric filters (what the CIS monitoring controls look for on the CloudTrail
log group)."""

from __future__ import annotations

from typing import Any

from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable


@collector("logs", scope="regional", calls=["logs.describe_metric_filters"])
def collect_logs(ctx: CollectContext) -> None:
    filters = ctx.paginate("logs", "describe_metric_filters", "metricFilters")
    if is_unavailable(filters):
        ctx.put("metric_filters", filters)
        return
    ctx.put("metric_filters", [_metric_filter(ctx, f) for f in filters])


def _metric_filter(ctx: CollectContext, item: dict[str, Any]) -> dict[str, Any]:
    # Metric filters have no ARN of their own. This form hangs the filter under its log
    # group's ARN (`...:log-group:<group>:metric-filter/<name>`), so that it is unique per
    # account and region and tells the reader where to look.
    group = item.get("logGroupName", "")
    name = item.get("filterName", "")
    return {
        **item,
        "_name": name,
        "_arn": ctx.arn("logs", f"log-group:{group}:metric-filter/{name}"),
    }
