"""AWS WAF log rules: HTTP floods against a resource's learned request rate (Shield's job), a
single client far over the rest, SQL injection and XSS that reached the application because a
managed rule only counted, and web scanners.

The flood baseline is learned from the logs of the run itself: for each web ACL and Host, the
median requests per minute (and per client per minute) over the minutes with traffic in the 24
hours before, so that a flood lasting less than half of that window does not raise its own bar.
Spark has no median over a window frame, so the median is a self-join over the candidate
minutes (those past an absolute floor), which are few.

The floods' and heavy clients' findings propose a rate-based rule in their remediation: the
`RateBasedStatement` JSON (limit, aggregate key, scope-down on the Host) to paste into the web ACL.
"""

# ruff: noqa: S608 - rule SQL is assembled from constants written here, never from user input

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from mamori.detect.rules.base import Rule, distinct_list, finding_sql, not_trusted, register

# A minute is a flood candidate from this many requests to one Host of one web ACL...
FLOOD_FLOOR = 300
# ...and a flood when it is this many times the Host's median minute, with each client sending
# this many times the usual requests per client per minute (a marketing spike brings many more
# clients at the usual rate each; a flood, fewer clients each sending far more).
FLOOD_FACTOR = 5
FLOOD_CLIENT_FACTOR = 3
# Minutes with traffic in the day before that a baseline needs before it judges.
FLOOD_HISTORY = 30
# A client is far over the rest with this many requests to a Host in five minutes (AWS rate-
# based rules count over 60 to 600 s; 300 s is the default) and this many times the median
# client of that Host and window.
HEAVY_FLOOR = 1000
HEAVY_FACTOR = 20
# A scanner: this many distinct paths refused (blocked, or a 403/404 custom response) in an
# hour, at least half of its requests refused.
SCAN_PATHS = 25
TOP = 5

_ACL_KEYS = "account_id, region, web_acl_id, host_key"
_REFUSED = "(w.action = 'BLOCK' OR coalesce(w.response_code IN (403, 404), false))"
_EVIDENCE = "coalesce(w.request_id, w.client_ip || '@' || CAST(w.request_time AS VARCHAR))"
# Labels of the managed rules that detect injection and remote code execution payloads.
_INJECTION_LABELS = (
    "awswaf:managed:aws:sql-database:"
    "|awswaf:managed:aws:core-rule-set:crosssitescripting"
    "|awswaf:managed:aws:known-bad-inputs:(log4jrce|javadeserializationrce)"
)
# Contributor dimensions of a flood: detail key -> the record's value.
_CONTRIBUTORS = {
    "top_source_ips": "w.client_ip",
    "top_countries": "w.country",
    "top_uris": "w.uri",
    "top_user_agents": "w.user_agent",
    "top_referrers": "w.referrer",
}


def _waf_records(window_us: int) -> str:
    """Every WAF record with its window start and its Host as a key ('' for none)."""
    return (
        f"SELECT w.*, coalesce(w.host, '') AS host_key, time_floor(w.request_time, {window_us})"
        " AS win FROM waf w WHERE w.web_acl_id IS NOT NULL"
    )


def _top_ctes(source: str, keys: str) -> str:
    """One CTE per contributor dimension: the TOP values of `source`'s records (`w`) per group
    of `keys`, as 'value (requests)' texts, the most requests first."""
    ctes = []
    for name, expr in _CONTRIBUTORS.items():
        counted = (
            f"SELECT {keys}, coalesce({expr}, '-') AS v, count(*) AS c FROM {source} w"
            f" GROUP BY {keys}, coalesce({expr}, '-')"
        )
        ranked = (
            f"SELECT *, row_number() OVER (PARTITION BY {keys} ORDER BY c DESC, v ASC) AS r"
            f" FROM ({counted}) x"
        )
        ctes.append(
            f"{name}_ AS (SELECT {keys}, array_agg(v || ' (' || CAST(c AS VARCHAR) || ')'"
            f" ORDER BY r ASC NULLS LAST) AS {name} FROM ({ranked}) y WHERE r <= {TOP}"
            f" GROUP BY {keys})"
        )
    return ", ".join(ctes)


