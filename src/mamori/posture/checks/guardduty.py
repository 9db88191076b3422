"""GuardDuty checks."""

from __future__ import annotations

from mamori.posture.registry import REGION, CheckContext, Verdict, check, failed, passed


@check(
    id="guardduty.enabled",
    service="guardduty",
    over=REGION,
    severity="high",
    title="GuardDuty should be enabled",
    resource_type="AwsAccount",
    description="GuardDuty analyses CloudTrail, VPC Flow Logs and DNS logs for threats; a "
    "Region without an enabled detector goes unwatched, and attackers favour "
    "Regions nobody uses.",
    remediation="Create (or re-enable) a GuardDuty detector in the Region; with AWS "
    "Organizations, let the delegated administrator auto-enable members.",
    remediation_cli="aws guardduty create-detector --enable",
    references=["https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_settingup.html"],
)
def enabled(ctx: CheckContext) -> Verdict:
    detectors = ctx.resources("guardduty", "detectors")
    if not detectors:
        return failed("no GuardDuty detector in the region")
    on = [d.name for d in detectors if d["Status"] == "ENABLED"]
    if on:
        return passed(f"detector {on[0]} is enabled", detectors=on)
    return failed(f"detector {detectors[0].name} is {detectors[0]['Status']}")
