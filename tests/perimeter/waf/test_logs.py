"""WAF log records in AWS WAF's format, checked field by field."""

from __future__ import annotations

import io
import json
import multiprocessing
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.perimeter.waf import Request, WafLogger, log_record
from tests.perimeter.waf.builders import (
    ACCOUNT,
    ACL_ARN,
    NS,
    VIS,
    byte_match,
    compile_acl,
    field,
    req,
    rule,
    sqli,
)

TOP_KEYS = {
    "timestamp", "formatVersion", "webaclId", "terminatingRuleId", "terminatingRuleType",
    "action", "terminatingRuleMatchDetails", "httpSourceName", "httpSourceId", "ruleGroupList",
    "rateBasedRuleList", "nonTerminatingMatchingRules", "requestHeadersInserted",
    "responseCodeSent", "httpRequest",
}  # fmt: skip
HTTP_KEYS = {"clientIp", "country", "headers", "uri", "args", "httpVersion", "httpMethod",
             "requestId"}  # fmt: skip
GID = "0000aaaa-1111-2222-3333-444455556666"
GROUP_ARN = f"arn:aws:wafv2:us-east-1:{ACCOUNT}:regional/rulegroup/grp/{GID}"
GROUP = {
    "RuleGroup": {
        "Name": "grp", "Id": GID, "ARN": GROUP_ARN, "Capacity": 100,
        "VisibilityConfig": VIS,
        "Rules": [
            rule("g-count", 0, byte_match("watch", field("UriPath")), "Count"),
            rule("g-block", 1, byte_match("admin", field("UriPath"))),
        ],
    }
}  # fmt: skip


def _acl() -> Any:
    rate = {"RateBasedStatement": {"Limit": 10, "AggregateKeyType": "IP",
                                   "EvaluationWindowSec": 60}}  # fmt: skip
    custom = {"Block": {"CustomResponse": {"ResponseCode": 418}}}
    return compile_acl(
        rule("tag", 0, byte_match("curl", field("SingleHeader", Name="user-agent")), "Count",
             labels=("client:curl",)),
        rule("sqli", 1, sqli(field("QueryString"), "URL_DECODE")),
        rule("teapot", 2, byte_match("/tea", field("UriPath"), "STARTS_WITH"), **{
            "Action": custom}),
        {"Name": "group", "Priority": 3, "OverrideAction": {"None": {}}, "VisibilityConfig": VIS,
         "Statement": {"RuleGroupReferenceStatement": {"ARN": GROUP_ARN}}},
        rule("rate", 4, rate),
        rule("captcha", 5, byte_match("/human", field("UriPath")), "Captcha"),
        resources=(GROUP,),
    )  # fmt: skip


def _record(request: Request, acl: Any = None, **kw: Any) -> dict[str, Any]:
    acl = acl or _acl()
    return log_record(acl, request, acl.evaluate(request), request_id="rid-1", **kw)


def test_allowed_request_record_field_by_field() -> None:
    request = req("/home?a=1&b=2", headers=(("Host", "app"), ("User-Agent", "curl/8"),
                                            ("Authorization", "Bearer s3cret")))  # fmt: skip
    rec = _record(request, timestamp_ms=1_700_000_000_123, http_source_name="MAMORI",
                  http_source_id="127.0.0.1:8443")  # fmt: skip
    assert set(rec) == TOP_KEYS | {"labels"}
    assert rec["timestamp"] == 1_700_000_000_123
    assert rec["formatVersion"] == 1
    assert rec["webaclId"] == ACL_ARN
    assert (rec["terminatingRuleId"], rec["terminatingRuleType"]) == ("Default_Action", "REGULAR")
    assert rec["action"] == "ALLOW"
    assert rec["terminatingRuleMatchDetails"] == []
    assert (rec["httpSourceName"], rec["httpSourceId"]) == ("MAMORI", "127.0.0.1:8443")
    assert rec["nonTerminatingMatchingRules"] == [
        {"ruleId": "tag", "action": "COUNT", "ruleMatchDetails": []}
    ]
    assert rec["ruleGroupList"] == [{
        "ruleGroupId": GROUP_ARN, "terminatingRule": None, "nonTerminatingMatchingRules": [],
        "excludedRules": None,
    }]  # fmt: skip
    assert rec["rateBasedRuleList"] == []
    assert (rec["requestHeadersInserted"], rec["responseCodeSent"]) == (None, None)
    assert rec["labels"] == [{"name": NS + "client:curl"}]
    http = rec["httpRequest"]
    assert set(http) == HTTP_KEYS
    assert http["clientIp"] == "198.51.100.7"
    assert http["country"] == "-"
    assert (http["uri"], http["args"]) == ("/home", "a=1&b=2")
    assert (http["httpMethod"], http["httpVersion"], http["requestId"]) == (
        "GET", "HTTP/1.1", "rid-1")  # fmt: skip
    assert http["headers"] == [
        {"name": "Host", "value": "app"}, {"name": "User-Agent", "value": "curl/8"},
        {"name": "Authorization", "value": "REDACTED"},
    ]  # fmt: skip