def waf_matched(source: str, *, actor: str, extra: Mapping[str, str] | None = None) -> str:
    """Matched-records SELECT over WAF records `w` of `source`, with the standard columns."""
    cols = "".join(f", {expr} AS {name}" for name, expr in (extra or {}).items())
    return (
        "SELECT w.account_id AS account_id, w.region AS region, w.web_acl_id AS resource_id,"
        f" {actor} AS actor, w.request_time AS ts, {_EVIDENCE} AS evidence_id,"
        f" w.client_ip AS client_ip, w.host AS host, w.uri AS uri, w.user_agent AS user_agent,"
        f" w.country AS country{cols}\nFROM {source}"
    )


def waf_rule(finding_type: str, *, sql: str, **meta: Any) -> Rule:
    return register(
        Rule(
            finding_type=finding_type,
            data_source="waf",
            sql=sql,
            resource_type="AwsWafv2WebAcl",
            **meta,
        )
    )


def rate_based_rule(name: str, limit: int, host: str | None) -> dict[str, Any]:
    """A wafv2 rule (as `get-web-acl` shows one) blocking each IP past `limit` requests in five
    minutes, scoped down to the Host when there is one."""
    statement: dict[str, Any] = {
        "Limit": limit,
        "EvaluationWindowSec": 300,
        "AggregateKeyType": "IP",
    }
    if host:
        statement["ScopeDownStatement"] = {
            "ByteMatchStatement": {
                "SearchString": host,
                "FieldToMatch": {"SingleHeader": {"Name": "host"}},
                "TextTransformations": [{"Priority": 0, "Type": "LOWERCASE"}],
                "PositionalConstraint": "EXACTLY",
            }
        }
    return {
        "Name": name,
        "Priority": 0,
        "Statement": {"RateBasedStatement": statement},
        "Action": {"Block": {}},
        "VisibilityConfig": {
            "SampledRequestsEnabled": True,
            "CloudWatchMetricsEnabled": True,
            "MetricName": name,
        },
    }


def _limit(per_five_minutes: object) -> int | None:
    """A rate limit above `per_five_minutes` requests, rounded up to a hundred (AWS's minimum
    is 10; 100 leaves room for clients behind one NAT)."""
    if not isinstance(per_five_minutes, int | float) or not 0 <= per_five_minutes < 1e12:
        return None  # NaN and infinities fail the comparison too
    return max(100, math.ceil(per_five_minutes / 100.0) * 100)


def _proposal(rule: dict[str, Any]) -> str:
    return "Proposed rate-based rule (test it with Count first, then Block): " + json.dumps(
        rule, separators=(",", ":")
    )


def _flood_remedy(detail: Any) -> str | None:
    if not isinstance(detail, dict):
        return None
    # Five times the usual rate of one client, over the five-minute window the rule counts.
    per_client = detail.get("baseline_requests_per_client_per_minute")
    limit = _limit(per_client * 5 * 5) if isinstance(per_client, int | float) else None
    if limit is None:
        return None
    host = detail.get("host") if isinstance(detail.get("host"), str) else None
    return _proposal(rate_based_rule("mamori-http-flood", limit, host or None))


def _heavy_remedy(detail: Any) -> str | None:
    if not isinstance(detail, dict):
        return None
    # Twice the busiest client below the threshold: none of them would have been blocked.
    limit = _limit(2 * (detail.get("busiest_other_client_per_5min") or 0))
    hosts = detail.get("hosts")
    host = hosts[0] if isinstance(hosts, list) and len(hosts) == 1 else None
    if limit is None:
        return None
    return _proposal(rate_based_rule("mamori-rate-limit-ip", limit, host))


# ---------------------------------------------------------------------------------------------
# HTTP flood against a resource


