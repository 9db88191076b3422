"""Network Firewall policy evaluation speed: generated VPC flow logs and Resolver query logs
through a policy of stateless, 5-tuple, Suricata and domain list rule groups.

    python bench/netfw.py [--flows 1000000] [--dns 200000] [--keep DIR]

Prints records per second for the flow evaluation (reading included) and the DNS evaluation."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from mamori.detect.generator.orchestrate import generate
from mamori.perimeter.netfw import evaluate, load_policy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.perimeter.netfw.builders import (
    domain_group,
    policy,
    stateless_group,
    stateless_rule,
    suricata_group,
    write_policy,
)


def _groups() -> list[dict[str, object]]:
    stateless = stateless_group(
        "edge",
        [
            stateless_rule(
                1, ["aws:drop"], Destinations=[{"AddressDefinition": "198.51.100.0/24"}]
            ),
            stateless_rule(
                2, ["aws:pass"], Protocols=[17], DestinationPorts=[{"FromPort": 53, "ToPort": 53}]
            ),
            stateless_rule(
                3,
                ["aws:drop"],
                Protocols=[6],
                TCPFlags=[{"Flags": ["SYN"], "Masks": ["SYN", "ACK"]}],
                DestinationPorts=[{"FromPort": 23, "ToPort": 23}],
            ),
            *[
                stateless_rule(
                    10 + n, ["aws:drop"], Sources=[{"AddressDefinition": f"203.0.{n}.0/24"}]
                )
                for n in range(7)
            ],
        ],
    )
    rules = "\n".join(
        [
            "drop tcp any any -> any [445,139] (sid:1;)",
            "drop tcp $HOME_NET any -> $EXTERNAL_NET [22,3389] (sid:2;)",
            "alert tcp $HOME_NET any -> $EXTERNAL_NET 443 (flow:to_server; sid:3;)",
            "pass tcp $HOME_NET any -> 10.0.0.0/8 any (sid:4;)",
            'drop tls $HOME_NET any -> any any (tls.sni; content:"evil"; nocase; sid:5;)',
            *[f"drop udp any any -> 192.0.2.{n} any (sid:{100 + n};)" for n in range(10)],
        ]
    )
    return [
        stateless,
        suricata_group("sf", rules),
        domain_group("deny", [".example.net", "bad.example"], "DENYLIST"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flows", type=int, default=1_000_000)
    parser.add_argument("--dns", type=int, default=200_000)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        logs = root / "logs"
        if not logs.exists():
            started = time.perf_counter()
            generate(
                logs,
                accounts=["111111111111"],
                regions=["us-east-1"],
                start=datetime(2026, 3, 1, tzinfo=UTC),
                days=1,
                events_per_day=10,
                flows_per_day=args.flows,
                dns_per_day=args.dns,
            )
            print(f"generated logs in {time.perf_counter() - started:.1f} s")
        groups = _groups()
        policy_file, group_files = write_policy(
            root / "policy", policy([groups[0]], groups[1:]), groups
        )
        compiled = load_policy(policy_file, group_files)
        started = time.perf_counter()
        flows = evaluate(compiled, flow_locations=[str(logs)])
        flow_seconds = time.perf_counter() - started
        started = time.perf_counter()
        names = evaluate(compiled, dns_locations=[str(logs)])
        dns_seconds = time.perf_counter() - started
        records = flows.totals["flows"]["records"]
        queries = names.totals["dns"]["queries"]
        print(
            f"flows: {records} records in {flow_seconds:.2f} s = "
            f"{records / flow_seconds:,.0f} records/s (reading included)"
        )
        print(
            f"dns:   {queries} queries in {dns_seconds:.2f} s = "
            f"{queries / dns_seconds:,.0f} queries/s (reading included)"
        )
        print(
            json.dumps(
                {
                    "flows": flows.totals["flows"],
                    "dns": names.totals["dns"],
                    "findings": len(flows.findings) + len(names.findings),
                }
            )
        )


if __name__ == "__main__":
    main()
