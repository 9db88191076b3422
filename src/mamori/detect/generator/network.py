"""VPC Flow Log and Route 53 Resolver query log records, and each account's routine traffic."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from mamori.detect.generator.model import COMMON_DOMAINS, AccountWorld, Instance, Vpc, hex_id

Flow = dict[str, Any]
DnsRecord = dict[str, Any]

# The default (version 2) format, and a custom version 5 order as a user might choose it.
V2_FIELDS = [
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
]
V5_FIELDS = [
    "version",
    "vpc-id",
    "subnet-id",
    "instance-id",
    "interface-id",
    "account-id",
    "type",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "pkt-srcaddr",
    "pkt-dstaddr",
    "protocol",
    "bytes",
    "packets",
    "start",
    "end",
    "action",
    "tcp-flags",
    "log-status",
    "flow-direction",
    "traffic-path",
]
FIELDS = {"v2": V2_FIELDS, "v5": V5_FIELDS}

TCP, UDP = 6, 17
SYN, ACK, FIN, RST = 2, 16, 1, 4

# Public endpoints the workloads talk to on 443 (shaped like AWS service and SaaS addresses).
PUBLIC_SERVICES = ("52.216.8.14", "52.217.40.2", "3.5.10.200", "140.82.112.3", "151.101.0.223")
_INTERNET_CLIENTS = ("100.24.", "34.201.", "44.192.", "18.206.")  # load-balancer clients


def flow(
    inst: Instance,
    src: str,
    dst: str,
    sport: int,
    dport: int,
    start: datetime,
    *,
    protocol: int = TCP,
    packets: int = 10,
    nbytes: int = 2000,
    action: str = "ACCEPT",
    direction: str = "egress",
    tcp_flags: int = SYN | ACK | FIN,
    seconds: int = 55,
) -> Flow:
    """One record as seen on the instance's network interface (one direction of a flow)."""
    begin = int(start.timestamp())
    return {
        "version": 2 if inst.vpc.flow_format == "v2" else 5,
        "vpc-id": inst.vpc.vpc_id,
        "subnet-id": inst.vpc.subnet_id,
        "instance-id": inst.instance_id,
        "interface-id": inst.eni_id,
        "account-id": "",  # filled by the writer from the account being written
        "type": "IPv4",
        "srcaddr": src,
        "dstaddr": dst,
        "srcport": sport,
        "dstport": dport,
        "pkt-srcaddr": src,
        "pkt-dstaddr": dst,
        "protocol": protocol,
        "bytes": nbytes,
        "packets": packets,
        "start": begin,
        "end": begin + seconds,
        "action": action,
        "tcp-flags": tcp_flags,
        "log-status": "OK",
        "flow-direction": direction,
        "traffic-path": 8 if direction == "egress" and not dst.startswith(("10.", "172.")) else "-",
    }


def nodata(inst: Instance, start: datetime) -> Flow:
    rec = flow(inst, "", "", 0, 0, start)
    for key in rec:
        if key not in ("version", "vpc-id", "subnet-id", "instance-id", "interface-id", "start"):
            rec[key] = "-"
    rec["end"] = rec["start"] + 60
    rec["log-status"] = "NODATA"
    rec["account-id"] = ""
    return rec


def flow_line(rec: Flow, fmt: str, account_id: str) -> str:
    values = []
    for name in FIELDS[fmt]:
        value = account_id if name == "account-id" and rec[name] == "" else rec[name]
        values.append(str(value) if value != "" else "-")
    return " ".join(values)


