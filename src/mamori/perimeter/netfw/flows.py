"""VPC flow records through the policy, a whole Arrow batch at a time.

Each rule becomes a boolean column over the batch; rules are applied in the engine's order to
the records still open. Stateless rules see each record as it is (they see packets one way);
stateful rules see the connection, oriented client -> server (SYN without ACK marks the client,
SYN-ACK the server; without flags, the lower port below the ephemeral range is the server's).

What flow records cannot say is never guessed: a TCP-flag rule on a record without the flags it
inspects leaves that record UNDETERMINED; a stateful rule that needs the payload (an application
protocol, a content match) is not applied, and records whose header it matches, where it would
have been reached, are marked uncertain.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from mamori.perimeter.netfw.addresses import AddressColumn
from mamori.perimeter.netfw.model import (
    TRANSPORT_NUMBER,
    Action,
    Policy,
    StatefulRule,
    StatelessRule,
)
from mamori.perimeter.netfw.tally import DROP, OUTCOME_NAMES, PASS, REJECT, UNDETERMINED, Tally

SOURCE = "flows"
_STATELESS_CODE = {"aws:pass": PASS, "aws:drop": DROP, "aws:forward_to_sfe": -2}
_STATEFUL_CODE = {Action.PASS: PASS, Action.DROP: DROP, Action.REJECT: REJECT}
# What flow logs report of TCP flags: FIN, SYN, RST always; ACK only beside SYN (SYN-ACK).
_ALWAYS_SEEN = 1 | 2 | 4
_ACK = 16
_EPHEMERAL = 32768
_APP_TRANSPORT = {"tls": (6,), "http": (6,), "http2": (6,), "dns": (6, 17)}


def _true(rows: int) -> pa.Array:
    return pa.repeat(pa.scalar(True), rows)


def _false(rows: int) -> pa.Array:
    return pa.repeat(pa.scalar(False), rows)


def _count(mask: pa.Array) -> int:
    return int(pc.sum(pc.cast(mask, pa.int64())).as_py() or 0)


@dataclass
class _Batch:
    table: pa.Table
    src: AddressColumn
    dst: AddressColumn
    sport: pa.Array
    dport: pa.Array
    proto: pa.Array
    flags: pa.Array

    @property
    def rows(self) -> int:
        return self.table.num_rows


@dataclass
class _Sides:
    """The connection's client and server ends for every record."""

    client: AddressColumn
    server: AddressColumn
    client_port: pa.Array
    server_port: pa.Array


def _column(table: pa.Table, name: str) -> pa.Array:
    return table.column(name).combine_chunks()


def _stateless_match(rule: StatelessRule, batch: _Batch) -> tuple[pa.Array, pa.Array]:
    """(matches, cannot be decided) for every record."""
    hit = pc.and_(rule.sources.match(batch.src), rule.destinations.match(batch.dst))
    if rule.protocols is not None:
        hit = pc.and_(hit, pc.is_in(batch.proto, pa.array(sorted(rule.protocols), pa.int16())))
    if not rule.source_ports.is_any or not rule.destination_ports.is_any:
        # Ports are only TCP's and UDP's; AWS matches port conditions on those alone.
        ported = pc.is_in(batch.proto, pa.array([6, 17], pa.int16()))
        ports = pc.and_(
            rule.source_ports.match(batch.sport), rule.destination_ports.match(batch.dport)
        )
        hit = pc.and_(hit, pc.and_(ported, ports))
    hit = pc.fill_null(hit, False)
    unknown = _false(batch.rows)
    if rule.tcp_flags:
        tcp = pc.fill_null(pc.equal(batch.proto, 6), False)
        flags = pc.fill_null(batch.flags, -1)
        any_entry = _false(batch.rows)
        any_unknown = _false(batch.rows)
        # Flags flow logs never report cannot decide a match, but a reported flag that
        # contradicts the rule still rules it out.
        seen = pc.if_else(pc.equal(pc.bit_wise_and(flags, 2), 2), _ALWAYS_SEEN | _ACK, _ALWAYS_SEEN)
        present = pc.not_equal(flags, -1)
        for wanted, masks in rule.tcp_flags:
            visible = pc.bit_wise_and(seen, masks)
            agrees = pc.equal(pc.bit_wise_and(flags, visible), pc.bit_wise_and(visible, wanted))
            whole = pc.and_(present, pc.equal(visible, masks))
            any_entry = pc.or_(any_entry, pc.and_(whole, agrees))
            any_unknown = pc.or_(
                any_unknown, pc.or_(pc.invert(present), pc.and_(agrees, pc.invert(whole)))
            )
        # The flags are TCP's: other protocols are matched on the rest alone.
        flag_hit = pc.or_(pc.invert(tcp), any_entry)
        unknown = pc.and_(pc.and_(hit, tcp), pc.and_(pc.invert(any_entry), any_unknown))
        hit = pc.and_(hit, flag_hit)
    return hit, unknown