def test_blocked_by_a_regular_rule_and_by_a_custom_response() -> None:
    rec = _record(req("/?id=1%27%20or%201%3D1--"))
    assert (rec["action"], rec["terminatingRuleId"], rec["terminatingRuleType"]) == (
        "BLOCK", "sqli", "REGULAR")  # fmt: skip
    assert rec["ruleGroupList"] == []  # evaluation ended before the group
    assert "labels" not in rec  # AWS leaves the field out without labels
    assert _record(req("/tea"))["responseCodeSent"] == 418


def test_rule_group_terminating_and_counted_rules() -> None:
    rec = _record(req("/watch/admin"))
    assert (rec["action"], rec["terminatingRuleId"], rec["terminatingRuleType"]) == (
        "BLOCK", "group", "GROUP")  # fmt: skip
    (group,) = rec["ruleGroupList"]
    assert group["ruleGroupId"] == GROUP_ARN
    assert group["terminatingRule"] == {"ruleId": "g-block", "action": "BLOCK",
                                        "ruleMatchDetails": None}  # fmt: skip
    assert group["nonTerminatingMatchingRules"] == [
        {"action": "COUNT", "ruleId": "g-count", "ruleMatchDetails": []}
    ]
    assert rec["nonTerminatingMatchingRules"] == []


def test_rate_based_block_lists_the_rule() -> None:
    acl = _acl()
    records = [_record(req("/r"), acl) for _ in range(11)]
    assert [r["action"] for r in records].count("BLOCK") == 1
    rec = records[-1]
    assert (rec["terminatingRuleId"], rec["terminatingRuleType"]) == ("rate", "RATE_BASED")
    assert rec["rateBasedRuleList"] == [{
        "rateBasedRuleId": "rate", "rateBasedRuleName": "rate", "limitKey": "IP",
        "maxRateAllowed": 10, "evaluationWindowSec": "60", "limitValue": "198.51.100.7",
    }]  # fmt: skip


def test_captcha_response_and_redaction_options() -> None:
    rec = _record(req("/human"), redact=())
    assert rec["action"] == "CAPTCHA"
    assert rec["captchaResponse"] == {"responseCode": 405, "failureReason": "TOKEN_MISSING"}
    cookie = req("/", headers=(("Cookie", "s=1"), ("X-Api-Key", "k")))
    rec = _record(cookie, redact=("x-api-key",))
    assert rec["httpRequest"]["headers"] == [
        {"name": "Cookie", "value": "s=1"}, {"name": "X-Api-Key", "value": "REDACTED"}]  # fmt: skip


def test_logger_writes_json_lines_to_a_stream() -> None:
    out = io.StringIO()
    logger = WafLogger(out, http_source_id="svc")
    acl = _acl()
    for path in ("/a", "/b?x=1"):
        request = req(path)
        logger.log(acl, request, acl.evaluate(request), request_id=path)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["httpRequest"]["requestId"] for r in lines] == ["/a", "/b?x=1"]
    assert lines[0]["httpSourceId"] == "svc"


def _append(path: str, n: int) -> None:
    logger = WafLogger(path)
    acl = _acl()
    request = req("/x", headers=(("Host", "h"), ("X-Pad", "p" * 3000)))
    verdict = acl.evaluate(request)
    for i in range(n):
        logger.log(acl, request, verdict, request_id=str(i))
    logger.close()


def test_processes_appending_to_one_file_keep_lines_whole(tmp_path: Path) -> None:
    path = str(tmp_path / "waf.log")
    procs = [multiprocessing.get_context("fork").Process(target=_append, args=(path, 200))
             for _ in range(3)]  # fmt: skip
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    lines = Path(path).read_text().splitlines()
    assert len(lines) == 600
    assert all(json.loads(line)["formatVersion"] == 1 for line in lines)


@settings(max_examples=80, deadline=None)
@given(
    uri=st.text(max_size=40),
    headers=st.lists(st.tuples(st.text(max_size=10), st.text(max_size=20)), max_size=4),
    body=st.binary(max_size=64),
    raw=st.binary(max_size=16),
)
def test_any_request_gives_a_record_that_serialises(
    uri: str, headers: list[tuple[str, str]], body: bytes, raw: bytes
) -> None:
    surrogates = raw.decode("utf-8", "surrogateescape")  # undecodable bytes as the runtime has them
    request = Request("GET", "/" + uri + surrogates, (*headers, ("X", surrogates)), body)
    out = io.StringIO()
    acl = _acl()
    WafLogger(out).log(acl, request, acl.evaluate(request), request_id="r")
    assert json.loads(out.getvalue())["formatVersion"] == 1
