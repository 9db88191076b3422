"""The WAF rules: each attack found in realistic surrounding traffic, each benign look-alike (a
marketing spike, a monitor polling one URL, a crawler, a blocked injection) left alone; the
proposed rate-based rule; and the whole path from generated S3 logs through `mamori detect`."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.detect.findings import finding_of
from mamori.detect.generator.waf import generate_waf
from mamori.detect.rules import RULES
from mamori.detect.rules.waf import FLOOD_FLOOR, HEAVY_FLOOR, SCAN_PATHS
from tests.detect.rules_support import ACCOUNT, run

ACL = f"arn:aws:wafv2:us-east-1:{ACCOUNT}:regional/webacl/shop/0a1b"
SHOP = "shop.example.com"
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
FLOOD = "Impact:WebACL/HTTPFlood"
HEAVY = "Impact:WebACL/HTTPFlood.SingleSource"
INJECTION = "InitialAccess:WebACL/InjectionAllowed"
SCAN = "Recon:WebACL/WebScan"
_ids = itertools.count()


def req(t: datetime, ip: str, uri: str = "/", **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "request_time": t,
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "web_acl": "shop",
        "web_acl_id": ACL,
        "action": "ALLOW",
        "terminating_rule_id": "Default_Action",
        "client_ip": ip,
        "country": "US",
        "http_method": "GET",
        "host": SHOP,
        "uri": uri,
        "user_agent": "Mozilla/5.0",
        "labels": [],
        "counted_rules": [],
        "request_id": f"req-{next(_ids)}",
    }
    row.update(kw)
    return row


def routine(minutes: int = 120, per_minute: int = 40) -> list[dict[str, Any]]:
    """Two hours of a shop's traffic: 40 requests a minute from a pool of 60 visitors."""
    return [
        req(T0 + timedelta(minutes=m, seconds=i), f"198.18.0.{(m * 7 + i) % 60 + 1}", "/products")
        for m in range(minutes)
        for i in range(per_minute)
    ]


def later(minutes: float) -> datetime:
    return T0 + timedelta(minutes=120 + minutes)


def test_flood_found_with_its_top_contributors_and_a_rule_to_paste() -> None:
    bots = [f"203.0.113.{i}" for i in range(20)]
    flood = [
        req(later(m) + timedelta(seconds=k % 60), ip, "/search", country="VN", user_agent="bot")
        for m in range(10)
        for ip in bots
        for k in range(50)
    ]
    rows = run(FLOOD, waf=routine() + flood)
    assert [(r["resource_id"], r["actor"]) for r in rows] == [(ACL, SHOP)]
    [row] = rows
    detail = json.loads(row["detail"])
    assert detail["flood_minutes"] == 10 and detail["peak_requests_per_minute"] >= 1000
    assert detail["baseline_requests_per_minute"] == 40
    assert detail["top_source_ips"][0] == "203.0.113.0 (500)"
    assert detail["top_countries"][0].startswith("VN (10000")
    assert detail["top_uris"][0].startswith("/search (10000")
    assert detail["top_user_agents"][0].startswith("bot (")
    finding = finding_of(RULES[FLOOD], row)
    text = finding.remediation.text
    rule = json.loads(text[text.index("{") :])
    statement = rule["Statement"]["RateBasedStatement"]
    assert statement["AggregateKeyType"] == "IP" and statement["EvaluationWindowSec"] == 300
    assert statement["Limit"] >= 100
    match = statement["ScopeDownStatement"]["ByteMatchStatement"]
    assert match["SearchString"] == SHOP


def test_marketing_spike_from_many_new_visitors_is_not_a_flood() -> None:
    countries = ("US", "GB", "DE", "FR", "JP", "BR")
    spike = [
        req(later(m) + timedelta(seconds=i % 60), f"100.64.{m}.{i}", "/sale",
            country=countries[i % 6], referrer="https://mail.example.net/")
        for m in range(10)
        for i in range(FLOOD_FLOOR + 100)
    ]  # fmt: skip
    assert run(FLOOD, waf=routine() + spike) == []


def test_no_flood_is_judged_before_a_baseline_is_learned() -> None:
    bots = [req(T0 + timedelta(seconds=k % 60), f"203.0.113.{k % 5}") for k in range(2000)]
    assert run(FLOOD, waf=bots + routine(minutes=10)) == []


def test_one_client_far_over_the_rest_and_the_monitor_that_is_not() -> None:
    heavy = [req(later(k / 300), "198.51.100.66", "/api/prices") for k in range(HEAVY_FLOOR + 200)]
    # A monitor polling one URL every second: 300 in five minutes, on every window.
    monitor = [req(T0 + timedelta(seconds=s), "198.51.100.250", "/health") for s in range(7800)]
    rows = run(HEAVY, waf=routine(minutes=130) + heavy + monitor)
    assert [(r["resource_id"], r["actor"]) for r in rows] == [(ACL, "198.51.100.66")]
    detail = json.loads(rows[0]["detail"])
    assert detail["busiest_other_client_per_5min"] == 300  # the monitor
    text = finding_of(RULES[HEAVY], rows[0]).remediation.text
    limit = json.loads(text[text.index("{") :])["Statement"]["RateBasedStatement"]["Limit"]
    assert limit == 600  # above the monitor: it would not have been blocked


