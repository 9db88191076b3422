# ruff: noqa: E501 - user-agent tables keep one per line
"""IP reputation and anonymous-IP groups fed by user-supplied IP sets, and bot control from the
User-Agent and header signals, with AWS's labels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mamori.core import InputError
from mamori.perimeter.waf import load_web_acl, validate
from mamori.perimeter.waf.rulesets import web_acl_document
from mamori.perimeter.waf.rulesets.reputation import ip_list_document, list_arn
from tests.perimeter.waf.managed_support import hit, judge, managed_acl

REPUTATION = "AWSManagedRulesAmazonIpReputationList"
ANONYMOUS = "AWSManagedRulesAnonymousIpList"
BOTS = "AWSManagedRulesBotControlRuleSet"


def test_ip_reputation_lists_block_listed_clients_and_ddos_list_counts() -> None:
    acl = managed_acl(REPUTATION, lists={
        "AWSManagedIPReputationList": ["203.0.113.0/24", "2001:db8:bad::/48"],
        "AWSManagedReconnaissanceList": ["192.0.2.10"],
        "AWSManagedIPDDoSList": ["198.51.100.0/24"],
    })  # fmt: skip
    bad = judge(acl, ip="203.0.113.77")
    assert hit(bad) == "AWSManagedIPReputationList"
    assert bad.labels == ("awswaf:managed:aws:amazon-ip-list:AWSManagedIPReputationList",)
    assert hit(judge(acl, ip="2001:db8:bad::1")) == "AWSManagedIPReputationList"
    assert hit(judge(acl, ip="192.0.2.10")) == "AWSManagedReconnaissanceList"
    ddos = judge(acl, ip="198.51.100.7")
    assert ddos.action == "ALLOW"  # Count, as AWS ships it
    assert ddos.non_terminating_matches == (f"{REPUTATION}:AWSManagedIPDDoSList",)
    assert "awswaf:managed:aws:amazon-ip-list:AWSManagedIPDDoSList" in ddos.labels
    assert judge(acl, ip="192.0.2.11").action == "ALLOW"


def test_anonymous_ip_lists() -> None:
    acl = managed_acl(ANONYMOUS, lists={"AnonymousIPList": ["185.220.101.0/24"],
                                        "HostingProviderIPList": ["3.0.0.0/9"]})  # fmt: skip
    tor = judge(acl, ip="185.220.101.42")
    assert hit(tor) == "AnonymousIPList"
    assert tor.labels == ("awswaf:managed:aws:anonymous-ip-list:AnonymousIPList",)
    assert hit(judge(acl, ip="3.14.15.92")) == "HostingProviderIPList"
    assert judge(acl, ip="81.2.69.160").action == "ALLOW"


def test_ip_lists_come_from_resource_files_and_their_absence_is_named(tmp_path: Path) -> None:
    acl_path = tmp_path / "acl.json"
    acl_path.write_text(json.dumps(web_acl_document([ANONYMOUS])))
    with pytest.raises(InputError, match=list_arn("AnonymousIPList").replace("/", ".")):
        load_web_acl(acl_path)
    report = validate(acl_path)
    assert any(list_arn("HostingProviderIPList") in w for w in report.warnings)
    files = []
    for rule, addresses in (
        ("AnonymousIPList", ["# tor exits", "185.220.101.1"]),
        ("HostingProviderIPList", []),
    ):
        path = tmp_path / f"{rule}.json"
        path.write_text(json.dumps(ip_list_document(rule, addresses)))
        files.append(path)
    acl = load_web_acl(acl_path, resources=files)
    assert hit(judge(acl, ip="185.220.101.1")) == "AnonymousIPList"
    assert judge(acl, ip="185.220.101.2").action == "ALLOW"


@pytest.fixture(scope="module")
def bots() -> Any:
    return managed_acl(BOTS)


BOT_AGENTS = [
    ("curl/8.5.0", "CategoryHttpLibrary", "bot:category:http_library"),
    ("python-requests/2.31.0", "CategoryHttpLibrary", "bot:category:http_library"),
    ("Go-http-client/1.1", "CategoryHttpLibrary", "bot:category:http_library"),
    ("okhttp/4.12.0", "CategoryHttpLibrary", "bot:category:http_library"),
    ("sqlmap/1.8#stable (https://sqlmap.org)", "CategorySecurity", "bot:category:security"),
    ("Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))", "CategorySecurity", "bot:category:security"),
    ("Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000001)", "CategorySecurity", "bot:category:security"),
    ("Mozilla/5.0 (Hydra)", "CategorySecurity", "bot:category:security"),
    ("Scrapy/2.11 (+https://scrapy.org)", "CategoryScrapingFramework", "bot:category:scraping_framework"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36", "SignalAutomatedBrowser", "signal:automated_browser"),
    ("MyInternalTool/0.1", "SignalNonBrowserUserAgent", "signal:non_browser_user_agent"),
]  # fmt: skip


@pytest.mark.parametrize(("agent", "rule", "label"), BOT_AGENTS)
def test_bot_control_blocks_by_category_and_signal(
    bots: Any, agent: str, rule: str, label: str
) -> None:
    verdict = judge(bots, headers={"User-Agent": agent})
    assert hit(verdict) == rule
    assert f"awswaf:managed:aws:bot-control:{label}" in verdict.labels


def test_bot_control_no_user_agent_is_a_non_browser(bots: Any) -> None:
    assert hit(judge(bots, drop=("User-Agent",))) == "SignalNonBrowserUserAgent"


@pytest.mark.parametrize(("agent", "label"), [
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot:category:search_engine"),
    ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "bot:category:social_media"),
    ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.1; +https://openai.com/gptbot)", "bot:category:ai"),
])  # fmt: skip
def test_bots_mamori_cannot_verify_are_labelled_and_counted(
    bots: Any, agent: str, label: str
) -> None:
    verdict = judge(bots, headers={"User-Agent": agent})
    assert verdict.action == "ALLOW"
    assert f"awswaf:managed:aws:bot-control:{label}" in verdict.labels
    assert not any("SignalNonBrowserUserAgent" in m for m in verdict.non_terminating_matches)


@pytest.mark.parametrize("agent", [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
])  # fmt: skip
def test_browsers_pass_bot_control(bots: Any, agent: str) -> None:
    verdict = judge(bots, headers={"User-Agent": agent})
    assert verdict.action == "ALLOW" and verdict.labels == ()


def test_browser_without_accept_headers_gets_a_captcha(bots: Any) -> None:
    verdict = judge(bots, drop=("Accept-Language",))
    assert verdict.action == "CAPTCHA" and hit(verdict) == "SignalBrowserInconsistency"
    assert verdict.labels == ("awswaf:managed:aws:bot-control:signal:browser_inconsistency",)


def test_bot_labels_drive_a_later_rule_when_the_group_only_counts() -> None:
    """The usual AWS pattern: the group in Count, a rule on its labels decides."""
    from mamori.perimeter.waf import build_web_acl, parse_document

    doc = web_acl_document([BOTS])
    doc["WebACL"]["Rules"][0]["OverrideAction"] = {"Count": {}}
    doc["WebACL"]["Rules"].append({
        "Name": "block-http-libraries", "Priority": 1, "Action": {"Block": {}},
        "Statement": {"LabelMatchStatement": {"Scope": "LABEL",
                      "Key": "awswaf:managed:aws:bot-control:bot:category:http_library"}},
        "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "b"},
    })  # fmt: skip
    acl = build_web_acl(parse_document(doc, "acl.json"))
    verdict = judge(acl, headers={"User-Agent": "python-requests/2.31"})
    assert verdict.action == "BLOCK" and verdict.terminating_rule == "block-http-libraries"
    assert judge(acl, drop=("User-Agent",)).action == "ALLOW"  # counted only
