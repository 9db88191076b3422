"""Statements and request components: each matching what it should and nothing else,
through the evasions attackers use (double encoding, case, comments, whitespace, Unicode)."""

from __future__ import annotations

import json

import pytest

from tests.perimeter.waf.builders import (
    ACCOUNT,
    NS,
    blocked,
    byte_match,
    compile_acl,
    field,
    regex,
    req,
    rule,
    sqli,
    tt,
    xss,
)


def one(statement: dict, **kw):
    return compile_acl(rule("r", 1, statement), **kw)


@pytest.mark.parametrize(
    ("constraint", "hits", "misses"),
    [
        ("EXACTLY", ["/admin"], ["/admin/", "/x/admin"]),
        ("STARTS_WITH", ["/admin", "/admin/users"], ["/x/admin"]),
        ("ENDS_WITH", ["/x/admin"], ["/admin/x"]),
        ("CONTAINS", ["/x/admin/y", "/administrator"], ["/adm/in"]),
        ("CONTAINS_WORD", ["/admin", "/x/admin;y", "/a/admin/b"], ["/administrator", "/xadmin"]),
    ],
)
def test_byte_match_positional_constraints(constraint, hits, misses) -> None:
    slash = "/admin" if constraint in ("EXACTLY", "STARTS_WITH") else "admin"
    acl = one(byte_match(slash, field("UriPath"), constraint))
    for uri in hits:
        assert blocked(acl.evaluate(req(uri))), uri
    for uri in misses:
        assert not blocked(acl.evaluate(req(uri))), uri


def test_byte_match_case_and_double_encoding_need_their_transformations() -> None:
    plain = one(byte_match("<script", field("QueryString"), "CONTAINS"))
    decoded = one(
        byte_match("<script", field("QueryString"), "CONTAINS", "URL_DECODE", "URL_DECODE",
                   "LOWERCASE")
    )  # fmt: skip
    evasion = "/?q=%253CScRiPt%253E"
    assert not blocked(plain.evaluate(req(evasion)))
    assert blocked(decoded.evaluate(req(evasion)))


def test_byte_match_with_regex_syntax_is_literal() -> None:
    acl = one(byte_match("a.b*", field("QueryString")))
    assert blocked(acl.evaluate(req("/?a.b*")))
    assert not blocked(acl.evaluate(req("/?axbbb")))


def test_regex_match_and_unicode_evasion() -> None:
    acl = one(regex(r"(?i)<\s*script", field("QueryString"), "URL_DECODE_UNI"))
    assert blocked(acl.evaluate(req("/?x=%uFF1Cscript")))  # full-width '<'
    assert blocked(acl.evaluate(req("/?x=%3C%20SCRIPT")))
    assert not blocked(acl.evaluate(req("/?x=description")))


def test_regex_pattern_set_reference() -> None:
    arn = (
        f"arn:aws:wafv2:us-east-1:{ACCOUNT}:regional/regexpatternset/bad/"
        "a1b2c3d4-5678-90ab-cdef-222222222222"
    )
    doc = {
        "RegexPatternSet": {
            "Name": "bad", "Id": "a1b2c3d4-5678-90ab-cdef-222222222222", "ARN": arn,
            "RegularExpressionList": [{"RegexString": r"^/wp-"}, {"RegexString": r"\.php$"}],
        }
    }  # fmt: skip
    stmt = {
        "RegexPatternSetReferenceStatement": {
            "ARN": arn, "FieldToMatch": {"UriPath": {}}, "TextTransformations": tt("NONE"),
        }
    }  # fmt: skip
    acl = one(stmt, resources=(doc,))
    assert blocked(acl.evaluate(req("/wp-login")))
    assert blocked(acl.evaluate(req("/index.php")))
    assert not blocked(acl.evaluate(req("/index.html")))


@pytest.mark.parametrize(
    "attack",
    [
        "1' OR '1'='1",
        "1 UNION SELECT password FROM users--",
        "1'/**/uNiOn/**/SeLeCt/**/1,2--",
        "admin'--",
    ],
)
def test_sqli_detects_through_transformations(attack: str) -> None:
    from urllib.parse import quote

    acl = one(sqli(field("QueryString"), "URL_DECODE", "REPLACE_COMMENTS", "COMPRESS_WHITE_SPACE"))
    double = one(sqli(field("QueryString"), "URL_DECODE", "URL_DECODE"))
    assert blocked(double.evaluate(req("/?id=" + quote(quote(attack)))))
    assert blocked(acl.evaluate(req("/?id=" + quote(attack))))