def _sides(batch: _Batch) -> _Sides:
    flags = pc.fill_null(batch.flags, 0)
    syn = pc.equal(pc.bit_wise_and(flags, 2), 2)
    synack = pc.equal(pc.bit_wise_and(flags, 18), 18)
    sport = pc.fill_null(batch.sport, 0)
    dport = pc.fill_null(batch.dport, 0)
    by_ports = pc.and_(
        pc.less(sport, dport),
        pc.and_(pc.less(sport, _EPHEMERAL), pc.greater_equal(dport, _EPHEMERAL)),
    )
    reply = pc.if_else(syn, synack, by_ports)
    texts_src = batch.src.texts
    texts_dst = batch.dst.texts
    return _Sides(
        client=AddressColumn(pc.if_else(reply, texts_dst, texts_src)),
        server=AddressColumn(pc.if_else(reply, texts_src, texts_dst)),
        client_port=pc.if_else(reply, batch.dport, batch.sport),
        server_port=pc.if_else(reply, batch.sport, batch.dport),
    )


def _header_match(rule: StatefulRule, batch: _Batch, sides: _Sides) -> pa.Array:
    if rule.protocol in TRANSPORT_NUMBER:
        hit = pc.fill_null(pc.equal(batch.proto, TRANSPORT_NUMBER[rule.protocol]), False)
    elif rule.protocol in _APP_TRANSPORT:
        hit = pc.is_in(batch.proto, pa.array(_APP_TRANSPORT[rule.protocol], pa.int16()))
    else:
        hit = _true(batch.rows)
    ends = [(sides.client, sides.client_port, sides.server, sides.server_port)]
    if rule.to_client:
        ends = [(sides.server, sides.server_port, sides.client, sides.client_port)]
    if rule.bidirectional:
        ends.append((ends[0][2], ends[0][3], ends[0][0], ends[0][1]))
    either = _false(batch.rows)
    for src, sport, dst, dport in ends:
        one = pc.and_(rule.source.match(src), rule.destination.match(dst))
        if not rule.source_ports.is_any or not rule.destination_ports.is_any:
            one = pc.and_(
                one, pc.and_(rule.source_ports.match(sport), rule.destination_ports.match(dport))
            )
        either = pc.or_(either, one)
    return pc.fill_null(pc.and_(hit, either), False)


