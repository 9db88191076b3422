"""RDS: DB instances, and manual DB snapshots with who may restore them."""

from __future__ import annotations

from typing import Any

from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable


@collector(
    "rds",
    scope="regional",
    calls=[
        "rds.describe_db_instances",
        "rds.describe_db_snapshots",
        "rds.describe_db_snapshot_attributes",
    ],
)
def collect_rds(ctx: CollectContext) -> None:
    instances = ctx.paginate("rds", "describe_db_instances", "DBInstances")
    if not is_unavailable(instances):
        instances = [_labelled(i, "DBInstanceArn", "DBInstanceIdentifier") for i in instances]
    ctx.put("instances", instances)

    # Automated snapshots cannot be shared; only manual ones can be made public.
    snapshots = ctx.paginate("rds", "describe_db_snapshots", "DBSnapshots", SnapshotType="manual")
    if not is_unavailable(snapshots):
        snapshots = ctx.map(lambda s: _snapshot(ctx, s), snapshots)
    ctx.put("snapshots", snapshots)


def _labelled(item: dict[str, Any], arn_key: str, name_key: str) -> dict[str, Any]:
    out = {**item, "_arn": item[arn_key], "_name": item.get(name_key)}
    tags = item.get("TagList")
    if isinstance(tags, list):
        out["_tags"] = {t["Key"]: t.get("Value", "") for t in tags if "Key" in t}
    return out


def _snapshot(ctx: CollectContext, item: dict[str, Any]) -> dict[str, Any]:
    out = _labelled(item, "DBSnapshotArn", "DBSnapshotIdentifier")
    answer = ctx.call(
        "rds",
        "describe_db_snapshot_attributes",
        pick="DBSnapshotAttributesResult",
        DBSnapshotIdentifier=item["DBSnapshotIdentifier"],
    )
    out["Attributes"] = (
        answer if is_unavailable(answer) else (answer or {}).get("DBSnapshotAttributes", [])
    )
    return out
