"""VPC Flow Logs rules: scans, sweeps, brute force, traffic with hosts on threat lists, unusual
ports, spam and denial of service from an instance."""

# ruff: noqa: S608 - rule SQL is assembled from constants written here, never from user input

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mamori.detect.rules.base import (
    Rule,
    Screen,
    distinct_list,
    finding_sql,
    not_trusted,
    register,
    window_start,
)

_RESOURCE = "coalesce(f.instance_id, f.interface_id, f.dst_addr)"
# The scopes are the reader's (schema.FLOWS): the macros is_ip / is_private_ip per record cost
# a regex and a parse per address per rule.
_EXTERNAL_SRC = f"f.src_scope = 'public' AND {not_trusted('f.src_addr')}"
_OUTBOUND = "f.src_scope = 'private' AND f.dst_scope = 'public'"
_FLOW_DETAIL = {
    "destinations": distinct_list("dst_addr"),
    "ports": distinct_list("dst_port", 20),
    "packets": "sum(packets)",
    "bytes": "sum(bytes)",
}
_FLOW_LEARNED = "(SELECT min(start_time) FROM flows) + INTERVAL 1 DAY"


# A flow record's evidence id, built from the matched columns only for the records of a finding:
# formatting a timestamp as text for each of millions of records cost a third of a flow rule.
FLOW_EVIDENCE = (
    "concat(actor, '>', dst_addr, ':', CAST(dst_port AS VARCHAR), '@', CAST(ts AS VARCHAR))"
)


def flows_matched(where: str, resource: str = _RESOURCE, *, window: str = "hour") -> str:
    """Matched-records SELECT over `flows f`, with the standard columns but the evidence id
    (FLOW_EVIDENCE builds it) and an hour window."""
    return (
        "SELECT f.account_id AS account_id, f.region AS region,"
        f" CAST({resource} AS VARCHAR) AS resource_id, f.src_addr AS actor, f.start_time AS ts,"
        " f.dst_addr AS dst_addr, f.dst_port AS dst_port, f.packets AS packets,"
        " f.bytes AS bytes, f.action AS action,"
        f" f.protocol AS protocol, {window_start('f.start_time', window)} AS win"
        f"\nFROM flows f\nWHERE coalesce(f.log_status, 'OK') = 'OK' AND {where}"
    )


def flow_rule(
    finding_type: str,
    *,
    where: str,
    having: str | None = None,
    group: tuple[str, ...] = ("win",),
    resource: str = _RESOURCE,
    ctes: str = "",
    detail: Mapping[str, str] | None = None,
    distinct: str | None = None,
    pre: Mapping[str, str] | None = None,
    screen: Screen | None = None,
    **meta: Any,
) -> Rule:
    sql = finding_sql(
        flows_matched(where, resource),
        {**_FLOW_DETAIL, **(detail or {})},
        ctes=ctes,
        having=having,
        group=group,
        prefilter=True,
        distinct=distinct,
        pre=pre,
        evidence=FLOW_EVIDENCE,
        screen=screen,
    )
    return register(Rule(finding_type=finding_type, data_source="vpc-flow", sql=sql, **meta))


