"""`mamori netfw test` end to end: over small fixtures with known answers, and over logs the
detection log generator writes in AWS's delivery layouts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.detect.generator.orchestrate import generate
from tests.perimeter.netfw.builders import (
    dns_query,
    domain_group,
    flow,
    policy,
    stateless_group,
    stateless_rule,
    suricata_group,
    write_dns,
    write_flows,
    write_policy,
)

runner = CliRunner()

GROUPS = [
    stateless_group(
        "edge",
        [stateless_rule(1, ["aws:drop"], Destinations=[{"AddressDefinition": "198.51.100.0/24"}])],
    ),
    suricata_group(
        "sf",
        'drop tcp $HOME_NET any -> $EXTERNAL_NET 22 (msg:"[red]ssh[/red] out"; sid:10;)\n'
        'alert tcp any any -> any any (pcre:"/x/"; sid:11;)',
    ),
    domain_group("deny", [".bad.example"], "DENYLIST"),
]


def fixture_paths(tmp_path: Path) -> list[str]:
    policy_file, group_files = write_policy(
        tmp_path / "policy", policy([GROUPS[0]], GROUPS[1:]), GROUPS
    )
    flows = write_flows(
        tmp_path / "flows",
        [
            flow("10.0.0.5", "198.51.100.9", 40000, 443),
            flow("10.0.0.5", "203.0.113.9", 40001, 22),
            flow("10.0.0.5", "203.0.113.9", 40002, 443),
        ],
    )
    dns = write_dns(tmp_path / "dns", [dns_query("www.bad.example"), dns_query("fine.example")])
    args = ["netfw", "test", "--policy", str(policy_file), "--flows", str(flows), "--dns", str(dns)]
    for path in group_files:
        args += ["--rule-group", str(path)]
    return args


def test_json_output(tmp_path: Path) -> None:
    result = runner.invoke(app, [*fixture_paths(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["totals"]["flows"]["dropped"] == 2
    assert document["totals"]["flows"]["passed"] == 1
    assert document["totals"]["dns"]["tls_dropped"] == 1
    generators = sorted(f["generator_id"] for f in document["findings"])
    assert generators.count("netfw.would_drop") == 4  # 2 flows rules, TLS and HTTP denylist rules
    assert any("pcre" in w for w in document["warnings"])
    rules = {row["rule"]: row for row in document["rules"]["flows"]}
    assert rules["sf#sid-10"]["dropped"] == 1


def test_table_output_escapes_rule_text(tmp_path: Path) -> None:
    result = runner.invoke(app, fixture_paths(tmp_path))
    assert result.exit_code == 0, result.output
    assert "[red]ssh[/red] out" in result.stdout  # shown as written, not as markup
    assert "sf#sid-10" in result.stdout


def test_input_errors_exit_2(tmp_path: Path) -> None:
    args = fixture_paths(tmp_path)
    missing_groups = args[: args.index("--rule-group")]
    result = runner.invoke(app, missing_groups)
    assert result.exit_code == 2
    assert "--rule-group" in result.output
    result = runner.invoke(app, ["netfw", "test", "--policy", args[3]])
    assert result.exit_code == 2
    assert "--flows" in result.output


def test_generated_logs(tmp_path: Path) -> None:
    generate(
        tmp_path / "logs",
        accounts=["111111111111"],
        regions=["us-east-1"],
        start=datetime(2026, 3, 1, tzinfo=UTC),
        days=1,
        events_per_day=50,
        flows_per_day=3000,
        dns_per_day=1000,
        seed=3,
    )
    groups = [
        stateless_group(
            "edge",
            [
                stateless_rule(
                    1,
                    ["aws:pass"],
                    Protocols=[17],
                    DestinationPorts=[{"FromPort": 53, "ToPort": 53}],
                )
            ],
        ),
        suricata_group(
            "sf",
            "drop tcp any any -> any 445 (sid:1;)\n"
            "alert tcp $HOME_NET any -> $EXTERNAL_NET 443 (sid:2;)",
        ),
        domain_group("allow", [".amazonaws.com"], "ALLOWLIST"),
    ]
    policy_file, group_files = write_policy(
        tmp_path / "policy", policy([groups[0]], groups[1:]), groups
    )
    args = [
        "netfw",
        "test",
        "--policy",
        str(policy_file),
        "--flows",
        str(tmp_path / "logs"),
        "--dns",
        str(tmp_path / "logs"),
        "--format",
        "json",
    ]
    for path in group_files:
        args += ["--rule-group", str(path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    flows = document["totals"]["flows"]
    assert flows["records"] >= 3000
    assert flows["evaluated"] + flows["skipped_no_traffic"] == flows["records"]
    outcomes = flows["passed"] + flows["dropped"] + flows["rejected"] + flows["undetermined"]
    assert outcomes == flows["evaluated"]
    assert flows["dropped"] > 0 and flows["alerted"] > 0
    dns = document["totals"]["dns"]
    assert dns["queries"] >= 1000
    assert dns["tls_passed"] > 0 and dns["tls_dropped"] > 0  # allowed AWS names, others dropped
    assert all(f["source"] == "perimeter" for f in document["findings"])
    assert not document["problems"]
