"""The Suricata subset: what parses into what, what is refused as bad syntax, what is skipped
as unsupported (with a warning naming the keyword), and hostile text."""

from __future__ import annotations

import contextlib
import ipaddress
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.perimeter.netfw.addresses import AddressSet
from mamori.perimeter.netfw.model import Action
from mamori.perimeter.netfw.suricata import (
    RuleSyntaxError,
    UnsupportedRuleError,
    Variables,
    parse_rule,
    parse_rules,
)

HOME = AddressSet((ipaddress.ip_network("10.0.0.0/8"),))


def variables() -> Variables:
    found = Variables()
    found.ips["HOME_NET"] = HOME
    found.ips["EXTERNAL_NET"] = HOME.negated()
    found.ports["WEB"] = parse_rule(
        "pass tcp any [80,443] -> any any (sid:1;)", "g", 1, found
    ).source_ports
    return found


def rule(text: str):  # type: ignore[no-untyped-def]
    return parse_rule(text, "g", 1, variables())


def test_header_and_options() -> None:
    parsed = rule(
        'drop tls $HOME_NET any -> $EXTERNAL_NET [443, 8443] (msg:"no \\"evil\\"; here"; '
        'flow:to_server, established; tls.sni; content:"Evil.Example"; nocase; endswith; '
        "sid:42; rev:2;)"
    )
    assert parsed.action is Action.DROP
    assert parsed.protocol == "tls"
    assert parsed.sid == 42
    assert parsed.msg == 'no "evil"; here'
    assert parsed.flow == {"to_server", "established"}
    [content] = parsed.contents
    assert content.buffer == "tls.sni" and content.nocase and content.endswith
    assert content.matches("www.evil.example") and not content.matches("evil.example.org")
    assert parsed.destination_ports.contains(8443) and not parsed.destination_ports.contains(80)
    assert parsed.source.contains(ipaddress.ip_address("10.1.2.3"))
    assert not parsed.destination.contains(ipaddress.ip_address("10.1.2.3"))


def test_negation_lists_ranges_and_variables() -> None:
    parsed = rule("alert tcp [10.0.0.0/8, !10.1.0.0/16] !$WEB <> any [1000:2000, !1500] (sid:3;)")
    assert parsed.bidirectional
    assert parsed.source.contains(ipaddress.ip_address("10.2.0.1"))
    assert not parsed.source.contains(ipaddress.ip_address("10.1.0.1"))
    assert not parsed.source.contains(ipaddress.ip_address("192.0.2.1"))
    assert parsed.source_ports.contains(22) and not parsed.source_ports.contains(443)
    assert parsed.destination_ports.contains(1000) and not parsed.destination_ports.contains(1500)
    assert rule("pass udp any 1024: -> any :53 (sid:4;)").destination_ports.contains(0)


def test_dotprefix_and_hex_content() -> None:
    parsed = rule(
        "drop http any any -> any any "
        '(http.host; dotprefix; content:"|2e|x.example"; endswith; sid:5;)'
    )
    [content] = parsed.contents
    assert content.matches("x.example") and content.matches("a.x.example")
    assert not content.matches("ax.example")


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ('alert tcp any any -> any any (pcre:"/a+/"; sid:1;)', "pcre"),
        ("alert tcp any any -> any any (dsize:>100; sid:1;)", "dsize"),
        ("alert tcp any any -> any any (flowbits:set,x; sid:1;)", "flowbits"),
        ('alert tcp any any -> any any (content:"raw"; sid:1;)', "raw payload"),
        ('alert tls any any -> any any (tls.sni; content:!"x"; sid:1;)', "negated"),
        ("alert tcp any any -> any any (flow:not_established; sid:1;)", "not_established"),
        ("rejectsrc tcp any any -> any any (sid:1;)", "rejectsrc"),
    ],
)
def test_unsupported_keywords_are_skipped_with_a_warning(text: str, keyword: str) -> None:
    with pytest.raises(UnsupportedRuleError, match=keyword):
        rule(text)
    parsed = parse_rules(
        f"# a comment\n\n{text}\npass ip any any -> any any (sid:9;)", "grp", variables()
    )
    assert [r.sid for r in parsed.rules] == [9]
    [warning] = parsed.warnings
    assert "grp" in warning and "line 3" in warning and keyword in warning


@pytest.mark.parametrize(
    "text",
    [
        "drop tcp any any -> any any",  # no options
        "drop tcp any any any any (sid:1;)",  # no direction
        "drop tcp any any <- any any (sid:1;)",
        "drop foo any any -> any any (sid:1;)",
        "drop tcp 10.0.0.0/33 any -> any any (sid:1;)",
        "drop tcp any 70000 -> any any (sid:1;)",
        "drop tcp any 90:80 -> any any (sid:1;)",
        "drop tcp $NOPE any -> any any (sid:1;)",
        "drop tcp [10.0.0.1 any -> any any (sid:1;)",
        'drop tcp any any -> any any (msg:"open; sid:1;)',
        "drop tcp any any -> any any (sid:abc;)",
        "drop tcp any any -> any any (nocase; sid:1;)",
        'drop tls any any -> any any (tls.sni; content:"|zz|"; sid:1;)',
    ],
)
def test_bad_syntax_is_an_error(text: str) -> None:
    with pytest.raises(RuleSyntaxError):
        rule(text)


def test_continuation_lines_join() -> None:
    parsed = parse_rules('drop tcp any any -> any 22 \\\n  (msg:"ssh"; sid:7;)', "g", variables())
    assert parsed.rules[0].sid == 7


def test_hostile_long_and_nested_input_is_bounded() -> None:
    started = time.perf_counter()
    for text in (
        "drop tcp " + "[" * 5000 + "any" + "]" * 5000 + " any -> any any (sid:1;)",
        "drop tcp any any -> any any (" + 'msg:"' + "\\;" * 40000 + '"; sid:1;)',
        "drop tcp any any -> any any (" + "a;" * 20000 + ")",
    ):
        with pytest.raises((RuleSyntaxError, UnsupportedRuleError)):
            rule(text)
    escaped = rule("drop tcp any any -> any any (" + 'msg:"' + "\\;" * 20000 + '"; sid:1;)')
    assert escaped.msg == ";" * 20000
    assert time.perf_counter() - started < 2


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_parses_or_is_refused(text: str) -> None:
    try:
        parse_rules(text, "g", variables())
    except RuleSyntaxError as exc:
        assert "rule group 'g'" in str(exc)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "drop",
                "tcp",
                "any",
                "->",
                "<>",
                "(",
                ")",
                ";",
                ":",
                '"',
                "[",
                "]",
                "!",
                "$HOME_NET",
                "sid:1",
                "content",
                "tls.sni",
                "10.0.0.0/8",
                "80:90",
                ",",
                " ",
                "\\",
                "|",
            ]
        ),
        max_size=40,
    )
)
def test_rule_shaped_tokens_parse_or_are_refused(tokens: list[str]) -> None:
    with contextlib.suppress(RuleSyntaxError):
        parse_rules("".join(tokens), "g", variables())