def _flood_sql() -> str:
    hour = "time_floor(wr.win, 3600000000)"
    keys = f"{_ACL_KEYS}, hour"
    ctes = (
        f"wr AS ({_waf_records(60_000_000)}),"
        f" pm AS (SELECT {_ACL_KEYS}, win, count(*) AS n, count(DISTINCT client_ip) AS clients"
        f" FROM wr GROUP BY {_ACL_KEYS}, win),"
        f" cand AS (SELECT * FROM pm WHERE n >= {FLOOD_FLOOR}),"
        " base AS (SELECT c.account_id, c.region, c.web_acl_id, c.host_key, c.win, c.n,"
        " c.clients, median(p.n) AS base_n, median(p.n / greatest(p.clients, 1)) AS base_pc,"
        " count(*) AS history FROM cand c JOIN pm p ON p.account_id = c.account_id"
        " AND p.region = c.region AND p.web_acl_id = c.web_acl_id AND p.host_key = c.host_key"
        " AND p.win >= c.win - INTERVAL 1440 MINUTE AND p.win < c.win"
        " GROUP BY c.account_id, c.region, c.web_acl_id, c.host_key, c.win, c.n, c.clients),"
        f" hot AS (SELECT * FROM base WHERE history >= {FLOOD_HISTORY}"
        f" AND n >= {FLOOD_FACTOR} * base_n"
        f" AND n / greatest(clients, 1) >= {FLOOD_CLIENT_FACTOR} * base_pc),"
        f" hits AS (SELECT wr.*, hot.n, hot.base_n, hot.base_pc, {hour} AS hour"
        f" FROM wr JOIN hot USING ({_ACL_KEYS}, win)),"
        f" {_top_ctes('hits', keys)}"
    )
    joins = " ".join(f"JOIN {name}_ USING ({keys})" for name in _CONTRIBUTORS)
    extra = {
        "minute": "w.win",
        "n": "w.n",
        "base_n": "w.base_n",
        "base_pc": "w.base_pc",
        "hour": "w.hour",
        **{name: f"{name}_.{name}" for name in _CONTRIBUTORS},
    }
    matched = waf_matched(f"hits w {joins}", actor="w.host_key", extra=extra)
    detail = {
        "host": "min(host)",
        "flood_minutes": "count(DISTINCT minute)",
        "peak_requests_per_minute": "max(n)",
        "baseline_requests_per_minute": "max(base_n)",
        "baseline_requests_per_client_per_minute": "max(base_pc)",
        "distinct_clients": "count(DISTINCT client_ip)",
        **{name: f"any_value({name})" for name in _CONTRIBUTORS},
    }
    return finding_sql(matched, detail, ctes=ctes, group=["hour"])


waf_rule(
    "Impact:WebACL/HTTPFlood",
    sql=_flood_sql(),
    remediate=_flood_remedy,
    severity=8.0,
    tactic="TA0040 Impact",
    technique_id="T1499.002",
    technique="Endpoint Denial of Service: Service Exhaustion Flood",
    title="HTTP flood against a web application",
    description=(
        f"Requests per minute to a Host behind the web ACL rose to at least {FLOOD_FACTOR} times"
        " its median minute of the day before (and past"
        f" {FLOOD_FLOOR}), with each client sending at least {FLOOD_CLIENT_FACTOR} times the"
        " usual requests per client: an application-layer flood, not a crowd of visitors. The"
        " detail lists the top source IPs, countries, URIs, user agents and referrers."
    ),
    remediation=(
        "Confirm with the application's owner that the surge is not expected; block the top"
        " sources (an IP set), add a rate-based rule (below) and, for CloudFront, consider"
        " Shield Advanced's automatic application-layer mitigation."
    ),
)


# ---------------------------------------------------------------------------------------------
# One client far over the rest


def _heavy_sql() -> str:
    keys = f"{_ACL_KEYS}, win"
    ctes = (
        f"wr AS ({_waf_records(300_000_000)} AND w.client_ip IS NOT NULL),"
        f" pc AS (SELECT {keys}, client_ip, count(*) AS n FROM wr GROUP BY {keys}, client_ip),"
        f" ws AS (SELECT {keys}, median(n) AS med,"
        f" max(CASE WHEN n < {HEAVY_FLOOR} THEN n END) AS others FROM pc GROUP BY {keys}),"
        f" heavy AS (SELECT pc.*, ws.med, ws.others FROM pc JOIN ws USING ({keys})"
        f" WHERE pc.n >= {HEAVY_FLOOR} AND pc.n >= {HEAVY_FACTOR} * ws.med),"
        f" hits AS (SELECT wr.*, heavy.n, heavy.med, heavy.others FROM wr"
        f" JOIN heavy USING ({keys}, client_ip) WHERE {not_trusted('wr.client_ip')})"
    )
    matched = waf_matched(
        "hits w",
        actor="w.client_ip",
        extra={"n": "w.n", "med": "w.med", "others": "w.others", "minute": "w.win"},
    )
    detail = {
        "hosts": distinct_list("host", 5),
        "peak_requests_per_5min": "max(n)",
        "median_client_per_5min": "max(med)",
        "busiest_other_client_per_5min": "max(others)",
        "windows": "count(DISTINCT minute)",
        "uris": distinct_list("uri", 5),
        "user_agents": distinct_list("user_agent", 3),
        "countries": distinct_list("country", 3),
    }
    return finding_sql(matched, detail, ctes=ctes)


