"""AWS Config checks (CIS AWS Foundations v3.0.0 section 3)."""

from __future__ import annotations

from typing import Any

from mamori.posture.registry import REGION, CheckContext, Verdict, check, failed, passed

_DOC = "https://docs.aws.amazon.com/config/latest/developerguide/"
_CIS = "https://www.cisecurity.org/benchmark/amazon_web_services"


def _records_everything(recorder: dict[str, Any]) -> bool:
    group = recorder.get("recordingGroup") or {}
    strategy = (group.get("recordingStrategy") or {}).get("useOnly")
    return group.get("allSupported") is True or strategy == "ALL_SUPPORTED_RESOURCE_TYPES"


def _recorder_problem(recorder: dict[str, Any], status: dict[str, Any] | None) -> str | None:
    name = recorder.get("name", "?")
    if not _records_everything(recorder):
        return f"recorder {name} does not record all supported resource types"
    if status is None or status.get("recording") is not True:
        return f"recorder {name} is not recording"
    if str(status.get("lastStatus", "")).lower() == "failure":
        return f"recorder {name} is failing ({status.get('lastErrorCode', 'unknown error')})"
    return None


@check(
    id="config.recorder_enabled",
    service="config",
    over=REGION,
    severity="medium",
    title="AWS Config should be enabled and record all resources",
    resource_type="AwsAccount",
    description="A configuration recorder that records all supported resource types, with a "
    "delivery channel, keeps the history of every resource's configuration: what "
    "changed, when, and its relationships (CIS 3.3).",
    remediation="Create a configuration recorder recording all supported resource types, a "
    "delivery channel to an S3 bucket, and start the recorder.",
    remediation_cli="aws configservice put-configuration-recorder --configuration-recorder "
    "name=default,roleARN=<role-arn> --recording-group allSupported=true,"
    "includeGlobalResourceTypes=true && aws configservice "
    "put-delivery-channel --delivery-channel name=default,s3BucketName=<bucket>"
    " && aws configservice start-configuration-recorder "
    "--configuration-recorder-name default",
    references=[_DOC + "stop-start-recorder.html", _CIS],
)
def recorder_enabled(ctx: CheckContext) -> Verdict:
    # Service-linked recorders (servicePrincipal set) record only what their service needs.
    recorders = [r for r in ctx.data("config", "recorders") or [] if not r.get("servicePrincipal")]
    if not recorders:
        return failed("no configuration recorder")
    status = {s.get("name"): s for s in ctx.data("config", "recorder_status") or []}
    problems = [_recorder_problem(r, status.get(r.get("name"))) for r in recorders]
    working = [r["name"] for r, p in zip(recorders, problems, strict=True) if p is None]
    if not working:
        return failed("; ".join(p for p in problems if p))
    if not ctx.data("config", "delivery_channels"):
        return failed(f"recorder {working[0]} has no delivery channel")
    return passed(f"recorder {working[0]} records all resource types", recorders=working)