def conversation(
    rng: random.Random,
    inst: Instance,
    peer: str,
    dport: int,
    start: datetime,
    *,
    inbound: bool = False,
    action: str = "ACCEPT",
) -> list[Flow]:
    """Both directions of a TCP exchange through the instance's interface."""
    eph = rng.randrange(32768, 61000)
    out_pk, in_pk = rng.randrange(4, 60), rng.randrange(4, 80)
    client, server = (peer, inst.private_ip) if inbound else (inst.private_ip, peer)
    first_dir, second_dir = ("ingress", "egress") if inbound else ("egress", "ingress")
    request = flow(
        inst,
        client,
        server,
        eph,
        dport,
        start,
        packets=out_pk,
        nbytes=out_pk * 120,
        action=action,
        direction=first_dir,
        tcp_flags=SYN if action == "REJECT" else 19,
    )
    if action == "REJECT":
        return [request]
    reply = flow(
        inst,
        server,
        client,
        dport,
        eph,
        start,
        packets=in_pk,
        nbytes=in_pk * 900,
        direction=second_dir,
        tcp_flags=18 | FIN,
    )
    return [request, reply]


def background_flows(
    rng: random.Random, world: AccountWorld, day: datetime, count: int
) -> Iterator[tuple[datetime, Flow]]:
    """Exactly `count` routine flow records for one account and day."""
    app, db = world.instances[0], world.instances[2]
    made = 0
    while made < count:
        t = day + timedelta(seconds=rng.uniform(0, 86399))
        inst = rng.choice(world.instances)
        roll = rng.random()
        if roll < 0.005:
            batch = [nodata(inst, t)]
        elif roll < 0.4:
            batch = conversation(rng, app, db.private_ip, 5432, t)
        elif roll < 0.75:
            batch = conversation(rng, inst, rng.choice(PUBLIC_SERVICES), 443, t)
        elif roll < 0.95:
            client = rng.choice(_INTERNET_CLIENTS) + f"{rng.randrange(256)}.{rng.randrange(256)}"
            batch = conversation(rng, app, client, 443, t, inbound=True)
        else:
            # The internet's constant background knocking, dropped by the security group.
            noise = f"{rng.choice((45, 89, 185, 193))}.{rng.randrange(256)}.{rng.randrange(256)}"
            port = rng.choice((22, 23, 3389, 445, 8080))
            batch = conversation(rng, inst, noise + ".7", port, t, inbound=True, action="REJECT")
        for rec in batch[: count - made]:
            made += 1
            yield t, rec


def dns_record(
    rng: random.Random,
    world: AccountWorld,
    inst: Instance,
    t: datetime,
    name: str,
    *,
    qtype: str = "A",
    rcode: str = "NOERROR",
    answers: list[str] | None = None,
) -> DnsRecord:
    """One Resolver query log entry, with the field names and value forms the service writes."""
    if answers is None and rcode == "NOERROR":
        answers = [f"{rng.choice((3, 13, 52, 54))}.{rng.randrange(256)}.{rng.randrange(256)}.1"]
    return {
        "version": "1.100000",
        "account_id": world.account_id,
        "region": world.region,
        "vpc_id": inst.vpc.vpc_id,
        "query_timestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "query_name": name.rstrip(".") + ".",
        "query_type": qtype,
        "query_class": "IN",
        "rcode": rcode,
        "answers": [
            {"Rdata": a, "Type": "TXT" if qtype == "TXT" else "A", "Class": "IN"}
            for a in (answers or [])
        ],
        "srcaddr": inst.private_ip,
        "srcport": str(rng.randrange(1024, 65535)),
        "transport": "UDP",
        "srcids": {"instance": inst.instance_id},
    }


def background_dns(
    rng: random.Random, world: AccountWorld, day: datetime, count: int
) -> Iterator[tuple[datetime, DnsRecord]]:
    for _ in range(count):
        t = day + timedelta(seconds=rng.uniform(0, 86399))
        inst = rng.choice(world.instances)
        name = rng.choice(COMMON_DOMAINS).format(region=world.region)
        if rng.random() < 0.1:
            # Content-delivery names: hashed-looking labels that are perfectly normal.
            name = f"d{hex_id(rng, 13)}.cloudfront.net"
        rcode = "NXDOMAIN" if rng.random() < 0.01 else "NOERROR"
        yield t, dns_record(rng, world, inst, t, name, rcode=rcode)


def vpc_by_id(world: AccountWorld, vpc_id: str) -> Vpc:
    return next(v for v in world.vpcs if v.vpc_id == vpc_id)
