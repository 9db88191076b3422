"""AWS Config scenarios."""

from __future__ import annotations

from typing import Any

from tests.posture.harness import Env, scenario


def _recorder(
    env: Env, label: str, group: dict[str, Any], *, channel: bool = True, start: bool = True
) -> None:
    config = env.client("config", label)
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{env.account(label)}:role/config",
            "recordingGroup": group,
        }
    )
    if channel:
        bucket = f"config-{env.account(label)}"
        env.client("s3", label).create_bucket(Bucket=bucket)
        config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": bucket})
    if start:
        config.start_configuration_recorder(ConfigurationRecorderName="default")


@scenario("config.recorder_enabled")
def recorder(env: Env) -> None:
    _recorder(env, "main", {"allSupported": True, "includeGlobalResourceTypes": True})
    env.passes(env.region_arn("main"))
    # Recording only two resource types is not enough.
    _recorder(
        env,
        "partial",
        {
            "allSupported": False,
            "includeGlobalResourceTypes": False,
            "resourceTypes": ["AWS::S3::Bucket", "AWS::IAM::Role"],
        },
    )
    env.fails(env.region_arn("partial"), "partial")
    _recorder(env, "stopped", {"allSupported": True}, start=False)
    env.fails(env.region_arn("stopped"), "stopped")
    # Config never set up: the region answers with empty lists.
    env.session("none")
    env.fails(env.region_arn("none"), "none")
