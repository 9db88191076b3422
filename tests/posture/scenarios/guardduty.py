"""GuardDuty scenarios."""

from __future__ import annotations

from tests.posture.harness import Env, scenario


@scenario("guardduty.enabled")
def detector(env: Env) -> None:
    env.client("guardduty", "main").create_detector(Enable=True)
    env.passes(env.region_arn("main"))
    env.client("guardduty", "suspended").create_detector(Enable=False)
    env.fails(env.region_arn("suspended"), "suspended")
    env.session("none")
    env.fails(env.region_arn("none"), "none")
