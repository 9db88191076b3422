"""WAF, load balancer, API Gateway, CloudFront and Shield collectors on moto, and the
WAF/Shield checks' answers when what they need could not be read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori.aws import AccountSession
from mamori.core import InputError
from mamori.inventory import Snapshot, collect
from mamori.posture import load_checks
from mamori.posture.checks.waf import REQUIRED_ENV, required_rule_groups
from mamori.posture.engine import run_check
from tests.inventory.collecting import (
    ACCOUNT,
    by_name,
    fail,
    marker_code,
    moto_account,
    run,
    run_global,
)
from tests.posture.harness import Env
from tests.posture.scenarios.waf import COMMON, alb, managed, web_acl

CHECKS = load_checks()


@pytest.fixture
def session() -> Iterator[AccountSession]:
    with moto_account() as account:
        yield account


def _env() -> Env:
    return Env()


def _results(snapshot: Snapshot, check_id: str) -> dict[str, tuple[str, list[str]]]:
    out = {}
    for finding in run_check(CHECKS[check_id], snapshot, ACCOUNT):
        assert finding.compliance is not None
        out[finding.resource.id] = (
            finding.compliance.status.value,
            finding.compliance.status_reasons,
        )
    return out


def test_alb_web_acl_unreadable_is_an_error_not_a_pass(session: AccountSession) -> None:
    env = _env()
    guarded = alb(env, "guarded")
    env.client("wafv2").associate_web_acl(
        WebACLArn=web_acl(env, "edge", managed(COMMON, 0)), ResourceArn=guarded
    )
    refused = fail(session, "GetWebACLForResource")
    data, snapshot = run(session, "elbv2")
    assert refused, "the collector never asked for the load balancer's web ACL"
    assert marker_code(data["load_balancers"][0]["WebACL"]) == "AccessDenied"
    assert [(e.operation, e.code) for e in snapshot.errors] == [
        ("wafv2:get_web_acl_for_resource", "AccessDenied")
    ]
    status, reasons = _results(snapshot, "waf.alb_internet_facing_has_web_acl")[guarded]
    assert status == "NOT_AVAILABLE" and "AccessDenied" in reasons[0]


def test_alb_stores_the_associated_web_acl_and_tags(session: AccountSession) -> None:
    env = _env()
    guarded = alb(env, "guarded", tags={"team": "web"})
    acl = web_acl(env, "edge", managed(COMMON, 0))
    env.client("wafv2").associate_web_acl(WebACLArn=acl, ResourceArn=guarded)
    alb(env, "open")
    data, snapshot = run(session, "elbv2")
    lbs = by_name(data["load_balancers"])
    assert lbs["guarded"]["WebACL"] == {"ARN": acl, "Name": "edge", "Id": acl.rsplit("/", 1)[1]}
    assert lbs["guarded"]["_tags"] == {"team": "web"}
    assert lbs["open"]["WebACL"] is None
    assert not snapshot.errors


def test_web_acls_are_read_across_pages(session: AccountSession) -> None:
    env = _env()
    for i in range(103):  # ListWebACLs answers at most 100 a page
        web_acl(env, f"acl-{i:03d}")
    data, snapshot = run(session, "wafv2")
    assert sorted(by_name(data["web_acls"])) == [f"acl-{i:03d}" for i in range(103)]
    assert all(acl["LoggingConfiguration"] is None for acl in data["web_acls"])
    assert not snapshot.errors


def test_cloudfront_web_acls_come_from_us_east_1_whatever_the_regions(
    session: AccountSession,
) -> None:
    env = _env()
    web_acl(env, "cdn", managed(COMMON, 0), scope="CLOUDFRONT")
    snapshot = collect([session], ["eu-west-1"], services=["cloudfront"], workers=1)
    data = snapshot.services(ACCOUNT)["cloudfront"]["global"]
    [acl] = data["web_acls"]
    assert (acl["Name"], acl["Scope"]) == ("cdn", "CLOUDFRONT")
    assert acl["Rules"][0]["Statement"]["ManagedRuleGroupStatement"]["Name"] == COMMON
    assert data["distributions"] == []


def test_unreadable_web_acl_rules_cannot_pass(session: AccountSession) -> None:
    env = _env()
    arn = web_acl(env, "edge", managed(COMMON, 0))
    fail(session, "GetWebACL", code="WAFInternalErrorException", status=500)
    _, snapshot = run(session, "wafv2")
    status, reasons = _results(snapshot, "waf.web_acl_has_required_rule_groups")[arn]
    assert status == "NOT_AVAILABLE" and "WAFInternalErrorException" in reasons[0]


def test_shield_not_subscribed_is_an_answer(session: AccountSession) -> None:
    data, snapshot = run_global(session, "shield")
    assert data == {"subscription": None, "protections": []}
    assert not snapshot.errors


def test_shield_unreadable_makes_named_resources_not_available(session: AccountSession) -> None:
    env = _env()
    named = alb(env, "named", tags={"mamori:shield": "required"})
    alb(env, "unnamed")
    fail(session, "DescribeSubscription")
    snapshot = collect([session], ["us-east-1"], services=["elbv2", "shield", "cloudfront"])
    got = _results(snapshot, "shield.advanced_protection_on_named_resources")
    assert list(got) == [named]  # the untagged one is not evaluated
    assert got[named][0] == "NOT_AVAILABLE"


def test_required_rule_groups_from_the_environment(
    session: AccountSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _env()
    arn = web_acl(env, "edge", managed(COMMON, 0))
    _, snapshot = run(session, "wafv2")
    check = "waf.web_acl_has_required_rule_groups"
    monkeypatch.setenv(REQUIRED_ENV, f" {COMMON} ,AWS:{COMMON}")
    assert _results(snapshot, check)[arn][0] == "PASSED"
    monkeypatch.setenv(REQUIRED_ENV, f"{COMMON},AWSManagedRulesSQLiRuleSet,F5:Bots")
    status, reasons = _results(snapshot, check)[arn]
    assert status == "FAILED"
    assert reasons == ["missing AWSManagedRulesSQLiRuleSet, F5:Bots"]
    monkeypatch.setenv(REQUIRED_ENV, "Common Rule Set")
    status, reasons = _results(snapshot, check)[arn]
    assert status == "NOT_AVAILABLE" and REQUIRED_ENV in reasons[0]


@given(st.text(max_size=60))
def test_any_policy_text_is_read_or_refused_by_name(text: str) -> None:
    environ: dict[str, Any] = {REQUIRED_ENV: text}
    try:
        groups = required_rule_groups(environ)
    except InputError as exc:
        assert REQUIRED_ENV in str(exc)
        return
    assert groups and all(vendor and name for vendor, name in groups)


def test_shield_cannot_vouch_for_a_network_load_balancer(session: AccountSession) -> None:
    env = _env()
    subnets = [s["SubnetId"] for s in env.client("ec2").describe_subnets()["Subnets"]][:2]
    nlb = env.client("elbv2").create_load_balancer(
        Name="nlb",
        Subnets=subnets,
        Type="network",
        Tags=[{"Key": "mamori:shield", "Value": "required"}],
    )["LoadBalancers"][0]["LoadBalancerArn"]
    env.client("shield").create_subscription()
    snapshot = collect([session], ["us-east-1"], services=["elbv2", "shield", "cloudfront"])
    status, reasons = _results(snapshot, "shield.advanced_protection_on_named_resources")[nlb]
    assert status == "NOT_AVAILABLE" and "network load balancer" in reasons[0]


def test_findings_carry_the_type_of_the_list_they_came_from(session: AccountSession) -> None:
    env = _env()
    env.client("shield").create_subscription()
    alb(env, "named", tags={"mamori:shield": "required"})
    snapshot = collect([session], ["us-east-1"], services=["elbv2", "shield", "cloudfront"])
    spec = CHECKS["shield.advanced_protection_on_named_resources"]
    assert spec.requires == ("elbv2", "cloudfront", "shield")
    types = {f.resource.type for f in run_check(spec, snapshot, ACCOUNT)}
    assert types == {"AwsElbv2LoadBalancer"}
    assert spec.list_types == {"cloudfront:distributions": "AwsCloudFrontDistribution"}
