"""CloudWatch: metric alarms (their metric and the actions they trigger)."""

from __future__ import annotations

from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable


@collector("cloudwatch", scope="regional", calls=["cloudwatch.describe_alarms"])
def collect_cloudwatch(ctx: CollectContext) -> None:
    alarms = ctx.paginate(
        "cloudwatch", "describe_alarms", "MetricAlarms", AlarmTypes=["MetricAlarm"]
    )
    if is_unavailable(alarms):
        ctx.put("alarms", alarms)
        return
    ctx.put(
        "alarms", [{**a, "_arn": a.get("AlarmArn"), "_name": a.get("AlarmName")} for a in alarms]
    )