def evaluate_batch(policy: Policy, table: pa.Table, tally: Tally) -> None:
    """One `flows` table through the policy, counted into `tally`."""
    status = _column(table, "log_status")
    usable = pc.and_(
        pc.fill_null(pc.equal(status, "OK"), True),
        pc.and_(pc.is_valid(_column(table, "src_addr")), pc.is_valid(_column(table, "dst_addr"))),
    )
    usable = pc.and_(usable, pc.is_valid(_column(table, "protocol")))
    tally.total(SOURCE, "records", table.num_rows)
    for name in ("evaluated", "forwarded_to_stateful", *OUTCOME_NAMES.values(), "alerted"):
        tally.total(SOURCE, name, 0)  # every total present, zero or not
    tally.total(SOURCE, "skipped_no_traffic", table.num_rows - _count(usable))
    table = table.filter(usable)
    if not table.num_rows:
        return
    batch = _Batch(
        table,
        AddressColumn(_column(table, "src_addr")),
        AddressColumn(_column(table, "dst_addr")),
        _column(table, "src_port"),
        _column(table, "dst_port"),
        _column(table, "protocol"),
        _column(table, "tcp_flags"),
    )
    rows = batch.rows
    tally.total(SOURCE, "evaluated", rows)
    outcome = pa.array([-1] * rows, pa.int8())
    decider = pa.array([""] * rows, pa.string())
    for rule in policy.stateless_rules():
        counts = tally.rule(
            SOURCE, rule.key, group=rule.group, engine="stateless", action=rule.action
        )
        open_ = pc.equal(outcome, -1)
        hit, unknown = _stateless_match(rule, batch)
        decided = pc.and_(open_, pc.and_(hit, pc.invert(unknown)))
        blocked = pc.and_(open_, unknown)
        counts.matched += _count(decided)
        outcome = pc.if_else(decided, _STATELESS_CODE[rule.action], outcome)
        outcome = pc.if_else(blocked, UNDETERMINED, outcome)
        decider = pc.if_else(pc.or_(decided, blocked), rule.key, decider)
    default_key = f"default:{policy.stateless_default}"
    open_ = pc.equal(outcome, -1)
    outcome = pc.if_else(open_, _STATELESS_CODE[policy.stateless_default], outcome)
    decider = pc.if_else(open_, default_key, decider)
    tally.rule(
        SOURCE, default_key, group="", engine="stateless-default", action=policy.stateless_default
    ).matched += _count(open_)
    forwarded = pc.equal(outcome, -2)
    tally.total(SOURCE, "forwarded_to_stateful", _count(forwarded))
    outcome, decider, alerted, alert_by, uncertain = _stateful(
        policy, batch, forwarded, outcome, decider, tally
    )
    _count_outcomes(tally, outcome, decider, alerted)
    _group_findings(tally, batch.table, outcome, decider, alerted, alert_by, uncertain)


def _stateful(
    policy: Policy,
    batch: _Batch,
    forwarded: pa.Array,
    outcome: pa.Array,
    decider: pa.Array,
    tally: Tally,
) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array, pa.Array]:
    rows = batch.rows
    alerted = _false(rows)
    alert_by = pa.array([""] * rows, pa.string())
    uncertain = _false(rows)
    open_ = forwarded
    if _count(forwarded):
        sides = _sides(batch)
        for rule in policy.stateful_rules():
            counts = tally.rule(
                SOURCE,
                rule.key,
                group=rule.group,
                engine="stateful",
                action=rule.action.value,
                description=rule.msg,
            )
            header = pc.and_(open_, _header_match(rule, batch, sides))
            if rule.needs_payload:
                uncertain = pc.or_(uncertain, header)
                continue
            counts.matched += _count(header)
            if rule.action is Action.ALERT:
                if not rule.noalert:
                    fresh = pc.and_(header, pc.invert(alerted))
                    alert_by = pc.if_else(fresh, rule.key, alert_by)
                    alerted = pc.or_(alerted, header)
                    counts.alerted += _count(header)
                continue
            outcome = pc.if_else(header, _STATEFUL_CODE[rule.action], outcome)
            decider = pc.if_else(header, rule.key, decider)
            open_ = pc.and_(open_, pc.invert(header))
    drop_default = next((a for a in policy.stateful_defaults if a.startswith("aws:drop")), None)
    alert_default = next((a for a in policy.stateful_defaults if a.startswith("aws:alert")), None)
    left = _count(open_)
    if alert_default and left:
        key = f"default:{alert_default}"
        tally.rule(
            SOURCE, key, group="", engine="stateful-default", action=alert_default
        ).alerted += left
        alert_by = pc.if_else(pc.and_(open_, pc.invert(alerted)), key, alert_by)
        alerted = pc.or_(alerted, open_)
    key = f"default:{drop_default}" if drop_default else "default:stateful-pass"
    tally.rule(
        SOURCE, key, group="", engine="stateful-default", action=drop_default or "PASS"
    ).matched += left
    outcome = pc.if_else(open_, DROP if drop_default else PASS, outcome)
    decider = pc.if_else(open_, key, decider)
    return outcome, decider, alerted, alert_by, uncertain


