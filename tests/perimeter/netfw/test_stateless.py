"""Stateless rule groups: priority order across and within groups, the standard actions, the
default action, and TCP flags as far as flow logs report them."""

from __future__ import annotations

from tests.perimeter.netfw.builders import (
    ACCOUNT,
    flow,
    policy,
    stateless_group,
    stateless_rule,
    suricata_group,
)
from tests.perimeter.netfw.conftest import Runner, rule_row

WEB = [{"FromPort": 443, "ToPort": 443}]


def test_first_matching_rule_by_priority_decides(run: Runner) -> None:
    # Written out of order: priority, not position, decides.
    group = stateless_group(
        "edge",
        [
            stateless_rule(20, ["aws:drop"], Protocols=[6]),
            stateless_rule(10, ["aws:pass"], DestinationPorts=WEB, Protocols=[6]),
        ],
    )
    report = run(
        policy([group], default="aws:drop"),
        [group],
        [flow("10.0.0.5", "203.0.113.1", 40000, 443), flow("10.0.0.5", "203.0.113.1", 40000, 22)],
    )
    assert rule_row(report, "flows", "edge#priority-10")["passed"] == 1
    assert rule_row(report, "flows", "edge#priority-20")["dropped"] == 1
    assert report.totals["flows"]["passed"] == 1
    assert report.totals["flows"]["dropped"] == 1


def test_group_priority_orders_groups(run: Runner) -> None:
    first = stateless_group("first", [stateless_rule(50, ["aws:drop"], Protocols=[6])])
    second = stateless_group("second", [stateless_rule(1, ["aws:pass"], Protocols=[6])])
    report = run(policy([first, second]), [first, second], [flow("10.0.0.5", "1.2.3.4", 4000, 80)])
    assert rule_row(report, "flows", "first#priority-50")["dropped"] == 1
    assert rule_row(report, "flows", "second#priority-1")["matched"] == 0


def test_pass_skips_stateful_and_forward_reaches_it(run: Runner) -> None:
    group = stateless_group(
        "edge",
        [
            stateless_rule(1, ["aws:pass"], Sources=[{"AddressDefinition": "10.0.1.0/24"}]),
            stateless_rule(2, ["aws:forward_to_sfe"], Protocols=[6]),
        ],
    )
    stateful = suricata_group("deny-all", "drop ip any any -> any any (sid:1;)")
    report = run(
        policy([group], [stateful], default="aws:drop"),
        [group, stateful],
        [flow("10.0.1.7", "1.2.3.4", 4000, 80), flow("10.0.2.7", "1.2.3.4", 4000, 80)],
    )
    assert report.totals["flows"]["forwarded_to_stateful"] == 1
    assert rule_row(report, "flows", "edge#priority-1")["passed"] == 1
    assert rule_row(report, "flows", "deny-all#sid-1")["dropped"] == 1


def test_default_action_applies_to_unmatched(run: Runner) -> None:
    group = stateless_group("edge", [stateless_rule(1, ["aws:pass"], Protocols=[17])])
    report = run(
        policy([group], default="aws:drop"), [group], [flow("10.0.0.5", "1.2.3.4", 4000, 80)]
    )
    assert rule_row(report, "flows", "default:aws:drop")["matched"] == 1
    assert report.totals["flows"]["dropped"] == 1
    [finding] = report.findings
    assert finding.generator_id == "netfw.would_drop"
    assert finding.source == "perimeter"
    assert finding.account_id == ACCOUNT
    assert finding.resource.id == "i-0123456789abcdef0"
    assert finding.evidence["targets"][0]["target"] == "1.2.3.4:80"


def test_address_and_port_ranges(run: Runner) -> None:
    group = stateless_group(
        "edge",
        [
            stateless_rule(
                1,
                ["aws:drop"],
                Destinations=[
                    {"AddressDefinition": "198.51.100.0/25"},
                    {"AddressDefinition": "2001:db8::/32"},
                ],
                DestinationPorts=[{"FromPort": 8000, "ToPort": 8100}],
            )
        ],
    )
    lines = [
        flow("10.0.0.5", "198.51.100.100", 4000, 8050),  # in
        flow("10.0.0.5", "198.51.100.200", 4000, 8050),  # outside the /25
        flow("10.0.0.5", "198.51.100.100", 4000, 8101),  # outside the ports
        flow("2001:db8::1", "2001:db8::2", 4000, 8000),  # IPv6 in
    ]
    report = run(policy([group], default="aws:pass"), [group], lines)
    assert rule_row(report, "flows", "edge#priority-1")["dropped"] == 2


def test_tcp_flags_match_what_flow_logs_report(run: Runner) -> None:
    # A pure SYN (ACK inspected and unset) to port 23.
    syn_only = {"Flags": ["SYN"], "Masks": ["SYN", "ACK"]}
    group = stateless_group(
        "edge",
        [
            stateless_rule(
                1,
                ["aws:drop"],
                Protocols=[6],
                TCPFlags=[syn_only],
                DestinationPorts=[{"FromPort": 23, "ToPort": 23}],
            )
        ],
    )
    lines = [
        flow("10.0.0.5", "1.2.3.4", 4000, 23, flags=2),  # SYN: matches
        flow("10.0.0.5", "1.2.3.4", 4001, 23, flags=18),  # SYN-ACK: ACK set, no match
        flow("10.0.0.5", "1.2.3.4", 4002, 23, flags=1),  # FIN only: SYN unset, no match
        flow("10.0.0.5", "1.2.3.4", 4003, 23, flags="-"),  # no flags recorded: undetermined
        flow("10.0.0.5", "1.2.3.4", 4004, 23, protocol=17, flags=0),  # UDP: flags not TCP's
    ]
    report = run(policy([group], default="aws:pass"), [group], lines)
    row = rule_row(report, "flows", "edge#priority-1")
    assert row["dropped"] == 1
    assert row["undetermined"] == 1
    assert report.totals["flows"]["passed"] == 3


def test_flags_flow_logs_never_report_leave_the_record_undetermined(run: Runner) -> None:
    # PSH is never in flow logs: a SYN record may or may not match, a FIN-only one cannot.
    group = stateless_group(
        "edge",
        [
            stateless_rule(
                1, ["aws:drop"], TCPFlags=[{"Flags": ["SYN", "PSH"], "Masks": ["SYN", "PSH"]}]
            )
        ],
    )
    lines = [
        flow("10.0.0.5", "1.2.3.4", 4000, 80, flags=2),
        flow("10.0.0.5", "1.2.3.4", 4000, 80, flags=1),
    ]
    report = run(policy([group], default="aws:pass"), [group], lines)
    assert report.totals["flows"]["undetermined"] == 1
    assert report.totals["flows"]["passed"] == 1


def test_records_without_traffic_are_not_evaluated(run: Runner) -> None:
    group = stateless_group("edge", [stateless_rule(1, ["aws:drop"])])
    nodata = flow("10.0.0.5", "1.2.3.4", 4000, 80).replace(" ACCEPT OK ", " - NODATA ")
    nodata = nodata.replace("10.0.0.5 1.2.3.4 4000 80", "- - - -")
    report = run(policy([group]), [group], [nodata, flow("10.0.0.5", "1.2.3.4", 4000, 80)])
    assert report.totals["flows"]["skipped_no_traffic"] == 1
    assert report.totals["flows"]["dropped"] == 1
