"""Security Hub scenarios."""

from __future__ import annotations

from tests.posture.harness import Env, scenario


@scenario("securityhub.enabled")
def hub(env: Env) -> None:
    env.client("securityhub", "main").enable_security_hub(EnableDefaultStandards=False)
    env.passes(env.region_arn("main"))
    env.session("other")
    env.fails(env.region_arn("other"), "other")