@pytest.mark.parametrize(
    "benign",
    ["hello world", "O'Reilly books", "select the best option", "price: 10-20", "1,2,3"],
)
def test_sqli_leaves_benign_text(benign: str) -> None:
    from urllib.parse import quote

    acl = one(sqli(field("QueryString"), "URL_DECODE"))
    assert not blocked(acl.evaluate(req("/?q=" + quote(benign))))


def test_sqli_high_sensitivity_catches_more() -> None:
    from urllib.parse import quote

    probe = "1 AND SLEEP(5)"
    low = one(sqli(field("QueryString"), "URL_DECODE"))
    high = one(sqli(field("QueryString"), "URL_DECODE", level="HIGH"))
    assert blocked(high.evaluate(req("/?id=" + quote(probe))))
    assert high.capacity == low.capacity + 10  # HIGH costs 30 WCU, LOW 20
    assert not blocked(high.evaluate(req("/?q=" + quote("good night's sleep"))))


def test_sqli_high_quote_then_hash_comment() -> None:
    # A string closed and the rest cut by MySQL's '#' comment is caught; a CSS selector or a
    # Markdown heading after a quote is text.
    high = one(sqli(field("Body"), level="HIGH"))
    for attack in ("admin'#", "admin'# and pass='x'", 'x"#\n or 1'):
        assert blocked(high.evaluate(req("/", "POST", body=attack))), attack
    for text in (
        "document.querySelector('#cart').addEventListener('click', go)",
        '{"readme": "## Setup"}',
        "colour: '#ff0000'",
    ):
        assert not blocked(high.evaluate(req("/", "POST", body=text))), text


@pytest.mark.parametrize(
    "attack",
    ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)//",
     "<svg/onload=alert(1)>"],
)  # fmt: skip
def test_xss_in_body_and_entity_evasion(attack: str) -> None:
    acl = one(xss(field("Body"), "HTML_ENTITY_DECODE"))
    assert blocked(acl.evaluate(req("/", "POST", body=attack)))
    escaped = attack.replace("<", "&lt;").replace(">", "&gt;")
    assert blocked(acl.evaluate(req("/", "POST", body=escaped)))


def test_xss_leaves_benign_html_words() -> None:
    acl = one(xss(field("Body"), "HTML_ENTITY_DECODE"))
    assert not blocked(acl.evaluate(req("/", "POST", body="a <b>bold</b> claim & 3 > 2")))


@pytest.mark.parametrize(
    ("op", "size", "body", "hit"),
    [("GT", 5, "123456", True), ("GT", 5, "12345", False), ("EQ", 0, "", True),
     ("LE", 3, "1234", False), ("NE", 3, "12", True), ("LT", 3, "12", True),
     ("GE", 3, "12", False)],
)  # fmt: skip
def test_size_constraint(op: str, size: int, body: str, hit: bool) -> None:
    stmt = {
        "SizeConstraintStatement": {
            "FieldToMatch": {"Body": {}}, "ComparisonOperator": op, "Size": size,
            "TextTransformations": tt("NONE"),
        }
    }  # fmt: skip
    assert blocked(one(stmt).evaluate(req("/", "POST", body=body))) is hit


def test_single_query_argument_and_all_arguments() -> None:
    single = one(byte_match("evil", field("SingleQueryArgument", Name="Q")))
    assert blocked(single.evaluate(req("/?a=1&q=very-evil")))  # names are case-insensitive
    assert not blocked(single.evaluate(req("/?a=evil")))
    every = one(byte_match("evil", field("AllQueryArguments")))
    assert blocked(every.evaluate(req("/?a=1&b=evil")))
    assert not blocked(every.evaluate(req("/?evil=1")))  # names are not values


def test_method_and_single_header() -> None:
    acl = compile_acl(
        rule("m", 1, byte_match("TRACE", field("Method"), "EXACTLY")),
        rule("h", 2, byte_match("sqlmap", field("SingleHeader", Name="User-Agent"), "CONTAINS",
                                "LOWERCASE")),
    )  # fmt: skip
    assert acl.evaluate(req("/", "TRACE")).terminating_rule == "m"
    assert acl.evaluate(req("/", headers={"user-agent": "SQLMap/1.7"})).terminating_rule == "h"
    assert acl.evaluate(req("/", headers={"X": "sqlmap"})).terminating_rule == "Default_Action"


