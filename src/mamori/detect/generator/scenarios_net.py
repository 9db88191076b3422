"""Attack scenarios that show in VPC Flow Logs and Resolver query logs."""

from __future__ import annotations

import string
from datetime import timedelta

from mamori.detect.generator.base import Context, scenario
from mamori.detect.generator.model import (
    C2_DOMAINS,
    EXFIL_DOMAIN,
    GUARDDUTY_TESTER_DOMAINS,
    MINING_DOMAINS,
    MINING_POOL_IPS,
    hex_id,
    ip_in,
)
from mamori.detect.generator.network import RST, SYN, TCP, conversation, dns_record, flow

# --- flows -------------------------------------------------------------------------------


@scenario(
    "port-scan",
    "Recon:EC2/Portscan",
    "vpc-flow",
    "an instance probes 150 ports of a neighbour; a monitor checking 5 known ports is the "
    "look-alike",
    has_benign=True,
)
def _port_scan(ctx: Context) -> None:
    monitor, scanner, target = ctx.instance(2), ctx.instance(1), ctx.instance(0)
    for n, port in enumerate((22, 443, 5432, 6379, 9100)):
        tb = ctx.at(n * 2)
        for rec in conversation(ctx.rng, monitor, target.private_ip, port, tb):
            ctx.flow(rec, tb)
    ctx.label(monitor.private_ip, monitor.instance_id, ctx.at(0), benign=True)
    ports = ctx.rng.sample(range(1, 10000), 150)
    for n, port in enumerate(ports):
        t = ctx.at(1800 + n)
        rec = flow(
            scanner,
            scanner.private_ip,
            target.private_ip,
            40000 + n,
            port,
            t,
            packets=1,
            nbytes=44,
            action="REJECT",
            tcp_flags=SYN,
            seconds=1,
        )
        ctx.flow(rec, t)
    ctx.label(scanner.private_ip, scanner.instance_id, ctx.at(1800), remote_ip=target.private_ip)


@scenario(
    "ssh-brute-force",
    "UnauthorizedAccess:EC2/SSHBruteForce",
    "vpc-flow",
    "an outside host makes 120 short SSH connections; an admin's few long sessions from the "
    "office are the look-alike",
    has_benign=True,
)
def _ssh_brute(ctx: Context) -> None:
    inst = ctx.instance(0)
    office = ctx.person(1).ips[0]
    for n in range(3):
        tb = ctx.at(n * 600)
        for rec in conversation(ctx.rng, inst, office, 22, tb, inbound=True):
            rec["packets"], rec["bytes"] = rec["packets"] * 40, rec["bytes"] * 40
            ctx.flow(rec, tb)
    ctx.label(office, inst.instance_id, ctx.at(0), benign=True, remote_ip=office)
    attacker = ctx.outside_ip(2)
    for n in range(120):
        t = ctx.at(3600 + n * 4)
        sport = 30000 + n * 7
        ctx.flow(
            flow(
                inst,
                attacker,
                inst.private_ip,
                sport,
                22,
                t,
                packets=12,
                nbytes=2100,
                direction="ingress",
                tcp_flags=SYN | RST | 16,
                seconds=3,
            ),
            t,
        )
        ctx.flow(
            flow(
                inst,
                inst.private_ip,
                attacker,
                22,
                sport,
                t,
                packets=10,
                nbytes=2600,
                direction="egress",
                tcp_flags=18,
                seconds=3,
            ),
            t,
        )
    ctx.label(attacker, inst.instance_id, ctx.at(3600), remote_ip=attacker)


@scenario(
    "mining-pool-ip",
    "CryptoCurrency:EC2/BitcoinTool.B",
    "vpc-flow",
    "an instance keeps a stratum connection to a mining pool's IP",
    also=("Behavior:EC2/NetworkPortUnusual",),
)
def _mining_ip(ctx: Context) -> None:
    inst = ctx.instance(2)
    pool = MINING_POOL_IPS[0]
    for n in range(30):
        t = ctx.at(n * 60)
        rec = flow(
            inst,
            inst.private_ip,
            pool,
            45123,
            3333,
            t,
            packets=40,
            nbytes=6200,
            protocol=TCP,
            tcp_flags=16,
        )
        ctx.flow(rec, t)
        ctx.flow(
            flow(
                inst,
                pool,
                inst.private_ip,
                3333,
                45123,
                t,
                packets=38,
                nbytes=5100,
                direction="ingress",
                tcp_flags=16,
            ),
            t,
        )
    ctx.label(inst.private_ip, inst.instance_id, ctx.at(0), remote_ip=pool)
    if ctx.t0 >= ctx.start + timedelta(days=1):
        # Stratum's port 3333 is one the instance never used before: once there is a day of
        # history to compare with, that is an unusual-port finding too.
        unusual = ctx.spec.finding_types[1]
        ctx.label(
            inst.private_ip, inst.instance_id, ctx.at(0), remote_ip=pool, finding_type=unusual
        )


