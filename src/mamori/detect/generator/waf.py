"""Synthetic AWS WAF logs: a shop's and an API's routine traffic through one web ACL, in AWS's S3
layout, with labelled attacks (an HTTP flood, one client far over the rest, a path scanner,
SQL injection let through by a counting rule) and benign look-alikes (a marketing spike from
many new visitors, a monitoring host polling one URL, a search-engine crawler, an injection the
WAF blocked).

    from mamori.detect.generator.waf import generate_waf
    result = generate_waf(out, start=day, hours=6, requests_per_minute=60)
    result.labels  # what the WAF detections must (and, for benign=True, must not) find

Files are byte-for-byte reproducible for a seed (gzip headers carry no time or name).
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

FILE_MINUTES = 5  # WAF delivers a file per web ACL every five minutes
SHOP, API = "shop.example.com", "api.example.com"
MONITOR_IP = "198.51.100.250"
SCANNER_IP = "203.0.113.77"
INJECTOR_IP = "203.0.113.91"
HEAVY_IP = "198.18.40.40"
CRAWLER_IP = "66.249.66.1"
BLOCKED_INJECTOR_IP = "203.0.113.92"

_COUNTRIES = ("US", "US", "US", "GB", "DE", "FR", "JP", "CA", "BR", "IN", "NL", "AU")
_BOT_COUNTRIES = ("RU", "CN", "VN", "BR")
_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
)
_API_AGENTS = ("okhttp/4.12.0", "python-requests/2.31.0", "axios/1.6.8")
_SHOP_PATHS = ("/", "/products", "/cart", "/search", "/static/app.js", "/static/site.css")
_API_PATHS = ("/api/v1/prices", "/api/v1/orders", "/api/v1/stock", "/api/v1/session")
_REFERRERS = ("https://www.google.com/", "https://shop.example.com/", None, None)
_PROBES = (
    "/.env", "/.git/config", "/wp-login.php", "/wp-admin/", "/phpmyadmin/", "/admin/",
    "/backup.zip", "/config.php", "/server-status", "/actuator/env", "/.aws/credentials",
    "/cgi-bin/test.cgi", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/console/",
    "/xmlrpc.php", "/solr/admin/", "/jenkins/script", "/.DS_Store", "/db.sql", "/debug/pprof",
)  # fmt: skip
_SQLI_ARGS = ("id=1' OR '1'='1", "id=1 UNION SELECT username,password FROM users--", "q=1;--")


@dataclass(frozen=True)
class WafLabel:
    """Ground truth: a finding the WAF detections must raise, or must not (benign=True)."""

    finding_type: str
    web_acl_id: str
    actor: str  # the client IP, or the Host for a flood
    first_seen: datetime
    scenario: str
    benign: bool = False


@dataclass
class WafGenerated:
    labels: list[WafLabel] = field(default_factory=list)
    records: int = 0
    files: int = 0


@dataclass(frozen=True)
class WebAcl:
    account: str
    region: str
    name: str

    @property
    def arn(self) -> str:
        return (
            f"arn:aws:wafv2:{self.region}:{self.account}:regional/webacl/{self.name}/"
            "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"
        )


@dataclass
class _Request:
    client_ip: str
    host: str
    uri: str
    args: str = ""
    method: str = "GET"
    country: str = "US"
    agent: str | None = _AGENTS[0]
    referrer: str | None = None
    action: str = "ALLOW"
    rule: str = "Default_Action"
    rule_type: str = "REGULAR"
    labels: tuple[str, ...] = ()
    counted: tuple[tuple[str, str], ...] = ()  # (rule group, rule) that matched and counted
    response_code: int | None = None


def waf_record(acl: WebAcl, t: datetime, req: _Request, request_id: str) -> dict[str, Any]:
    """One log record in AWS WAF's format (formatVersion 1), as delivered to S3."""
    headers = [{"name": "Host", "value": req.host}]
    if req.agent is not None:
        headers.append({"name": "User-Agent", "value": req.agent})
    if req.referrer is not None:
        headers.append({"name": "Referer", "value": req.referrer})
    groups: dict[str, list[dict[str, Any]]] = {}
    for group, rule in req.counted:
        groups.setdefault(group, []).append(
            {"ruleId": rule, "action": "COUNT", "ruleMatchDetails": []}
        )
    return {
        "timestamp": int(t.timestamp() * 1000),
        "formatVersion": 1,
        "webaclId": acl.arn,
        "terminatingRuleId": req.rule,
        "terminatingRuleType": req.rule_type,
        "action": req.action,
        "terminatingRuleMatchDetails": [],
        "httpSourceName": "ALB",
        "httpSourceId": f"{acl.account}-app/shop-alb/50dc6c495c0c9188",
        "ruleGroupList": [
            {
                "ruleGroupId": group,
                "terminatingRule": None,
                "nonTerminatingMatchingRules": rules,
                "excludedRules": None,
            }
            for group, rules in groups.items()
        ],
        "rateBasedRuleList": [],
        "nonTerminatingMatchingRules": [],
        "requestHeadersInserted": None,
        "responseCodeSent": req.response_code,
        "httpRequest": {
            "clientIp": req.client_ip,
            "country": req.country,
            "headers": headers,
            "uri": req.uri,
            "args": req.args,
            "httpVersion": "HTTP/1.1",
            "httpMethod": req.method,
            "requestId": request_id,
        },
        "labels": [{"name": label} for label in req.labels],
    }


