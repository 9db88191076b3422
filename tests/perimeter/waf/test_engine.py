"""Rule groups, managed groups, rate-based rules, validation errors, and the properties that
hold on any input: evaluation never raises, validation refuses cleanly, matching is RE2."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.core import InputError
from mamori.perimeter.waf import (
    Request,
    build_web_acl,
    collect_resources,
    evaluate,
    load_web_acl,
    managed_group,
    parse_document,
    validate,
)
from mamori.perimeter.waf.patterns import PatternGroup
from tests.arbitrary import json_documents, read_or_refused
from tests.perimeter.waf.builders import (
    ACCOUNT,
    VIS,
    blocked,
    byte_match,
    compile_acl,
    field,
    regex,
    req,
    rule,
    sqli,
    web_acl_doc,
    xss,
)

RG_ARN = (
    f"arn:aws:wafv2:us-east-1:{ACCOUNT}:regional/rulegroup/app/a1b2c3d4-5678-90ab-cdef-444444444444"
)


def rule_group(*rules: dict[str, Any]) -> dict[str, Any]:
    return {
        "RuleGroup": {
            "Name": "app", "Id": "a1b2c3d4-5678-90ab-cdef-444444444444", "ARN": RG_ARN,
            "Capacity": 100, "Rules": list(rules), "VisibilityConfig": VIS,
        }
    }  # fmt: skip


def group_rule(
    name: str, priority: int, statement: dict[str, Any], override: dict[str, Any] | None = None
) -> dict[str, Any]:
    out = rule(name, priority, statement)
    del out["Action"]
    out["OverrideAction"] = override or {"None": {}}
    return out


GROUP = rule_group(
    rule("no-admin", 0, byte_match("/admin", field("UriPath"), "STARTS_WITH"), labels=("admin",)),
    rule("no-php", 1, byte_match(".php", field("UriPath"), "ENDS_WITH")),
)


def test_rule_group_reference_with_exclusions_and_overrides() -> None:
    ref = {"RuleGroupReferenceStatement": {
        "ARN": RG_ARN,
        "ExcludedRules": [{"Name": "no-php"}],
        "RuleActionOverrides": [{"Name": "no-admin", "ActionToUse": {"Challenge": {}}}],
    }}  # fmt: skip
    acl = compile_acl(group_rule("app", 1, ref), resources=(GROUP,))
    admin = acl.evaluate(req("/admin"))
    assert admin.action == "CHALLENGE" and admin.terminating_rule == "app"
    assert admin.rule_group_rule == "no-admin"
    assert admin.labels == (f"awswaf:{ACCOUNT}:rulegroup:app:admin",)
    php = acl.evaluate(req("/x.php"))
    assert php.action == "ALLOW" and php.non_terminating_matches == ("app:no-php",)
    assert acl.capacity == 100  # a rule group costs its declared capacity


def test_rule_group_override_count_does_not_terminate() -> None:
    ref = {"RuleGroupReferenceStatement": {"ARN": RG_ARN}}
    acl = compile_acl(
        group_rule("app", 1, ref, override={"Count": {}}),
        rule("after", 2, byte_match("/admin", field("UriPath"), "STARTS_WITH"), "Allow"),
        default="Block",
        resources=(GROUP,),
    )
    verdict = acl.evaluate(req("/admin"))
    assert verdict.action == "ALLOW" and verdict.terminating_rule == "after"
    assert verdict.non_terminating_matches == ("app",)


@managed_group("MamoriTest", "TestRuleSet", capacity=50,
               label_namespace="awswaf:managed:mamoritest:test:")  # fmt: skip
def _test_rules() -> list[dict[str, Any]]:
    return [
        rule("BadUA", 0, byte_match("nikto", field("SingleHeader", Name="user-agent"),
                                    "CONTAINS", "LOWERCASE"), labels=("BadUA",)),
        rule("Traversal", 1, byte_match("../", field("UriPath"), "CONTAINS", "URL_DECODE")),
    ]  # fmt: skip


def test_managed_group_reference_with_scope_down_and_exclusions() -> None:
    stmt = {"ManagedRuleGroupStatement": {
        "VendorName": "MamoriTest", "Name": "TestRuleSet",
        "ExcludedRules": [{"Name": "Traversal"}],
        "ScopeDownStatement": byte_match("/api", field("UriPath"), "STARTS_WITH"),
    }}  # fmt: skip
    acl = compile_acl(group_rule("managed", 1, stmt))
    hit = acl.evaluate(req("/api/x", headers={"User-Agent": "Nikto/2.5"}))
    assert hit.action == "BLOCK" and hit.rule_group_rule == "BadUA"
    assert hit.labels == ("awswaf:managed:mamoritest:test:BadUA",)
    outside = acl.evaluate(req("/web/x", headers={"User-Agent": "Nikto/2.5"}))
    assert outside.action == "ALLOW"  # the scope-down keeps the group away
    counted = acl.evaluate(req("/api/%2e%2e/../etc"))
    assert counted.action == "ALLOW" and counted.non_terminating_matches == ("managed:Traversal",)
    assert acl.capacity == 50 + 2


def test_unknown_managed_group_is_an_error_for_evaluation_and_a_warning_for_validation(
    tmp_path: Path,
) -> None:
    stmt = {"ManagedRuleGroupStatement": {"VendorName": "Nobody", "Name": "Nothing"}}
    with pytest.raises(InputError, match="Nobody/Nothing is not available"):
        compile_acl(group_rule("m", 1, stmt))
    path = tmp_path / "acl.json"
    path.write_text(json.dumps(web_acl_doc(group_rule("m", 1, stmt))))
    report = validate(path)
    assert any("Nobody/Nothing" in w for w in report.warnings)


def test_rate_based_rule_counts_per_ip_within_the_window() -> None:
    now = [1000.0]
    stmt = {"RateBasedStatement": {
        "Limit": 10, "EvaluationWindowSec": 60, "AggregateKeyType": "IP",
        "ScopeDownStatement": byte_match("/login", field("UriPath"), "STARTS_WITH"),
    }}  # fmt: skip
    doc = parse_document(web_acl_doc(rule("rate", 1, stmt)), "acl.json")
    acl = build_web_acl(doc, collect_resources([]), clock=lambda: now[0])
    results = [blocked(acl.evaluate(req("/login", ip="192.0.2.1"))) for _ in range(12)]
    assert results == [False] * 10 + [True] * 2
    assert not blocked(acl.evaluate(req("/login", ip="192.0.2.2")))  # another key
    assert not blocked(acl.evaluate(req("/home", ip="192.0.2.1")))  # outside the scope-down
    now[0] += 61
    assert not blocked(acl.evaluate(req("/login", ip="192.0.2.1")))


def test_rate_based_custom_keys_and_capacity() -> None:
    stmt = {"RateBasedStatement": {
        "Limit": 10, "AggregateKeyType": "CUSTOM_KEYS",
        "CustomKeys": [{"Header": {"Name": "x-api-key", "TextTransformations": [
            {"Priority": 0, "Type": "LOWERCASE"}]}}, {"HTTPMethod": {}}],
    }}  # fmt: skip
    acl = compile_acl(rule("rate", 1, stmt))
    assert acl.capacity == 2 + 30 * 2 + 10
    for _ in range(11):
        last = acl.evaluate(req("/", headers={"X-Api-Key": "K1"}))
    assert blocked(last)
    assert not blocked(acl.evaluate(req("/", headers={"X-Api-Key": "K2"})))
    assert not blocked(acl.evaluate(req("/")))  # no key: neither counted nor limited


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["Rules"][0].update(Priority=0) or d["Rules"][1].update(Priority=0),
         "another rule has priority 0"),
        (lambda d: d["Rules"][1].update(Name="a"), "another rule has this name"),
        (lambda d: d["Rules"][0]["Statement"]["ByteMatchStatement"].update(
            PositionalConstraint="SOMEWHERE"), "Rules[0] (rule 'a').Statement.ByteMatchStatement"
                                               ".PositionalConstraint"),
        (lambda d: d["Rules"][0]["Statement"]["ByteMatchStatement"].update(Bogus=1),
         "Extra inputs are not permitted"),
        (lambda d: d["Rules"][0]["Statement"].update(regex("x", field("UriPath"))),
         "exactly one statement type"),
        (lambda d: d["Rules"][0]["Statement"].clear() or d["Rules"][0]["Statement"].update(
            regex("(a)\\1", field("UriPath"))), "not a supported regular expression"),
        (lambda d: d["Rules"][0].update(OverrideAction={"None": {}}), "takes Action"),
        (lambda d: d["Rules"][0]["Statement"].clear() or d["Rules"][0]["Statement"].update(
            {"NotStatement": {"Statement": {"RateBasedStatement": {
                "Limit": 100, "AggregateKeyType": "IP"}}}}), "cannot be nested"),
        (lambda d: d["Rules"][0]["Statement"]["ByteMatchStatement"].update(
            SearchString="not base64!"), "not base64"),
        (lambda d: d["Rules"][0]["Statement"]["ByteMatchStatement"]["TextTransformations"].append(
            {"Priority": 0, "Type": "LOWERCASE"}), "priorities must all be different"),
    ],
)  # fmt: skip
def test_validation_errors_name_the_rule_and_field(mutate, message: str) -> None:
    doc = web_acl_doc(
        rule("a", 0, byte_match("x", field("UriPath"))),
        rule("b", 1, byte_match("y", field("UriPath"))),
    )
    mutate(doc["WebACL"])
    with pytest.raises(InputError) as caught:
        build_web_acl(parse_document(doc, "acl.json"))
    assert message in str(caught.value)
    assert str(caught.value).startswith("acl.json")


def test_load_and_validate_files(tmp_path: Path) -> None:
    acl_path, group_path = tmp_path / "acl.json", tmp_path / "group.json"
    acl_path.write_text(json.dumps(web_acl_doc(
        group_rule("app", 0, {"RuleGroupReferenceStatement": {"ARN": RG_ARN}}),
        rule("sqli", 1, sqli(field("QueryString"), "URL_DECODE")),
    )))  # fmt: skip
    group_path.write_text(json.dumps(GROUP))
    acl = load_web_acl(acl_path, resources=[group_path])
    assert evaluate(acl, req("/admin")).terminating_rule == "app"
    report = validate(acl_path, resources=[group_path])
    assert (report.kind, report.capacity, report.rules) == ("WebACL", 100 + 30, 2)
    group_report = validate(group_path)
    assert (group_report.kind, group_report.capacity) == ("RuleGroup", 2 + 2)
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(web_acl_doc(rule("x", 0, xss(field("Body"))))["WebACL"]))
    assert validate(bare).capacity == 40
    with pytest.raises(InputError, match=r"rule group .* not supplied"):
        load_web_acl(acl_path)


def test_regex_matching_is_re2_and_linear_on_catastrophic_patterns() -> None:
    # The classic catastrophic-backtracking pattern, on the input that makes a backtracking
    # engine take exponential time: RE2 answers in one pass.
    acl = compile_acl(rule("redos", 0, regex(r"^(a+)+$", field("Body"))),
                      rule("redos2", 1, regex(r"(x+x+)+y", field("QueryString"))))  # fmt: skip
    groups = _pattern_groups(acl)
    assert groups and all(isinstance(g, PatternGroup) for g in groups)
    assert all(type(g._set).__module__.startswith("re2") for g in groups)
    body = "a" * 15_000 + "!"  # within the 16 KB body inspection limit
    assert not blocked(acl.evaluate(req("/", "POST", body=body)))
    assert blocked(acl.evaluate(req("/", "POST", body="a" * 15_000)))
    assert not blocked(acl.evaluate(req("/?" + "x" * 20_000)))


def _pattern_groups(acl) -> list[PatternGroup]:
    found = []
    for r in acl.rules:
        for cell in r.match.__closure__ or ():
            if isinstance(cell.cell_contents, PatternGroup):
                found.append(cell.cell_contents)
    return found


def _every_statement_acl():
    every = [
        byte_match("a", field("UriPath"), "CONTAINS", "URL_DECODE", "HTML_ENTITY_DECODE"),
        regex("(?i)b+c", field("QueryString"), "CMD_LINE"),
        sqli(field("AllQueryArguments"), "URL_DECODE", level="HIGH"),
        xss(field("Body"), "JS_DECODE"),
        byte_match("x", {"JsonBody": {"MatchPattern": {"All": {}}, "MatchScope": "ALL"}}),
        byte_match("y", field("Headers", MatchPattern={"All": {}}, MatchScope="ALL",
                              OversizeHandling="CONTINUE"), "CONTAINS", "BASE64_DECODE_EXT"),
        byte_match("z", field("Cookies", MatchPattern={"All": {}}, MatchScope="ALL",
                              OversizeHandling="MATCH"), "CONTAINS", "CSS_DECODE"),
        byte_match("w", field("HeaderOrder", OversizeHandling="CONTINUE")),
        byte_match("v", field("SingleHeader", Name="x"), "EXACTLY", "UTF8_TO_UNICODE"),
    ]  # fmt: skip
    return compile_acl(*(rule(f"r{i}", i, s, "Count") for i, s in enumerate(every)))


EVERY = _every_statement_acl()
text = st.text(max_size=200)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=text,
    uri=text,
    headers=st.lists(st.tuples(text, text), max_size=8),
    body=st.binary(max_size=400),
    ip=text,
)
def test_evaluation_never_raises_on_arbitrary_requests(method, uri, headers, body, ip) -> None:
    verdict = EVERY.evaluate(Request(method, uri, tuple(headers), body, ip))
    assert verdict.action == "ALLOW"  # every rule counts; the default allows


WAF_KEYS = ["WebACL", "Name", "Id", "ARN", "DefaultAction", "Rules", "VisibilityConfig",
            "Statement", "Priority", "Action", "ByteMatchStatement", "Allow", "Block",
            "SearchString", "FieldToMatch", "UriPath", "TextTransformations", "Type",
            "AndStatement", "Statements", "NotStatement",
            "RuleGroupReferenceStatement"]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(json_documents(WAF_KEYS, leaves=20))
def test_validation_refuses_arbitrary_json_cleanly(doc: Any) -> None:
    read_or_refused(validate, doc)
    read_or_refused(load_web_acl, doc)


def test_a_web_acl_nearly_valid_everywhere_still_refused_cleanly() -> None:
    doc = web_acl_doc(rule("a", 0, byte_match("x", field("UriPath"))))
    for key in ("Name", "DefaultAction", "Rules", "VisibilityConfig"):
        broken = json.loads(json.dumps(doc))
        broken["WebACL"][key] = 12
        with pytest.raises(InputError):
            build_web_acl(parse_document(broken, "acl.json"))


def test_evaluation_is_fast_enough_to_be_usable() -> None:
    # Not a timing assertion (bench/waf_engine.py measures): a smoke check that evaluation
    # does not recompile per request.
    start = time.perf_counter()
    for _ in range(200):
        EVERY.evaluate(req("/a?b=c", "POST", body='{"x": "y"}'))
    assert time.perf_counter() - start < 60
