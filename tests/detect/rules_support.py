"""Test support for detection rules: rows as dicts -> Arrow tables with schema.py's schemas ->
an in-memory DuckDB with the macros, the way the engine prepares it."""

from __future__ import annotations

import ipaddress
import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from mamori.detect import run_tables
from mamori.detect.readers.scope import ip_scope
from mamori.detect.rules import MACROS, RULES
from mamori.detect.schema import DNS, EVENTS, FLOWS, INTEL_DOMAIN, INTEL_IP, TRUSTED_IP, WAF

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "999988887777"
DAY1 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
DAY3 = datetime(2024, 5, 3, 10, 0, tzinfo=UTC)
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
OFFICE_IP = "198.51.100.10"
LEARNING = timedelta(days=1)  # principals first seen on DAY1 are judged on DAY3
_RANGE = [("net_lo", pa.int64()), ("net_hi", pa.int64())]
_ids = itertools.count(1)


def ev(name: str, source: str = "iam.amazonaws.com", **kw: Any) -> dict[str, Any]:
    """A CloudTrail row: alice (IAM user) from the office calling `name`, on day 3."""
    row: dict[str, Any] = {
        "event_id": f"ev-{next(_ids):06d}",
        "event_time": DAY3,
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "event_source": source,
        "event_name": name,
        "event_type": "AwsApiCall",
        "read_only": False,
        "management_event": True,
        "principal_type": "IAMUser",
        "principal_arn": ALICE,
        "principal_account": ACCOUNT,
        "principal_name": "alice",
        "access_key_id": "AKIAALICE",
        "source_ip": OFFICE_IP,
        "user_agent": "aws-cli/2.15.0 Python/3.11 Linux/6.1 exe/x86_64.ubuntu.22",
    }
    for key in ("request_parameters", "response_elements", "additional_event_data"):
        if key in kw and not isinstance(kw[key], str | None):
            kw[key] = json.dumps(kw[key])
    row.update(kw)
    return row


def role_ev(name: str, role: str, session: str, **kw: Any) -> dict[str, Any]:
    """A row from an assumed-role session."""
    base = {
        "principal_type": "AssumedRole",
        "principal_arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
        "principal_name": role,
        "session_issuer_arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
        "session_name": session,
        "access_key_id": f"ASIA{session.upper()[:12]}",
    }
    return ev(name, **{**base, **kw})


def warmup() -> dict[str, Any]:
    """A benign first-day record, so baseline rules see a learning period."""
    return ev("ListUsers", read_only=True, event_time=DAY1)


def flow(src: str, dst: str, dst_port: int, **kw: Any) -> dict[str, Any]:
    start = kw.pop("start_time", DAY3)
    row: dict[str, Any] = {
        "version": 2,
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "interface_id": "eni-0abc",
        "instance_id": "i-0123456789abcdef0",
        "src_addr": src,
        "dst_addr": dst,
        "src_port": 40000,
        "dst_port": dst_port,
        "protocol": 6,
        "packets": 10,
        "bytes": 840,
        "start_time": start,
        "end_time": start + timedelta(seconds=60),
        "action": "ACCEPT",
        "log_status": "OK",
    }
    row.update(kw)
    return row


def dns(name: str, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "query_time": DAY3,
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "vpc_id": "vpc-0abc",
        "query_name": name,
        "query_type": "A",
        "query_class": "IN",
        "rcode": "NOERROR",
        "answers": ["192.0.2.1"],
        "src_addr": "10.0.1.15",
        "src_port": 53000,
        "transport": "UDP",
        "instance_id": "i-0123456789abcdef0",
    }
    row.update(kw)
    return row


def _ranged(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        net = ipaddress.ip_network(row["network"], strict=False)
        v4 = net.version == 4
        lo, hi = (int(net.network_address), int(net.broadcast_address)) if v4 else (None, None)
        out.append({**row, "net_lo": lo, "net_hi": hi})
    return out


def table_of(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """Rows as a table of `schema`; for flows with the address scopes the reader works out."""
    table = pa.Table.from_pylist(
        [{name: row.get(name) for name in schema.names} for row in rows], schema=schema
    )
    for side in ("src", "dst"):
        if f"{side}_scope" in schema.names:
            i = schema.get_field_index(f"{side}_scope")
            table = table.set_column(i, f"{side}_scope", ip_scope(table[f"{side}_addr"]))
    return table


def connection(
    *,
    events: list[dict[str, Any]] = (),  # type: ignore[assignment]
    flows: list[dict[str, Any]] = (),  # type: ignore[assignment]
    dns_rows: list[dict[str, Any]] = (),  # type: ignore[assignment]
    waf: list[dict[str, Any]] = (),  # type: ignore[assignment]
    intel_ip: list[dict[str, Any]] = (),  # type: ignore[assignment]
    intel_domain: list[dict[str, Any]] = (),  # type: ignore[assignment]
    trusted: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.register("events", table_of(list(events), EVENTS.schema))
    con.register("flows", table_of(list(flows), FLOWS.schema))
    con.register("dns", table_of(list(dns_rows), DNS.schema))
    con.register("waf", table_of(list(waf), WAF.schema))
    con.register("intel_ip", table_of(_ranged(list(intel_ip)), pa.schema([*INTEL_IP, *_RANGE])))
    con.register("intel_domain", table_of(list(intel_domain), INTEL_DOMAIN))
    con.register("trusted_ip", table_of(_ranged(list(trusted)), pa.schema([*TRUSTED_IP, *_RANGE])))
    for macro in MACROS:
        con.execute(macro)
    run_tables.prepare(con, None, learning=LEARNING)
    return con


def run(finding_type: str, **tables: Any) -> list[dict[str, Any]]:
    """The rule's result rows, sorted by resource and actor."""
    con = connection(**tables)
    rows = con.sql(RULES[finding_type].sql).to_arrow_table().to_pylist()
    return sorted(rows, key=lambda r: (str(r["resource_id"]), str(r["actor"])))


def summary(rows: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(r["resource_id"], r["actor"], r["event_count"]) for r in rows]
