"""Stateful rule groups: 5-tuple rules on connections, default action order against strict
order with its default actions, overrides, and domain lists against resolved names."""

from __future__ import annotations

from tests.perimeter.netfw.builders import (
    dns_query,
    domain_group,
    flow,
    policy,
    rule_group,
    suricata_group,
)
from tests.perimeter.netfw.conftest import Runner, rule_row

SSH_OUT = flow("10.0.0.5", "203.0.113.9", 40001, 22)
SSH_REPLY = flow("203.0.113.9", "10.0.0.5", 22, 40001, flags=18)


def five_tuple(action: str, port: str, sid: int) -> dict[str, object]:
    return {
        "Action": action,
        "Header": {
            "Protocol": "TCP",
            "Source": "$HOME_NET",
            "SourcePort": "ANY",
            "Direction": "FORWARD",
            "Destination": "ANY",
            "DestinationPort": port,
        },
        "RuleOptions": [
            {"Keyword": "sid", "Settings": [str(sid)]},
            {"Keyword": "msg", "Settings": ['"x"']},
        ],
    }


def test_five_tuple_rules_see_both_directions_of_a_connection(run: Runner) -> None:
    group = rule_group(
        "tuples", "STATEFUL", {"RulesSource": {"StatefulRules": [five_tuple("DROP", "22", 7)]}}
    )
    report = run(
        policy([], [group]),
        [group],
        [SSH_OUT, SSH_REPLY, flow("10.0.0.5", "203.0.113.9", 40002, 443)],
    )
    row = rule_row(report, "flows", "tuples#sid-7")
    assert row["dropped"] == 2  # the request and its reply
    assert report.totals["flows"]["passed"] == 1


def test_default_order_pass_beats_drop_whatever_the_group_order(run: Runner) -> None:
    drops = suricata_group("drops", "drop tcp any any -> any 22 (sid:1;)")
    passes = suricata_group("passes", "pass tcp $HOME_NET any -> any 22 (sid:2;)")
    report = run(policy([], [drops, passes]), [drops, passes], [SSH_OUT])
    assert rule_row(report, "flows", "passes#sid-2")["passed"] == 1
    assert rule_row(report, "flows", "drops#sid-1")["matched"] == 0


def test_default_order_drop_beats_alert_and_alert_alone_passes(run: Runner) -> None:
    group = suricata_group(
        "g", "alert tcp any any -> any any (sid:1;)\ndrop tcp any any -> any 22 (sid:2;)"
    )
    report = run(policy([], [group]), [group], [SSH_OUT, flow("10.0.0.5", "1.2.3.4", 4000, 80)])
    assert rule_row(report, "flows", "g#sid-2")["dropped"] == 1
    assert rule_row(report, "flows", "g#sid-1")["alerted"] == 1
    assert report.totals["flows"]["passed"] == 1
    assert {f.generator_id for f in report.findings} == {"netfw.would_drop", "netfw.alert"}


def test_strict_order_first_decisive_rule_by_group_priority(run: Runner) -> None:
    drops = suricata_group("drops", "drop tcp any any -> any 22 (sid:1;)", strict=True)
    passes = suricata_group("passes", "pass tcp any any -> any 22 (sid:2;)", strict=True)
    report = run(policy([], [drops, passes], strict=True), [drops, passes], [SSH_OUT])
    assert rule_row(report, "flows", "drops#sid-1")["dropped"] == 1
    assert rule_row(report, "flows", "passes#sid-2")["matched"] == 0


def test_strict_order_alert_continues_and_default_drop_applies(run: Runner) -> None:
    group = suricata_group(
        "g",
        "alert tcp any any -> any 22 (sid:1;)\npass tcp any any -> any 443 (sid:2;)",
        strict=True,
    )
    report = run(
        policy(
            [], [group], strict=True, stateful_defaults=["aws:drop_established", "aws:alert_strict"]
        ),
        [group],
        [SSH_OUT, flow("10.0.0.5", "1.2.3.4", 4000, 443)],
    )
    assert rule_row(report, "flows", "g#sid-1")["alerted"] == 1
    assert rule_row(report, "flows", "g#sid-2")["passed"] == 1
    assert rule_row(report, "flows", "default:aws:drop_established")["dropped"] == 1
    assert report.totals["flows"]["alerted"] == 1  # alert_strict only where no alert fired


def test_drop_to_alert_override(run: Runner) -> None:
    group = suricata_group("g", "drop tcp any any -> any 22 (sid:1;)")
    document = policy([], [group])
    document["FirewallPolicy"]["StatefulRuleGroupReferences"][0]["Override"] = {
        "Action": "DROP_TO_ALERT"
    }
    report = run(document, [group], [SSH_OUT])
    assert report.totals["flows"]["dropped"] == 0
    assert rule_row(report, "flows", "g#sid-1")["alerted"] == 1


def test_payload_rules_are_not_guessed_on_flows(run: Runner) -> None:
    group = suricata_group(
        "g", 'drop tls $HOME_NET any -> any any (tls.sni; content:"x.example"; sid:1;)'
    )
    report = run(policy([], [group]), [group], [flow("10.0.0.5", "1.2.3.4", 4000, 443)])
    assert report.totals["flows"]["passed"] == 1
    assert rule_row(report, "flows", "g#sid-1")["matched"] == 0


def test_denylist_against_resolved_names(run: Runner) -> None:
    group = domain_group("deny", [".bad.example", "exact.example"], "DENYLIST")
    queries = [
        dns_query("bad.example"),
        dns_query("www.bad.example"),
        dns_query("notbad.example"),
        dns_query("exact.example"),
        dns_query("sub.exact.example"),
        dns_query("gone.bad.example", rcode="NXDOMAIN", answers=[]),
    ]
    report = run(policy([], [group]), [group], queries=queries)
    totals = report.totals["dns"]
    assert totals["tls_dropped"] == 3
    assert totals["tls_passed"] == 2
    dropped = [f for f in report.findings if f.generator_id == "netfw.would_drop"]
    targets = {t["target"] for f in dropped for t in f.evidence["targets"]}
    assert "tls://www.bad.example" in targets
    assert "tls://gone.bad.example" not in targets  # no connection follows NXDOMAIN
    assert "stand in for the TLS SNI" in dropped[0].description


def test_allowlist_drops_other_names(run: Runner) -> None:
    group = domain_group("allow", [".good.example"], "ALLOWLIST")
    report = run(
        policy([], [group]),
        [group],
        queries=[
            dns_query("api.good.example"),
            dns_query("other.example"),
            dns_query("internal.corp", answers=["10.1.2.3"]),
        ],
    )
    totals = report.totals["dns"]
    assert totals["tls_passed"] == 2  # the allowed name, and the internal one (not EXTERNAL_NET)
    assert totals["tls_dropped"] == 1


def test_sni_rule_on_names_and_unknown_destination(run: Runner) -> None:
    group = suricata_group(
        "g",
        "drop tls $HOME_NET any -> 198.51.100.0/24 any "
        '(tls.sni; content:"evil"; startswith; sid:1;)',
    )
    report = run(
        policy([], [group]),
        [group],
        queries=[
            dns_query("evil.example", answers=["198.51.100.4"]),
            dns_query("evil.other", answers=["203.0.113.1"]),
            dns_query("evil.cname", answers=["alias.example."]),  # no address: undetermined
        ],
    )
    totals = report.totals["dns"]
    assert totals["tls_dropped"] == 1
    assert totals["tls_undetermined"] == 1
    assert totals["tls_passed"] == 1