def test_a_trusted_heavy_client_is_left_out() -> None:
    heavy = [req(later(k / 300), "198.51.100.66", "/api/prices") for k in range(HEAVY_FLOOR + 200)]
    trusted = [{"network": "198.51.100.0/24", "list_name": "partners"}]
    assert run(HEAVY, waf=routine(minutes=10) + heavy, trusted=trusted) == []


def test_injection_allowed_by_a_counting_rule() -> None:
    sqli = "awswaf:managed:aws:sql-database:SQLi_QueryArguments"
    xss = "awswaf:managed:aws:core-rule-set:CrossSiteScripting_BODY"
    counted = ["AWS#AWSManagedRulesSQLiRuleSet/SQLi_QUERYARGUMENTS"]
    attack = [
        req(later(1), "203.0.113.91", args="id=1' OR '1'='1", labels=[sqli], counted_rules=counted),
        req(later(2), "203.0.113.91", "/comment", labels=[xss]),
    ]
    blocked = [req(later(3), "203.0.113.92", labels=[sqli], action="BLOCK")]
    harmless = [
        req(
            later(4), "203.0.113.93", labels=["awswaf:managed:aws:core-rule-set:NoUserAgent_Header"]
        )
    ]
    rows = run(INJECTION, waf=routine(minutes=5) + attack + blocked + harmless)
    assert [(r["actor"], r["event_count"]) for r in rows] == [("203.0.113.91", 2)]
    detail = json.loads(rows[0]["detail"])
    assert detail["counted_rules"] == counted
    assert detail["uris"] == ["/", "/comment"]


def test_scanner_found_and_crawler_and_polling_monitor_left_alone() -> None:
    probes = [
        req(later(i / 6), "203.0.113.77", f"/probe/{i}", action="BLOCK")
        for i in range(SCAN_PATHS + 5)
    ]
    crawler = [req(later(i / 10), "66.249.66.1", f"/products/{i}") for i in range(200)]
    monitor = [
        req(later(i / 6), "198.51.100.250", "/status", response_code=404) for i in range(300)
    ]
    rows = run(SCAN, waf=routine(minutes=5) + probes + crawler + monitor)
    assert [(r["actor"], r["event_count"]) for r in rows] == [("203.0.113.77", SCAN_PATHS + 5)]
    assert json.loads(rows[0]["detail"])["refused_paths"] == SCAN_PATHS + 5


def test_a_scanner_mostly_let_through_is_a_crawler() -> None:
    probes = [
        req(later(i / 6), "203.0.113.77", f"/p/{i}", action="BLOCK" if i % 3 == 0 else "ALLOW")
        for i in range(3 * SCAN_PATHS + 3)
    ]
    assert run(SCAN, waf=probes) == []


def test_generated_logs_through_the_cli(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    generated = generate_waf(logs, start=T0, hours=4, requests_per_minute=50)
    args = ["detect", "--waf", str(logs), "--data-dir", str(tmp_path / "data"), "--no-store"]
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)
    # A finding is a label's when it is of its type and actor and began within 20 minutes of it
    # (the marketing spike and the flood hit the same Host, at different times).
    for label in generated.labels:
        near = [
            f
            for f in findings
            if (f["generator_id"], f["evidence"]["actor"]) == (label.finding_type, label.actor)
            and abs(datetime.fromisoformat(f["first_observed_at"]) - label.first_seen)
            <= timedelta(minutes=20)
        ]
        assert bool(near) != label.benign, (label.scenario, label.actor)
    assert len(findings) == sum(1 for lab in generated.labels if not lab.benign)
    assert f"{generated.records} waf" in result.stderr
    again = CliRunner().invoke(app, [*args, "--format", "json"])
    assert "ingested 0 file(s)" in again.stderr


@pytest.mark.parametrize("host", ['evil"}', "a\\b", None])
def test_the_proposed_rule_is_valid_json_whatever_the_host(host: str | None) -> None:
    detail = {"host": host, "baseline_requests_per_client_per_minute": 2.5}
    row = {"account_id": ACCOUNT, "resource_id": ACL, "actor": "x", "detail": json.dumps(detail)}
    text = finding_of(RULES[FLOOD], row).remediation.text
    rule = json.loads(text[text.index("{") :])
    statement = rule["Statement"]["RateBasedStatement"]
    assert statement["Limit"] == 100
    assert ("ScopeDownStatement" in statement) == bool(host)
    if host:
        assert statement["ScopeDownStatement"]["ByteMatchStatement"]["SearchString"] == host