class _Traffic:
    """Requests per minute of every actor, scenario by scenario."""

    def __init__(self, rng: random.Random, start: datetime, minutes: int, rpm: int) -> None:
        self.rng = rng
        self.start = start
        self.minutes = minutes
        self.rpm = rpm
        self.by_minute: list[list[_Request]] = [[] for _ in range(minutes)]
        self.visitors = [self._visitor(i) for i in range(max(50, rpm * 2))]

    def _visitor(self, i: int) -> tuple[str, str, str]:
        ip = f"198.18.{(i // 250) % 200}.{i % 250 + 1}"
        return ip, self.rng.choice(_COUNTRIES), self.rng.choice(_AGENTS)

    def add(self, minute: int, req: _Request) -> None:
        if 0 <= minute < self.minutes:
            self.by_minute[minute].append(req)

    def routine(self) -> None:
        rng = self.rng
        for minute in range(self.minutes):
            # A daily rhythm, and noise, around the mean rate.
            hour = (self.start + timedelta(minutes=minute)).hour
            scale = 0.75 + 0.5 * (8 <= hour < 22)
            for _ in range(int(self.rpm * scale * rng.uniform(0.85, 1.15))):
                ip, country, agent = rng.choice(self.visitors)
                if rng.random() < 0.66:
                    req = _Request(ip, SHOP, rng.choice(_SHOP_PATHS), country=country, agent=agent)
                    req.referrer = rng.choice(_REFERRERS)
                else:
                    req = _Request(
                        ip, API, rng.choice(_API_PATHS), country=country,
                        agent=rng.choice(_API_AGENTS), method=rng.choice(("GET", "POST")),
                    )  # fmt: skip
                if rng.random() < 0.005:  # the odd request a managed rule blocks
                    req.action, req.rule = "BLOCK", "AWS-AWSManagedRulesCommonRuleSet"
                    req.rule_type = "MANAGED_RULE_GROUP"
                    req.labels = ("awswaf:managed:aws:core-rule-set:SizeRestrictions_Body",)
                self.add(minute, req)

    def monitor(self) -> None:
        """A health check every ten seconds, all day: one URL, one client."""
        for minute in range(self.minutes):
            for _ in range(6):
                self.add(minute, _Request(MONITOR_IP, API, "/health", agent="Pingdom.com_bot"))

    def crawler(self, at: int) -> None:
        """A search engine crawling 200 product pages in 20 minutes, all allowed."""
        agent = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
        for i in range(200):
            self.add(at + i // 10, _Request(CRAWLER_IP, SHOP, f"/products/{i}", agent=agent))

    def marketing_spike(self, at: int, minutes: int) -> None:
        """A newsletter: six times the usual traffic, from many new visitors worldwide."""
        rng = self.rng
        for minute in range(at, at + minutes):
            for i in range(self.rpm * 6):
                ip = f"100.{64 + (i % 60)}.{minute % 250}.{i // 60 % 250 + 1}"
                req = _Request(
                    ip, SHOP, rng.choice(("/", "/products", "/sale")),
                    country=rng.choice(_COUNTRIES), agent=rng.choice(_AGENTS),
                    referrer="https://mail.example.net/",
                )  # fmt: skip
                self.add(minute, req)

    def flood(self, at: int, minutes: int) -> None:
        """Forty bots each sending a few requests a second at the shop's search page."""
        rng = self.rng
        bots = [(f"203.0.113.{i + 100}", rng.choice(_BOT_COUNTRIES)) for i in range(40)]
        per_bot = max(150, self.rpm // 4)  # ten times the routine rate in all
        for minute in range(at, at + minutes):
            for ip, country in bots:
                for _ in range(per_bot):
                    self.add(
                        minute,
                        _Request(ip, SHOP, "/search", args=f"q={rng.randrange(10**6)}",
                                 country=country, agent=_AGENTS[0]),
                    )  # fmt: skip

    def heavy_client(self, at: int, minutes: int) -> None:
        """One integration pulling prices four times a second."""
        for minute in range(at, at + minutes):
            for _ in range(250):
                self.add(minute, _Request(HEAVY_IP, API, "/api/v1/prices", agent=_API_AGENTS[1]))

    def scanner(self, at: int) -> None:
        """A path scanner: 80 paths in ten minutes, most blocked by managed rules."""
        rng = self.rng
        paths = [f"{p}{suffix}" for suffix in ("", ".bak", ".old", "~") for p in _PROBES]
        for i, path in enumerate(paths):
            req = _Request(SCANNER_IP, SHOP, path, country="NL", agent="Mozilla/5.0 zgrab/0.x")
            if rng.random() < 0.7:
                req.action, req.rule = "BLOCK", "AWS-AWSManagedRulesKnownBadInputsRuleSet"
                req.rule_type = "MANAGED_RULE_GROUP"
                req.labels = ("awswaf:managed:aws:known-bad-inputs:ExploitablePaths_URIPath",)
            self.add(at + i // 8, req)

    def injection(self, at: int, *, counted: bool) -> None:
        """SQL injection in the query string: let through by a counting rule group, or (the
        look-alike) blocked by it."""
        rng = self.rng
        ip = INJECTOR_IP if counted else BLOCKED_INJECTOR_IP
        for i in range(12):
            req = _Request(ip, SHOP, "/products", args=rng.choice(_SQLI_ARGS), country="RO")
            req.labels = ("awswaf:managed:aws:sql-database:SQLi_QueryArguments",)
            if counted:
                req.counted = (("AWS#AWSManagedRulesSQLiRuleSet", "SQLi_QUERYARGUMENTS"),)
            else:
                req.action, req.rule = "BLOCK", "AWS-AWSManagedRulesSQLiRuleSet"
                req.rule_type = "MANAGED_RULE_GROUP"
            self.add(at + i, req)


def _files(acl: WebAcl, traffic: _Traffic, rng: random.Random) -> Iterator[tuple[str, bytes, int]]:
    """(relative path, gzip bytes, records) of each five-minute delivery file."""
    serial = 0
    for first in range(0, traffic.minutes, FILE_MINUTES):
        lines: list[bytes] = []
        for minute in range(first, min(first + FILE_MINUTES, traffic.minutes)):
            base = traffic.start + timedelta(minutes=minute)
            requests = traffic.by_minute[minute]
            offsets = sorted(rng.random() * 60 for _ in requests)
            for offset, req in zip(offsets, requests, strict=True):
                serial += 1
                t = base + timedelta(seconds=offset)
                lines.append(orjson.dumps(waf_record(acl, t, req, f"req-{serial:010d}")))
        if not lines:
            continue
        t0 = traffic.start + timedelta(minutes=first)
        folder = f"AWSLogs/{acl.account}/WAFLogs/{acl.region}/{acl.name}/{t0:%Y/%m/%d/%H/%M}"
        name = (
            f"{acl.account}_waflogs_{acl.region}_{acl.name}_{t0:%Y%m%dT%H%MZ}_"
            f"{rng.getrandbits(32):08x}.log.gz"
        )
        payload = gzip.compress(b"\n".join(lines) + b"\n", mtime=0)
        yield f"{folder}/{name}", payload, len(lines)


def generate_waf(
    out: Path,
    *,
    start: datetime,
    hours: int = 6,
    requests_per_minute: int = 60,
    account: str = "111111111111",
    region: str = "us-east-1",
    web_acl: str = "shop-web-acl",
    seed: int = 7,
) -> WafGenerated:
    """Write `hours` of WAF logs under `out` with the scenarios placed after the first two
    hours (the flood detection's learning): the marketing spike, the heavy client, the
    scanner, the injections, then the flood near the end."""
    if hours < 3:
        raise ValueError("WAF logs need at least 3 hours: two to learn, one for the attacks")
    rng = random.Random(seed)
    acl = WebAcl(account, region, web_acl)
    minutes = hours * 60
    traffic = _Traffic(rng, start, minutes, requests_per_minute)
    traffic.routine()
    traffic.monitor()
    step = (minutes - 120) // 6
    spike, heavy, scan, inject, crawl, flood = (120 + step * k for k in range(6))
    traffic.marketing_spike(spike, 15)
    traffic.heavy_client(heavy, 15)
    traffic.scanner(scan)
    traffic.injection(inject, counted=True)
    traffic.injection(inject + 15, counted=False)
    traffic.crawler(crawl)
    traffic.flood(flood, min(20, minutes - flood))
    at = lambda minute: start + timedelta(minutes=minute)  # noqa: E731
    result = WafGenerated()
    result.labels = [
        WafLabel("Impact:WebACL/HTTPFlood", acl.arn, SHOP, at(flood), "http-flood"),
        WafLabel("Impact:WebACL/HTTPFlood", acl.arn, SHOP, at(spike), "marketing-spike", True),
        WafLabel("Impact:WebACL/HTTPFlood.SingleSource", acl.arn, HEAVY_IP, at(heavy), "heavy"),
        WafLabel(
            "Impact:WebACL/HTTPFlood.SingleSource", acl.arn, MONITOR_IP, start, "monitor", True
        ),
        WafLabel("Recon:WebACL/WebScan", acl.arn, SCANNER_IP, at(scan), "scanner"),
        WafLabel("Recon:WebACL/WebScan", acl.arn, CRAWLER_IP, at(crawl), "crawler", True),
        WafLabel("Recon:WebACL/WebScan", acl.arn, MONITOR_IP, start, "monitor", True),
        WafLabel("InitialAccess:WebACL/InjectionAllowed", acl.arn, INJECTOR_IP, at(inject), "sqli"),
        WafLabel(
            "InitialAccess:WebACL/InjectionAllowed",
            acl.arn,
            BLOCKED_INJECTOR_IP,
            at(inject + 15),
            "sqli-blocked",
            True,
        ),
    ]
    for relative, payload, records in _files(acl, traffic, rng):
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)
        result.files += 1
        result.records += records
    return result