waf_rule(
    "Impact:WebACL/HTTPFlood.SingleSource",
    sql=_heavy_sql(),
    remediate=_heavy_remedy,
    severity=5.0,
    tactic="TA0040 Impact",
    technique_id="T1499.002",
    technique="Endpoint Denial of Service: Service Exhaustion Flood",
    title="One client sent far more requests than all others",
    description=(
        f"A client sent at least {HEAVY_FLOOR} requests to a Host in five minutes, at least"
        f" {HEAVY_FACTOR} times the median client of that Host and window: a scraper, a"
        " runaway integration or a single-source flood, and the case a rate-based rule is for."
        " Trusted IPs are left out."
    ),
    remediation=(
        "Find out who the client is (an integration partner, a crawler, an attacker); block it or"
        " add a rate-based rule (below), whose limit is above every other client of the window."
    ),
)


# ---------------------------------------------------------------------------------------------
# Injection let through by a rule that only counted

_COUNTED_MATCHED = waf_matched(
    "waf w",
    actor="w.client_ip",
    extra={
        "labels_text": "array_to_string(w.labels, ' ')",
        "counted": "nullif(array_to_string(w.counted_rules, ' '), '')",
    },
) + (
    " WHERE w.action = 'ALLOW' AND w.web_acl_id IS NOT NULL"
    f" AND regexp_matches(lower(array_to_string(w.labels, ' ')), '{_INJECTION_LABELS}')"
)

waf_rule(
    "InitialAccess:WebACL/InjectionAllowed",
    sql=finding_sql(
        _COUNTED_MATCHED,
        {
            "labels": distinct_list("labels_text", 5),
            "counted_rules": distinct_list("counted", 5),
            "hosts": distinct_list("host", 5),
            "uris": distinct_list("uri", 10),
            "user_agents": distinct_list("user_agent", 3),
        },
    ),
    severity=8.0,
    tactic="TA0001 Initial Access",
    technique_id="T1190",
    technique="Exploit Public-Facing Application",
    title="SQL injection or XSS reached the application: the WAF rule only counted",
    description=(
        "Requests a managed rule labelled as SQL injection, cross-site scripting, Log4Shell or"
        " Java deserialisation were allowed through because the rule (or its rule group) was set"
        " to Count: the payloads reached the application."
    ),
    remediation=(
        "Check the application's logs for these requests' effect; switch the rule group's"
        " override from Count to its own actions (or Block) once its false positives are"
        " handled with scope-down statements, and block the client."
    ),
)


# ---------------------------------------------------------------------------------------------
# Web scanners


def _scan_sql() -> str:
    matched = waf_matched(
        "waf w",
        actor="w.client_ip",
        extra={
            "refused": _REFUSED,
            "refused_uri": f"CASE WHEN {_REFUSED} THEN w.uri END",
            "hour": "time_floor(w.request_time, 3600000000)",
        },
    ) + (
        " WHERE w.web_acl_id IS NOT NULL AND w.client_ip IS NOT NULL"
        f" AND {not_trusted('w.client_ip')}"
    )
    having = (
        f"count(DISTINCT refused_uri) >= {SCAN_PATHS}"
        " AND sum(CASE WHEN refused THEN 1 ELSE 0 END) * 2 >= count(*)"
    )
    detail = {
        "refused_paths": "count(DISTINCT refused_uri)",
        "refused_requests": "sum(CASE WHEN refused THEN 1 ELSE 0 END)",
        "sample_paths": distinct_list("refused_uri", 10),
        "hosts": distinct_list("host", 5),
        "user_agents": distinct_list("user_agent", 3),
        "countries": distinct_list("country", 3),
    }
    return finding_sql(matched, detail, having=having, group=["hour"], prefilter=True)


waf_rule(
    "Recon:WebACL/WebScan",
    sql=_scan_sql(),
    severity=5.0,
    tactic="TA0043 Reconnaissance",
    technique_id="T1595.003",
    technique="Active Scanning: Wordlist Scanning",
    title="A client probed many paths that were refused",
    description=(
        f"A client requested at least {SCAN_PATHS} distinct paths in an hour that the web ACL"
        " blocked or answered 403/404 (custom responses), at least half of its requests"
        " refused: a path or vulnerability scanner. A crawler's requests are mostly allowed;"
        " a monitor polls few paths. Trusted IPs are left out."
    ),
    remediation=(
        "Block the client (an IP set rule) or add a rate-based rule on refused requests; check"
        " that none of the probed paths answered successfully in the application's logs."
    ),
)