# --- DNS ---------------------------------------------------------------------------------


def _resolve(ctx: Context, n_inst: int, names: list[str], every: float, qtype: str = "A") -> None:
    inst = ctx.instance(n_inst)
    for n, name in enumerate(names):
        t = ctx.at(n * every)
        ctx.dns(dns_record(ctx.rng, ctx.world, inst, t, name, qtype=qtype), t)


def _dns_label(ctx: Context, n_inst: int, seconds: float, benign: bool = False) -> None:
    """DNS labels name the querying instance; the domain itself is in the records."""
    inst = ctx.instance(n_inst)
    ctx.label(inst.private_ip, inst.instance_id, ctx.at(seconds), benign=benign)


@scenario(
    "dns-c2",
    "Backdoor:EC2/C&CActivity.B!DNS",
    "dns",
    "an instance beacons to a command-and-control domain every minute",
)
def _dns_c2(ctx: Context) -> None:
    _resolve(ctx, 1, [C2_DOMAINS[0]] * 30, 60)
    _dns_label(ctx, 1, 0)


@scenario(
    "guardduty-tester-canary",
    "Backdoor:EC2/C&CActivity.B!DNS",
    "dns",
    "an instance resolves the GuardDuty tester's canary domain",
)
def _tester(ctx: Context) -> None:
    _resolve(ctx, 0, list(GUARDDUTY_TESTER_DOMAINS), 5, qtype="ANY")
    _dns_label(ctx, 0, 0)


@scenario(
    "dns-mining-pool",
    "CryptoCurrency:EC2/BitcoinTool.B!DNS",
    "dns",
    "an instance resolves mining pool domains",
)
def _dns_mining(ctx: Context) -> None:
    _resolve(ctx, 2, [MINING_DOMAINS[n % 2] for n in range(10)], 300)
    _dns_label(ctx, 2, 0)


def _dga_name(ctx: Context) -> str:
    letters = string.ascii_lowercase
    body = "".join(ctx.rng.choice(letters) for _ in range(ctx.rng.randrange(12, 20)))
    return f"{body}.{ctx.rng.choice(('com', 'net', 'info', 'biz', 'org'))}"


@scenario(
    "dns-dga",
    "Trojan:EC2/DGADomainRequest.B",
    "dns",
    "an instance tries 40 generated domains, nearly all unregistered; hashed CDN names are "
    "the look-alike",
    has_benign=True,
)
def _dga(ctx: Context) -> None:
    cdn = [f"d{hex_id(ctx.rng, 13)}.cloudfront.net" for _ in range(12)]
    _resolve(ctx, 2, cdn, 20)
    _dns_label(ctx, 2, 0, benign=True)
    inst = ctx.instance(1)
    for n in range(40):
        t = ctx.at(3600 + n * 3)
        rcode = "NOERROR" if n == 37 else "NXDOMAIN"  # the one the botmaster registered
        answers = [ip_in(ctx.rng, "192.0.2.128/26")] if rcode == "NOERROR" else []
        ctx.dns(
            dns_record(ctx.rng, ctx.world, inst, t, _dga_name(ctx), rcode=rcode, answers=answers), t
        )
    _dns_label(ctx, 1, 3600)


def _base32_chunk(ctx: Context, size: int) -> str:
    return "".join(ctx.rng.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(size))


@scenario(
    "dns-exfiltration",
    "Trojan:EC2/DNSDataExfiltration",
    "dns",
    "an instance sends data out in 80 long high-entropy labels; one long structured VPC "
    "endpoint name is the look-alike",
    has_benign=True,
)
def _dns_exfil(ctx: Context) -> None:
    region = ctx.world.region
    vpce = f"vpce-{hex_id(ctx.rng, 17)}-{_base32_chunk(ctx, 8)}.s3.{region}.vpce.amazonaws.com"
    _resolve(ctx, 0, [vpce], 1)
    _dns_label(ctx, 0, 0, benign=True)
    names = [
        f"{_base32_chunk(ctx, 60)}.{_base32_chunk(ctx, 40)}.{n:04x}.{EXFIL_DOMAIN}"
        for n in range(80)
    ]
    inst = ctx.instance(2)
    for n, name in enumerate(names):
        t = ctx.at(1800 + n * 2)
        ctx.dns(dns_record(ctx.rng, ctx.world, inst, t, name, qtype="TXT", answers=['"ok"']), t)
    _dns_label(ctx, 2, 1800)