def test_headers_match_pattern_and_scope() -> None:
    values = one(byte_match("jndi", field("Headers", MatchPattern={"ExcludedHeaders": ["Cookie"]},
                 MatchScope="VALUE", OversizeHandling="CONTINUE")))  # fmt: skip
    assert blocked(values.evaluate(req(headers={"X-Api": "${jndi:ldap://x}"})))
    assert not blocked(values.evaluate(req(headers={"Cookie": "${jndi:ldap://x}"})))
    assert not blocked(values.evaluate(req(headers={"jndi": "ok"})))
    keys = one(byte_match("jndi", field("Headers", MatchPattern={"All": {}}, MatchScope="KEY",
               OversizeHandling="CONTINUE")))  # fmt: skip
    assert blocked(keys.evaluate(req(headers={"jndi": "ok"})))


def test_headers_oversize_handling() -> None:
    many = [(f"X-{i}", "v") for i in range(250)]
    for handling, expected in (("MATCH", True), ("NO_MATCH", False)):
        acl = one(byte_match("nothing-here", field("Headers", MatchPattern={"All": {}},
                  MatchScope="ALL", OversizeHandling=handling)))  # fmt: skip
        assert blocked(acl.evaluate(req(headers=many))) is expected


def test_cookies_included_names() -> None:
    acl = one(byte_match("admin", field("Cookies", MatchPattern={"IncludedCookies": ["role"]},
              MatchScope="VALUE", OversizeHandling="CONTINUE")))  # fmt: skip
    assert blocked(acl.evaluate(req(headers={"Cookie": "a=1; role=admin"})))
    assert not blocked(acl.evaluate(req(headers={"Cookie": "a=admin; role=user"})))


def test_body_oversize_handling() -> None:
    big = "x" * (20 * 1024) + "attack"
    for handling, expected in (("CONTINUE", False), ("MATCH", True), ("NO_MATCH", False)):
        acl = one(byte_match("attack", field("Body", OversizeHandling=handling)))
        assert blocked(acl.evaluate(req("/", "POST", body=big))) is expected, handling
    small = one(byte_match("attack", field("Body", OversizeHandling="CONTINUE")))
    assert blocked(small.evaluate(req("/", "POST", body="an attack")))


def test_json_body_scope_paths_and_invalid_fallback() -> None:
    def acl(scope: str, fallback: str | None = None, paths: list[str] | None = None):
        options: dict = {"MatchPattern": {"IncludedPaths": paths} if paths else {"All": {}},
                         "MatchScope": scope}  # fmt: skip
        if fallback:
            options["InvalidFallbackBehavior"] = fallback
        return one(byte_match("evil", {"JsonBody": options}))

    doc = json.dumps({"user": {"name": "evil", "tags": ["a"]}, "evil": 1})
    assert blocked(acl("VALUE").evaluate(req("/", "POST", body=doc)))
    assert blocked(acl("KEY").evaluate(req("/", "POST", body=json.dumps({"evil": 1}))))
    assert not blocked(acl("VALUE").evaluate(req("/", "POST", body=json.dumps({"evil": 1}))))
    assert not blocked(acl("VALUE", paths=["/user/tags"]).evaluate(req("/", "POST", body=doc)))
    assert blocked(acl("VALUE", paths=["/user"]).evaluate(req("/", "POST", body=doc)))
    broken = '{"a": "evil"'
    assert blocked(acl("VALUE", "MATCH").evaluate(req("/", "POST", body="{oops")))
    assert not blocked(acl("VALUE", "NO_MATCH").evaluate(req("/", "POST", body=broken)))
    assert blocked(acl("VALUE", "EVALUATE_AS_STRING").evaluate(req("/", "POST", body=broken)))


def test_header_order_and_fragment() -> None:
    order = one(byte_match("user-agent:host", field("HeaderOrder", OversizeHandling="CONTINUE"),
                           "STARTS_WITH", "LOWERCASE"))  # fmt: skip
    assert blocked(order.evaluate(req(headers=[("User-Agent", "x"), ("Host", "h")])))
    assert not blocked(order.evaluate(req(headers=[("Host", "h"), ("User-Agent", "x")])))


