"""Resolver query logs through the stateful engine: each name a workload resolved stands in
for the TLS SNI and the HTTP Host of the connection that follows, and for the DNS query itself.

An inferred connection runs from the querying address to the answer addresses on the usual
port (443, 80, 53). What the log cannot say makes a rule UNDETERMINED for that connection
rather than a guess: a rule on the client's port, or on the server's address when the answer
had no address. Queries that did not resolve (NXDOMAIN...) are followed by no connection, so
they count only as DNS traffic.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from mamori.perimeter.netfw.addresses import Address, parse_address
from mamori.perimeter.netfw.model import (
    BUFFER_PROTOCOL,
    Action,
    Policy,
    StatefulRule,
)
from mamori.perimeter.netfw.tally import DROP, OUTCOME_NAMES, PASS, REJECT, UNDETERMINED, Tally

SOURCE = "dns"
# Application protocol -> (transport rule protocol, server port).
_KINDS = {"tls": ("tcp", 443), "http": ("tcp", 80), "dns": ("udp", 53)}
_CODE = {Action.PASS: PASS, Action.DROP: DROP, Action.REJECT: REJECT}


@dataclass(frozen=True)
class Connection:
    kind: str  # tls, http, dns
    name: str
    client: Address | None
    servers: tuple[Address, ...]


def kinds_in(policy: Policy) -> list[str]:
    """The application protocols the policy's rules look at by name."""
    found: set[str] = set()
    for rule in policy.stateful_rules():
        found.update(BUFFER_PROTOCOL[c.buffer] for c in rule.contents)
        if rule.protocol in _KINDS:
            found.add(rule.protocol)
    return sorted(found)


def _applies(rule: StatefulRule, conn: Connection) -> bool:
    if rule.protocol not in (conn.kind, "ip", _KINDS[conn.kind][0]):
        return False
    return all(
        BUFFER_PROTOCOL[c.buffer] == conn.kind and c.matches(conn.name) for c in rule.contents
    )


def _header(rule: StatefulRule, conn: Connection) -> bool | None:
    """Whether the header matches the connection; None when the log cannot say."""
    port = _KINDS[conn.kind][1]
    ends = [("client", "server")] if not rule.to_client else [("server", "client")]
    if rule.bidirectional:
        ends.append((ends[0][1], ends[0][0]))
    unknown = False
    for src, dst in ends:
        result = _side(rule.source, rule.source_ports, src, conn, port)
        if result is not False:
            other = _side(rule.destination, rule.destination_ports, dst, conn, port)
            if result is True and other is True:
                return True
            if other is not False:
                unknown = True
    return None if unknown else False


def _side(addresses: object, ports: object, end: str, conn: Connection, port: int) -> bool | None:
    from mamori.perimeter.netfw.addresses import AddressSet, PortSet

    assert isinstance(addresses, AddressSet) and isinstance(ports, PortSet)
    if end == "client":
        if not ports.is_any:
            return None  # the client's port is not in the query log
        if conn.client is None:
            return True if addresses.is_any else None
        return addresses.contains(conn.client)
    if not ports.contains(port):
        return False
    if addresses.is_any:
        return True
    if not conn.servers:
        return None
    return any(addresses.contains(server) for server in conn.servers)


def decide(policy: Policy, conn: Connection) -> tuple[int, str, str | None]:
    """(outcome, deciding rule key, first alerting rule key) of one inferred connection."""
    alert: str | None = None
    for rule in policy.stateful_rules():
        if not _applies(rule, conn):
            continue
        header = _header(rule, conn)
        if header is None:
            return UNDETERMINED, rule.key, alert
        if not header:
            continue
        if rule.action is Action.ALERT:
            if not rule.noalert and alert is None:
                alert = rule.key
            continue
        return _CODE[rule.action], rule.key, alert
    drop_default = next((a for a in policy.stateful_defaults if a.startswith("aws:drop")), None)
    alert_default = next((a for a in policy.stateful_defaults if a.startswith("aws:alert")), None)
    if alert_default and alert is None:
        alert = f"default:{alert_default}"
    if drop_default:
        return DROP, f"default:{drop_default}", alert
    return PASS, "default:stateful-pass", alert


def evaluate_table(policy: Policy, table: pa.Table, tally: Tally) -> None:
    """One `dns` table: its distinct (source, name, answers) evaluated once each."""
    kinds = kinds_in(policy)
    tally.total(SOURCE, "queries", table.num_rows)
    if not kinds or not table.num_rows:
        return
    for kind in kinds:
        for name in ("connections", *OUTCOME_NAMES.values(), "alerted"):
            tally.total(SOURCE, f"{kind}_{name}", 0)  # every total present, zero or not
    keyed = pa.table(
        {
            "account": pc.fill_null(table.column("account_id"), ""),
            "region": pc.fill_null(table.column("region"), ""),
            "instance": pc.fill_null(table.column("instance_id"), ""),
            "src": pc.fill_null(table.column("src_addr"), ""),
            "name": pc.fill_null(table.column("query_name"), ""),
            "rcode": pc.fill_null(table.column("rcode"), ""),
            "answers": pc.fill_null(pc.binary_join(table.column("answers"), " "), ""),
            "time": table.column("query_time"),
        }
    )
    keys = ["account", "region", "instance", "src", "name", "rcode", "answers"]
    grouped = keyed.group_by(keys).aggregate([([], "count_all"), ("time", "min"), ("time", "max")])
    for row in grouped.to_pylist():
        servers = tuple(
            a for a in (parse_address(t) for t in row["answers"].split()) if a is not None
        )
        for kind in kinds:
            if kind != "dns" and row["rcode"] != "NOERROR":
                continue  # no connection follows a name that did not resolve
            conn = Connection(kind, row["name"], parse_address(row["src"]), servers)
            outcome, decider, alert = decide(policy, conn)
            _count(tally, policy, row, kind, outcome, decider, alert)


def _count(
    tally: Tally,
    policy: Policy,
    row: dict[str, object],
    kind: str,
    outcome: int,
    decider: str,
    alert: str | None,
) -> None:
    count = int(row["count_all"])  # type: ignore[call-overload]
    tally.total(SOURCE, f"{kind}_connections", count)
    tally.total(SOURCE, f"{kind}_{OUTCOME_NAMES[outcome]}", count)
    counts = tally.rules.get(SOURCE, {}).get(decider) or tally.rule(
        SOURCE,
        decider,
        group="",
        engine="stateful-default",
        action=decider.removeprefix("default:"),
    )
    counts.add_outcome(outcome, count)
    counts.matched += count
    if alert is not None:
        tally.total(SOURCE, f"{kind}_alerted", count)
        alert_counts = tally.rules.get(SOURCE, {}).get(alert) or tally.rule(
            SOURCE,
            alert,
            group="",
            engine="stateful-default",
            action=alert.removeprefix("default:"),
        )
        alert_counts.alerted += count
        if alert != decider:
            alert_counts.matched += count
    instance, src = str(row["instance"]), str(row["src"])
    resource = ("AwsEc2Instance", instance) if instance else ("Other", src or "unknown")
    target = f"{kind}://{row['name']}"
    for what, rule in (("drop" if outcome == DROP else "reject", decider), ("alert", alert)):
        if rule is None or (what != "alert" and outcome not in (DROP, REJECT)):
            continue
        key = (
            SOURCE,
            what,
            str(row["account"]),
            str(row["region"]),
            resource[0],
            resource[1],
            rule,
        )
        tally.group(key).add(count, 0, 0, row["time_min"], row["time_max"], target, 0)  # type: ignore[arg-type]