def _count_outcomes(tally: Tally, outcome: pa.Array, decider: pa.Array, alerted: pa.Array) -> None:
    grouped = (
        pa.table({"decider": decider, "outcome": outcome})
        .group_by(["decider", "outcome"])
        .aggregate([([], "count_all")])
    )
    for key, code, count in zip(
        grouped.column("decider").to_pylist(),
        grouped.column("outcome").to_pylist(),
        grouped.column("count_all").to_pylist(),
        strict=True,
    ):
        found = tally.rules[SOURCE].get(key)
        if found is not None:
            found.add_outcome(code, count)
        tally.total(SOURCE, OUTCOME_NAMES[code], count)
    tally.total(SOURCE, "alerted", _count(alerted))


def _group_findings(
    tally: Tally,
    table: pa.Table,
    outcome: pa.Array,
    decider: pa.Array,
    alerted: pa.Array,
    alert_by: pa.Array,
    uncertain: pa.Array,
) -> None:
    blocked = pc.or_(pc.equal(outcome, DROP), pc.equal(outcome, REJECT))
    for kind, mask, rule in (("drop", blocked, decider), ("alert", alerted, alert_by)):
        if not _count(mask):
            continue
        target = pc.binary_join_element_wise(
            _column(table, "dst_addr"),
            pc.cast(pc.fill_null(_column(table, "dst_port"), 0), pa.string()),
            ":",
        )
        part = pa.table(
            {
                "account": pc.fill_null(_column(table, "account_id"), ""),
                "region": pc.fill_null(_column(table, "region"), ""),
                "eni": pc.fill_null(_column(table, "interface_id"), ""),
                "instance": pc.fill_null(_column(table, "instance_id"), ""),
                "src": _column(table, "src_addr"),
                "rule": rule,
                "outcome": outcome,
                "target": target,
                "packets": pc.fill_null(_column(table, "packets"), 0),
                "bytes": pc.fill_null(_column(table, "bytes"), 0),
                "start": _column(table, "start_time"),
                "end": _column(table, "end_time"),
                "uncertain": pc.cast(uncertain, pa.int64()),
            }
        ).filter(mask)
        keys = ["account", "region", "eni", "instance", "src", "rule", "outcome", "target"]
        grouped = part.group_by(keys).aggregate(
            [
                ([], "count_all"),
                ("packets", "sum"),
                ("bytes", "sum"),
                ("start", "min"),
                ("end", "max"),
                ("uncertain", "sum"),
            ]
        )
        for row in grouped.to_pylist():
            what = "reject" if kind == "drop" and row["outcome"] == REJECT else kind
            if row["instance"]:
                resource = ("AwsEc2Instance", row["instance"])
            elif row["eni"]:
                resource = ("AwsEc2NetworkInterface", row["eni"])
            else:
                resource = ("Other", row["src"] or "unknown")
            key = (
                SOURCE,
                what,
                row["account"],
                row["region"],
                resource[0],
                resource[1],
                row["rule"],
            )
            tally.group(key).add(
                row["count_all"],
                row["packets_sum"] or 0,
                row["bytes_sum"] or 0,
                row["start_min"],
                row["end_max"],
                row["target"] or "",
                row["uncertain_sum"] or 0,
            )