def test_ip_set_with_forwarded_ip_positions() -> None:
    arn = (
        f"arn:aws:wafv2:us-east-1:{ACCOUNT}:regional/ipset/bad/a1b2c3d4-5678-90ab-cdef-333333333333"
    )
    ipset = {
        "IPSet": {
            "Name": "bad", "Id": "a1b2c3d4-5678-90ab-cdef-333333333333", "ARN": arn,
            "IPAddressVersion": "IPV4", "Addresses": ["203.0.113.0/24", "192.0.2.9/32"],
        }
    }  # fmt: skip
    direct = one({"IPSetReferenceStatement": {"ARN": arn}}, resources=(ipset,))
    assert blocked(direct.evaluate(req(ip="203.0.113.77")))
    assert not blocked(direct.evaluate(req(ip="203.0.114.1")))
    assert not blocked(direct.evaluate(req(ip="2001:db8::1")))

    def forwarded(position: str, fallback: str = "NO_MATCH"):
        config = {"HeaderName": "X-Forwarded-For", "FallbackBehavior": fallback,
                  "Position": position}  # fmt: skip
        stmt = {"IPSetReferenceStatement": {"ARN": arn, "IPSetForwardedIPConfig": config}}
        return one(stmt, resources=(ipset,))

    chain_ = {"X-Forwarded-For": "198.51.100.1, 192.0.2.9, 10.0.0.1"}
    assert not blocked(forwarded("FIRST").evaluate(req(headers=chain_)))
    assert not blocked(forwarded("LAST").evaluate(req(headers=chain_)))
    assert blocked(forwarded("ANY").evaluate(req(headers=chain_)))
    assert forwarded("ANY").capacity == 5  # Any position adds 4 WCU
    junk = {"X-Forwarded-For": "not-an-ip"}
    assert blocked(forwarded("FIRST", "MATCH").evaluate(req(headers=junk)))
    assert not blocked(forwarded("FIRST", "NO_MATCH").evaluate(req(headers=junk)))
    assert not blocked(forwarded("FIRST", "MATCH").evaluate(req(headers={})))  # header absent


def test_logical_statements_and_label_match() -> None:
    admin = byte_match("/admin", field("UriPath"), "STARTS_WITH")
    local = byte_match("127.0.0.1", field("SingleHeader", Name="X-Real-IP"), "EXACTLY")
    acl = compile_acl(
        rule("tag", 0, admin, "Count", labels=("zone:admin",)),
        rule("deny", 1, {"AndStatement": {"Statements": [
            {"LabelMatchStatement": {"Scope": "LABEL", "Key": "zone:admin"}},
            {"NotStatement": {"Statement": local}},
        ]}}),
        rule("ns", 2, {"OrStatement": {"Statements": [
            {"LabelMatchStatement": {"Scope": "NAMESPACE", "Key": "zone:"}},
            byte_match("never", field("UriPath")),
        ]}}, "Captcha"),
    )  # fmt: skip
    outside = acl.evaluate(req("/admin/x"))
    assert outside.action == "BLOCK" and outside.terminating_rule == "deny"
    assert outside.labels == (NS + "zone:admin",)
    assert outside.non_terminating_matches == ("tag",)
    inside = acl.evaluate(req("/admin/x", headers={"X-Real-IP": "127.0.0.1"}))
    assert inside.action == "CAPTCHA" and inside.terminating_rule == "ns"
    assert acl.evaluate(req("/home")).action == "ALLOW"


def test_block_custom_response_and_default_block() -> None:
    bodies = {"denied": {"ContentType": "APPLICATION_JSON", "Content": '{"error":"denied"}'}}
    action = {"Block": {"CustomResponse": {"ResponseCode": 429, "CustomResponseBodyKey": "denied",
              "ResponseHeaders": [{"Name": "Retry-After", "Value": "60"}]}}}  # fmt: skip
    acl = compile_acl(
        rule("r", 1, byte_match("x", field("UriPath")), Action=action),
        default="Block",
        CustomResponseBodies=bodies,
    )
    verdict = acl.evaluate(req("/x"))
    assert verdict.response is not None and verdict.response.status == 429
    assert verdict.response.body == '{"error":"denied"}'
    assert verdict.response.response_headers == (("Retry-After", "60"),)
    assert acl.evaluate(req("/y")).terminating_rule == "Default_Action"
    assert acl.evaluate(req("/y")).action == "BLOCK"
