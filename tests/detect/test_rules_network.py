"""VPC flow and DNS detections: positive cases among benign rows, look-alikes that stay silent."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests.detect.rules_support import DAY1, DAY3, dns, flow, run, summary

INSTANCE = "i-0123456789abcdef0"
HOST = "10.0.1.15"
WEB = "203.0.113.80"
ATTACKER = "198.51.100.200"
INTEL_IP = [
    {"network": "192.0.2.10", "list_name": "c2-servers", "threat": "c2"},
    {"network": "192.0.2.20", "list_name": "mining-pools", "threat": None},
    {"network": "192.0.2.30", "list_name": "custom", "threat": "malicious-activity"},
    {"network": "192.0.2.64/28", "list_name": "tor-exits", "threat": None},
]
INTEL_DOMAIN = [
    {"domain": "evil-c2.example", "list_name": "c2-domains", "threat": "c2"},
    {"domain": "pool.minexmr.example", "list_name": "mining", "threat": None},
    {"domain": "guarddutyc2activityb.com", "list_name": "builtin", "threat": "guardduty-test"},
]
BENIGN_FLOWS = [
    flow(HOST, WEB, 443, start_time=DAY1),
    flow(HOST, "10.0.2.20", 5432),
    flow(WEB, HOST, 40000, src_port=443),
]
BENIGN_DNS = [dns("www.amazon.com"), dns("s3.us-east-1.amazonaws.com"), dns("github.com")]


def scan(ports: range, action: str = "REJECT") -> list[dict[str, Any]]:
    return [flow(ATTACKER, HOST, p, action=action) for p in ports]


def many(src: str, dst: str, port: int, n: int, **kw: Any) -> list[dict[str, Any]]:
    return [
        flow(src, dst, port, start_time=DAY3 + timedelta(seconds=30 * i), **kw) for i in range(n)
    ]


FLOW_CASES: list[tuple[str, list[Any], list[tuple[str, str, int]], list[Any]]] = [
    (
        "Recon:EC2/Portscan",
        scan(range(1, 31)),
        [(INSTANCE, ATTACKER, 30)],
        scan(range(1, 31), action="ACCEPT"),
    ),  # a busy client, not rejected
    (
        "Recon:EC2/PortSweep",
        [flow(ATTACKER, f"10.0.3.{i}", 445, vpc_id="vpc-1", action="REJECT") for i in range(25)],
        [("vpc-1", ATTACKER, 25)],
        [flow(ATTACKER, f"10.0.3.{i}", 445, vpc_id="vpc-1", action="REJECT") for i in range(5)]
        # A monitoring host scraping 25 instances on one port: let through, not a sweep.
        + [flow("10.0.1.9", f"10.0.3.{i}", 9100, vpc_id="vpc-1") for i in range(25)],
    ),
    (
        "UnauthorizedAccess:EC2/SSHBruteForce",
        many(ATTACKER, HOST, 22, 30),
        [(INSTANCE, ATTACKER, 30)],
        many("10.0.9.9", HOST, 22, 30),
    ),  # an internal bastion
    (
        "UnauthorizedAccess:EC2/RDPBruteForce",
        many(ATTACKER, HOST, 3389, 25),
        [(INSTANCE, ATTACKER, 25)],
        many(ATTACKER, HOST, 3389, 3),
    ),
    (
        "Backdoor:EC2/C&CActivity.B",
        [flow(HOST, "192.0.2.10", 443)],
        [(INSTANCE, HOST, 1)],
        [flow(HOST, "192.0.2.11", 443)],
    ),
    (
        "CryptoCurrency:EC2/BitcoinTool.B",
        [flow(HOST, "192.0.2.20", 3333)],
        [(INSTANCE, HOST, 1)],
        [flow(HOST, "192.0.2.10", 443)],
    ),
    (
        "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom",
        [flow(HOST, "192.0.2.30", 8009)],
        [(INSTANCE, HOST, 1)],
        [flow(HOST, "192.0.2.20", 3333)],
    ),
    (
        "UnauthorizedAccess:EC2/TorClient",
        [flow(HOST, "192.0.2.70", 9001)],
        [(INSTANCE, HOST, 1)],
        [flow("192.0.2.70", HOST, 22, action="REJECT")],
    ),
    (
        "UnauthorizedAccess:EC2/TorIPCaller",
        [flow("192.0.2.70", HOST, 22)],
        [(INSTANCE, "192.0.2.70", 1)],
        [flow("192.0.2.70", HOST, 22, action="REJECT")],
    ),
    (
        "Behavior:EC2/NetworkPortUnusual",
        [flow(HOST, WEB, 6667, src_port=50000)],
        [(INSTANCE, HOST, 1)],
        [
            flow(HOST, WEB, 6667, src_port=50000, start_time=DAY1 + timedelta(hours=3)),
            flow(HOST, WEB, 6667, src_port=50001),
        ],
    ),  # used that port from the start
    (
        "Backdoor:EC2/DenialOfService.Udp",
        [flow(HOST, WEB, 80, protocol=17, packets=600000)],
        [(INSTANCE, HOST, 1)],
        [flow(HOST, WEB, 80, protocol=17, packets=6000)],
    ),
    (
        "Backdoor:EC2/DenialOfService.Tcp",
        [flow(HOST, WEB, 80, packets=900000)],
        [(INSTANCE, HOST, 1)],
        [flow(HOST, WEB, 80, protocol=17, packets=900000)],
    ),
    (
        "Backdoor:EC2/DenialOfService.Dns",
        [flow(HOST, WEB, 53, protocol=17, packets=700000)],
        [(INSTANCE, HOST, 1)],
        [flow(HOST, WEB, 53, protocol=17, packets=70)],
    ),
    (
        "Backdoor:EC2/Spambot",
        [flow(HOST, f"203.0.113.{i}", 25) for i in range(12)],
        [(INSTANCE, HOST, 12)],
        [flow(HOST, "203.0.113.1", 25) for _ in range(12)],
    ),
]

_TUNNEL = "mzxw6ytboi2dsnzqgezdgnbvgy3tqojqgeztmnrtmfrggzdf"
DNS_CASES: list[tuple[str, list[Any], list[tuple[str, str, int]], list[Any]]] = [
    (
        "Backdoor:EC2/C&CActivity.B!DNS",
        [dns("beacon.evil-c2.example"), dns("c2.guarddutyc2activityb.com")],
        [(INSTANCE, HOST, 2)],
        [dns("evil-c2.example.com"), dns("notevil-c2.example")],
    ),
    (
        "CryptoCurrency:EC2/BitcoinTool.B!DNS",
        [dns("pool.minexmr.example"), dns("crypto.guarddutyc2activityb.com")],
        [(INSTANCE, HOST, 2)],
        [dns("minexmr.example")],
    ),
    (
        "Trojan:EC2/PhishingDomainRequest!DNS",
        [dns("guarddutyphishingactivity.com")],
        [(INSTANCE, HOST, 1)],
        [dns("phishingactivity.com")],
    ),
    (
        "Trojan:EC2/DropPoint!DNS",
        [dns("guarddutydroppointactivity.com")],
        [(INSTANCE, HOST, 1)],
        [dns("droppoint.example")],
    ),
    (
        "Trojan:EC2/BlackholeTraffic!DNS",
        [dns("guarddutyblackholeactivity.com")],
        [(INSTANCE, HOST, 1)],
        [dns("blackhole.example")],
    ),
    (
        "Trojan:EC2/DriveBySourceTraffic!DNS",
        [dns("x.guarddutydrivebyactivity.com")],
        [(INSTANCE, HOST, 1)],
        [dns("drivebyactivity.com")],
    ),
    (
        "Trojan:EC2/DGADomainRequest.C!DNS",
        [dns("guarddutydgaactivity.com")],
        [(INSTANCE, HOST, 1)],
        [dns("dgaactivity.com")],
    ),
    (
        "Impact:EC2/AbusedDomainRequest.Reputation",
        [dns("abused-rep.guarddutyc2activityb.com")],
        [(INSTANCE, HOST, 1)],
        [dns("abused-rep.example.com")],
    ),
    (
        "Impact:EC2/BitcoinDomainRequest.Reputation",
        [dns("crypto-rep.guarddutyc2activityb.com")],
        [(INSTANCE, HOST, 1)],
        [dns("crypto.example.com")],
    ),
    (
        "Impact:EC2/MaliciousDomainRequest.Reputation",
        [dns("malicious-rep.guarddutyc2activityb.com")],
        [(INSTANCE, HOST, 1)],
        [dns("malicious.example.com")],
    ),
    (
        "Impact:EC2/SuspiciousDomainRequest.Reputation",
        [dns("suspicious-rep.guarddutyc2activityb.com")],
        [(INSTANCE, HOST, 1)],
        [dns("suspicious.example.com")],
    ),
    (
        "Trojan:EC2/DGADomainRequest.B",
        [dns("xkqjzvtplmw.com"), dns("qzxrtkvbnmpl.net"), dns("h7d9f3k2x8q1.info")],
        [(INSTANCE, HOST, 3)],
        [
            dns("internationalization.com"),
            dns("d3k9x7q2abcdef.cloudfront.net"),
            dns("photosynthesis.org"),
        ],
    ),
    (
        "Trojan:EC2/DNSDataExfiltration",
        [dns(f"{_TUNNEL[i:] + _TUNNEL[:i]}.t.exfil.example", query_type="TXT") for i in range(6)],
        [(INSTANCE, HOST, 6)],
        [dns(f"img{i}.cdn.example") for i in range(20)],
    ),
]


@pytest.mark.parametrize("case", FLOW_CASES, ids=[c[0] for c in FLOW_CASES])
def test_flow_rule_finds_the_attack(case: tuple) -> None:
    finding_type, attack, expected, _lookalike = case
    rows = run(finding_type, flows=[*BENIGN_FLOWS, *attack], intel_ip=INTEL_IP)
    assert summary(rows) == expected
    assert all(json.loads(r["detail"]) and r["evidence_ids"] for r in rows)


@pytest.mark.parametrize("case", FLOW_CASES, ids=[c[0] for c in FLOW_CASES])
def test_flow_rule_ignores_the_lookalike(case: tuple) -> None:
    finding_type, _attack, _expected, lookalike = case
    assert run(finding_type, flows=[*BENIGN_FLOWS, *lookalike], intel_ip=INTEL_IP) == []


@pytest.mark.parametrize("case", DNS_CASES, ids=[c[0] for c in DNS_CASES])
def test_dns_rule_finds_the_attack(case: tuple) -> None:
    finding_type, attack, expected, _lookalike = case
    rows = run(finding_type, dns_rows=[*BENIGN_DNS, *attack], intel_domain=INTEL_DOMAIN)
    assert summary(rows) == expected


@pytest.mark.parametrize("case", DNS_CASES, ids=[c[0] for c in DNS_CASES])
def test_dns_rule_ignores_the_lookalike(case: tuple) -> None:
    finding_type, _attack, _expected, lookalike = case
    assert run(finding_type, dns_rows=[*BENIGN_DNS, *lookalike], intel_domain=INTEL_DOMAIN) == []


def test_trusted_network_beats_intel_for_flows() -> None:
    rows = run(
        "UnauthorizedAccess:EC2/TorIPCaller",
        flows=[flow("192.0.2.70", HOST, 22)],
        intel_ip=INTEL_IP,
        trusted=[{"network": "192.0.2.64/28", "list_name": "ours"}],
    )
    assert rows == []


def _sweep(hosts: range, action: str) -> list[dict[str, Any]]:
    return [flow(ATTACKER, f"10.0.3.{i}", 445, vpc_id="vpc-1", action=action) for i in hosts]


@pytest.mark.parametrize(
    ("finding_type", "probes", "resource"),
    [("Recon:EC2/Portscan", scan, INSTANCE), ("Recon:EC2/PortSweep", _sweep, "vpc-1")],
)
@pytest.mark.parametrize(("rejected", "fires"), [(10, True), (9, False)])
def test_scans_at_the_edge_of_their_rejection_share(
    finding_type: str, probes: Any, resource: str, rejected: int, fires: bool
) -> None:
    # Twenty ports (or hosts), half of the records rejected: the least that fires (the screen
    # of ten rejected records must keep it), while one rejection fewer does not.
    rows = probes(range(1, 1 + rejected), "REJECT") + probes(range(1 + rejected, 21), "ACCEPT")
    found = run(finding_type, flows=rows)
    assert [(r["resource_id"], r["actor"], r["event_count"]) for r in found] == (
        [(resource, ATTACKER, 20)] if fires else []
    )