_RECON = ("TA0043 Reconnaissance", "T1595.001", "Active Scanning: Scanning IP Blocks")
# Per group and distinct value: records and how many were rejected (scans are mostly refused).
_REJECTIONS = {
    "records": "count(*)",
    "rejected": "sum(CASE WHEN action = 'REJECT' THEN 1 ELSE 0 END)",
}
flow_rule(
    "Recon:EC2/Portscan",
    where="f.protocol IN (6, 17)",
    group=("win", "dst_addr"),
    # 20 distinct ports, at least half of the records rejected.
    distinct="dst_port",
    pre=_REJECTIONS,
    having="count(*) >= 20 AND sum(rejected) * 2 >= sum(records)",
    # So at least ten rejected records from the source to the host that hour: rejections are
    # few, and the two-level count then runs over the few records of those pairs.
    screen=Screen("action = 'REJECT'", ("actor", "dst_addr", "win"), "count(*) >= 10"),
    severity=5.0,
    tactic=_RECON[0],
    technique_id="T1046",
    technique="Network Service Discovery",
    title="Port scan of a host",
    description="One source tried 20 or more ports on one host within an hour, mostly "
    "rejected: a port scan.",
    remediation="If the source is an instance of yours, isolate and investigate it; otherwise "
    "keep security groups closed to the scanner and check what was reachable.",
    resource_type="AwsEc2Instance",
)
flow_rule(
    "Recon:EC2/PortSweep",
    where="f.protocol IN (6, 17)",
    resource="coalesce(f.vpc_id, f.account_id)",
    group=("win", "dst_port"),
    # 20 distinct hosts, at least half of the records rejected: a monitoring or deployment
    # host that reaches many instances on one port is let through, a sweep for open ports
    # mostly is not.
    distinct="dst_addr",
    pre=_REJECTIONS,
    having="count(*) >= 20 AND sum(rejected) * 2 >= sum(records)",
    screen=Screen("action = 'REJECT'", ("actor", "dst_port", "win"), "count(*) >= 10"),
    severity=5.0,
    tactic=_RECON[0],
    technique_id=_RECON[1],
    technique=_RECON[2],
    title="Port sweep across many hosts",
    description="One source tried the same port on 20 or more hosts within an hour, mostly "
    "rejected (Mamori's own finding type).",
    remediation="Find the source; if it is your instance, isolate it; otherwise block it.",
    resource_type="AwsEc2Vpc",
)

for _port, _name, _proto in ((22, "SSH", "T1110.001"), (3389, "RDP", "T1110.001")):
    flow_rule(
        f"UnauthorizedAccess:EC2/{_name}BruteForce",
        where=f"f.protocol = 6 AND f.dst_port = {_port} AND {_EXTERNAL_SRC}",
        group=(),
        having="count(*) >= 20 AND avg(packets) <= 40",
        severity=2.0,
        tactic="TA0006 Credential Access",
        technique_id=_proto,
        technique="Brute Force: Password Guessing",
        title=f"{_name} brute force against an instance",
        description=f"An internet address opened 20 or more short {_name} connections to one "
        "host, the pattern of password or key guessing.",
        remediation=f"Close {_name} to the internet (use Session Manager), block the source "
        "and check the host's authentication logs.",
        resource_type="AwsEc2Instance",
    )


# Traffic with hosts on threat lists: the remote side of each flow, looked up in the run's
# `ip_intel` table (mamori.detect.run_tables).
def _intel_flow(
    finding_type: str, kinds: str, side: str, technique: tuple[str, str, str], **meta: Any
) -> None:
    remote = "f.dst_addr" if side == "dst" else "f.src_addr"
    flow_rule(
        finding_type,
        where=f"EXISTS (SELECT 1 FROM ip_intel h WHERE h.ip = {remote} AND {kinds})"
        + (" AND f.action = 'ACCEPT'" if side == "src" else ""),
        group=(),
        tactic=technique[0],
        technique_id=technique[1],
        technique=technique[2],
        resource_type="AwsEc2Instance",
        **meta,
    )


