"""The engine's own WAF log records, read back by `mamori detect`'s WAF reader: what the
middleware and proxy write must ingest like AWS's logs (account, web ACL, action, rules, labels,
request fields)."""

from __future__ import annotations

import io

from mamori.detect.readers.waf import read_waf
from mamori.perimeter.waf import WafLogger
from tests.perimeter.waf.builders import (
    ACCOUNT,
    ACL_ARN,
    NS,
    byte_match,
    compile_acl,
    field,
    req,
    rule,
    sqli,
)


def test_engine_records_ingest_as_aws_records() -> None:
    acl = compile_acl(
        rule("tag", 0, byte_match("curl", field("SingleHeader", Name="user-agent")), "Count",
             labels=("client:curl",)),
        rule("sqli", 1, sqli(field("QueryString"), "URL_DECODE")),
    )  # fmt: skip
    out = io.StringIO()
    logger = WafLogger(out)
    requests = [
        req("/home?q=shoes", headers=(("Host", "shop.example"), ("User-Agent", "curl/8.5"))),
        req("/item?id=1%27%20or%201%3D1--", headers=(("Host", "shop.example"),)),
    ]
    for n, request in enumerate(requests):
        logger.log(acl, request, acl.evaluate(request), request_id=f"r{n}")
    (table,) = read_waf(out.getvalue().encode(), "waf.log")
    rows = table.to_pylist()
    assert [r["action"] for r in rows] == ["ALLOW", "BLOCK"]
    assert [r["terminating_rule_id"] for r in rows] == ["Default_Action", "sqli"]
    assert {r["account_id"] for r in rows} == {ACCOUNT}  # from the web ACL's ARN
    assert {r["region"] for r in rows} == {"us-east-1"}
    assert rows[0]["host"] == "shop.example" and rows[0]["user_agent"] == "curl/8.5"
    assert (rows[0]["uri"], rows[0]["args"]) == ("/home", "q=shoes")
    assert rows[1]["client_ip"] == "198.51.100.7" and rows[1]["http_method"] == "GET"
    assert rows[0]["labels"] == [NS + "client:curl"]
    assert rows[0]["counted_rules"] == ["tag"]
    assert rows[0]["web_acl_id"] == ACL_ARN and rows[0]["web_acl"] == "test-acl"
