"""Shield Advanced scenarios: resources tagged mamori:shield=required."""

from __future__ import annotations

from tests.posture.harness import Env, scenario
from tests.posture.scenarios.waf import alb, distribution

REQUIRED = {"mamori:shield": "required"}


@scenario("shield.advanced_protection_on_named_resources")
def named_resources(env: Env) -> None:
    shield = env.client("shield")
    shield.create_subscription()
    protected = alb(env, "protected", tags=REQUIRED)
    shield.create_protection(Name="protected", ResourceArn=protected)
    env.passes(protected)
    env.fails(alb(env, "forgotten", tags=REQUIRED))
    cdn = distribution(env, "cdn", tags={"mamori:shield": "Required"})
    shield.create_protection(Name="cdn", ResourceArn=cdn)
    env.passes(cdn)
    env.fails(distribution(env, "cdn-forgotten", tags=REQUIRED))
    alb(env, "untagged")  # the policy does not name it: not evaluated
    # Tagged in an account that never subscribed.
    env.fails(alb(env, "unsubscribed", label="member", tags=REQUIRED), "member")