_C2 = ("TA0011 Command and Control", "T1071", "Application Layer Protocol")
_FIX_HOST = (
    "Isolate the instance, capture its disk for forensics, and rebuild it from a clean image."
)
_intel_flow(
    "Backdoor:EC2/C&CActivity.B",
    "h.kind = 'c2'",
    "dst",
    _C2,
    severity=8.0,
    title="Instance talking to a command-and-control server",
    description="An instance exchanged traffic with an IP address listed as a "
    "command-and-control server.",
    remediation=_FIX_HOST,
)
_intel_flow(
    "CryptoCurrency:EC2/BitcoinTool.B",
    "h.kind = 'mining'",
    "dst",
    ("TA0040 Impact", "T1496", "Resource Hijacking"),
    severity=5.0,
    title="Instance talking to a cryptocurrency mining pool",
    description="An instance exchanged traffic with an IP address listed as a mining pool.",
    remediation=_FIX_HOST,
)
_intel_flow(
    "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom",
    "h.kind IN ('malicious', 'phishing', 'droppoint')",
    "dst",
    _C2,
    severity=5.0,
    title="Instance talking to an IP address on a custom threat list",
    description="An instance exchanged traffic with an IP address on a threat list loaded.",
    remediation=_FIX_HOST,
)
_intel_flow(
    "UnauthorizedAccess:EC2/TorClient",
    "h.kind = 'tor'",
    "dst",
    ("TA0011 Command and Control", "T1090.003", "Proxy: Multi-hop Proxy"),
    severity=8.0,
    title="Instance connecting to the Tor network",
    description="An instance connected to an address listed as a Tor node.",
    remediation="Find the process using Tor; unless approved, isolate the instance.",
)
_intel_flow(
    "UnauthorizedAccess:EC2/TorIPCaller",
    "h.kind = 'tor'",
    "src",
    ("TA0001 Initial Access", "T1090.003", "Proxy: Multi-hop Proxy"),
    severity=5.0,
    title="Inbound connection from a Tor exit node",
    description="An instance accepted a connection from an address listed as a Tor exit node.",
    remediation="Restrict the security group to known sources and check the service's logs.",
)

_COMMON_PORTS = "(20, 21, 22, 25, 53, 80, 110, 123, 143, 443, 465, 587, 993, 995, 3389, 8080, 8443)"
_EARLIER_PORT = (
    "SELECT 1 FROM flows p WHERE p.src_addr = f.src_addr AND p.dst_port = f.dst_port"
    " AND p.start_time < f.start_time - INTERVAL 1 HOUR"
)
flow_rule(
    "Behavior:EC2/NetworkPortUnusual",
    where=f"{_OUTBOUND} AND f.action = 'ACCEPT' AND f.dst_port NOT IN {_COMMON_PORTS}"
    " AND f.dst_port < 32768 AND f.src_port >= 1024"
    f" AND f.start_time >= {_FLOW_LEARNED} AND NOT EXISTS ({_EARLIER_PORT})",
    group=("dst_port",),
    severity=5.0,
    tactic="TA0011 Command and Control",
    technique_id="T1571",
    technique="Non-Standard Port",
    title="Instance using a port it never used before",
    description="An instance connected to an internet host on an uncommon port it had not "
    "used earlier in the flow logs.",
    remediation="Find the process behind the connection; block the port in the security "
    "group if it is not needed.",
    resource_type="AwsEc2Instance",
)

for _kind, _cond in (
    ("Tcp", "f.protocol = 6"),
    ("Udp", "f.protocol = 17 AND f.dst_port <> 53"),
    ("Dns", "f.protocol = 17 AND f.dst_port = 53"),
):
    flow_rule(
        f"Backdoor:EC2/DenialOfService.{_kind}",
        where=f"{_OUTBOUND} AND {_cond}",
        group=("win", "dst_addr"),
        having="sum(packets) >= 500000",
        severity=8.0,
        tactic="TA0040 Impact",
        technique_id="T1498",
        technique="Network Denial of Service",
        title=f"Instance flooding an internet host ({_kind.upper()})",
        description="An instance sent 500,000 or more packets to one internet host within an "
        "hour, the pattern of a denial-of-service attack.",
        remediation=_FIX_HOST,
        resource_type="AwsEc2Instance",
    )

flow_rule(
    "Backdoor:EC2/Spambot",
    where=f"{_OUTBOUND} AND f.protocol = 6 AND f.dst_port = 25",
    having="count(DISTINCT dst_addr) >= 10",
    severity=5.0,
    tactic="TA0040 Impact",
    technique_id="T1496",
    technique="Resource Hijacking",
    title="Instance sending mail to many hosts",
    description="An instance connected to port 25 on ten or more internet hosts within an "
    "hour, the pattern of a spam bot.",
    remediation=_FIX_HOST,
    resource_type="AwsEc2Instance",
)
