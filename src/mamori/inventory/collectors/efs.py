"""EFS: file systems with their file system policy (Policy, None when there is none)."""

from __future__ import annotations

from mamori.inventory.collectors._items import listed, per_item
from mamori.inventory.framework import CollectContext, collector

_NO_POLICY = ("PolicyNotFound",)


@collector(
    "efs",
    scope="regional",
    calls=["efs.describe_file_systems", "efs.describe_file_system_policy"],
)
def collect_efs(ctx: CollectContext) -> None:
    details = per_item(
        ctx,
        "efs",
        "describe_file_system_policy",
        "Policy",
        pick="Policy",
        absent=_NO_POLICY,
        FileSystemId="FileSystemId",
    )
    ctx.put(
        "file_systems",
        listed(
            ctx,
            "efs",
            "describe_file_systems",
            "FileSystems",
            arn="FileSystemArn",
            # Name is the Name tag, when there is one.
            name=lambda fs: str(fs.get("Name") or fs.get("FileSystemId", "")),
            details=details,
        ),
    )
