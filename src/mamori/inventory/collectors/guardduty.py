"""GuardDuty: the region's detectors with their status and protection features."""

from __future__ import annotations

from typing import Any

from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable

_DETECTOR_KEYS = (
    "Status",
    "CreatedAt",
    "UpdatedAt",
    "FindingPublishingFrequency",
    "ServiceRole",
    "DataSources",
    "Features",
)


@collector(
    "guardduty",
    scope="regional",
    calls=[
        "guardduty.list_detectors",
        "guardduty.get_detector",
    ],
)
def collect_guardduty(ctx: CollectContext) -> None:
    ids = ctx.paginate("guardduty", "list_detectors", "DetectorIds")
    if is_unavailable(ids):
        ctx.put("detectors", ids)
        return
    ctx.put("detectors", [_detector(ctx, i) for i in ids])


def _detector(ctx: CollectContext, detector_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "DetectorId": detector_id,
        "_name": detector_id,
        "_arn": ctx.arn("guardduty", f"detector/{detector_id}"),
    }
    answer = ctx.call("guardduty", "get_detector", DetectorId=detector_id)
    if is_unavailable(answer):
        # Every attribute reads as unavailable, so no check mistakes it for "disabled".
        out.update(dict.fromkeys(_DETECTOR_KEYS, answer))
        return out
    out.update({k: answer[k] for k in _DETECTOR_KEYS if k in answer})
    if answer.get("Tags"):
        out["_tags"] = dict(answer["Tags"])
    return out
