"""Tables a run computes once, before its rules, for the rules that share them.

- the behaviour baseline and `ip_info` (mamori.detect.baseline);
- `ip_trusted`: the addresses in the logs (CloudTrail callers, both sides of VPC flows, WAF
  clients) that
  fall inside a trusted network;
- `ip_intel`: those on a loaded threat list and in no trusted network, with the list's kind of
  threat.

Every rule that asks "is this caller trusted?" or "is this address on a list?" looks the address
up in these (a hash join) instead of matching it against every network of the lists: each
distinct address is parsed and matched once a run, not once per rule that asks (measured: half
a second a rule for the five flow rules on threat lists, a quarter of a second for each rule
that leaves trusted callers out of millions of flow records). Nothing is worked out when no
list is loaded.

Both engines see the same tables: DuckDB has them registered on its connection, and Spark is
handed them as DuckDB computed them (`handed_over`).
"""

# ruff: noqa: S608 - SQL assembled from constants written here

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from mamori.detect import baseline
from mamori.detect.baseline import DEFAULT_LEARNING
from mamori.detect.enrichment import Enrichment

IP_TRUSTED, IP_INTEL = "ip_trusted", "ip_intel"
_STR = pa.string()
SCHEMAS = {
    IP_TRUSTED: pa.schema([("ip", _STR)]),
    IP_INTEL: pa.schema([("ip", _STR), ("kind", _STR), ("list_name", _STR), ("threat", _STR)]),
}
# Every column a rule looks up in these tables (rules.base.not_trusted, the intel rules).
_ADDRESSES = (
    "SELECT source_ip AS ip FROM events UNION SELECT src_addr FROM flows"
    " UNION SELECT dst_addr FROM flows UNION SELECT client_ip FROM waf"
)
_SEEN = "seen_ip_"
# IPv4 entries match on their numeric range (a range join DuckDB runs without a cross product),
# others on the exact text, as the in_net macro does.
_INSIDE = (
    "SELECT s.ip, {cols} FROM seen_ip_ s JOIN {table} x ON s.n >= x.net_lo AND s.n <= x.net_hi"
    " UNION SELECT s.ip, {cols} FROM seen_ip_ s JOIN {table} x"
    " ON x.net_lo IS NULL AND lower(s.ip) = lower(x.network)"
)
_TRUSTED = _INSIDE.format(cols="NULL AS unused_", table="trusted_ip")
_INTEL = (
    "SELECT * FROM (SELECT ip, intel_kind(list_name, threat) AS kind, list_name, threat FROM ("
    + _INSIDE.format(cols="x.list_name, x.threat", table="intel_ip")
    + ") hit) h WHERE kind IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM ip_trusted t WHERE t.ip = h.ip)"
)


def prepare(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path | None,
    enrichment: Enrichment | None = None,
    *,
    learning: timedelta = DEFAULT_LEARNING,
) -> None:
    """Register every run table on the connection, which has the log and intel tables: the
    baseline is updated with the connection's `events` and kept under `data_dir` (with None,
    learned from these events alone and not kept)."""
    info = baseline.register_ip_info(con, enrichment)
    baseline.update(con, data_dir, learning=learning)
    if data_dir is not None:
        baseline.keep_ip_info(data_dir, info)
    _address_tables(con)


def _address_tables(con: duckdb.DuckDBPyConnection) -> None:
    [(entries,)] = con.sql(
        "SELECT (SELECT count(*) FROM intel_ip) + (SELECT count(*) FROM trusted_ip)"
    ).fetchall()
    if not entries:
        for name, schema in SCHEMAS.items():
            con.register(name, schema.empty_table())
        return
    seen = con.sql(
        f"SELECT DISTINCT ip, ip4_num(ip) AS n FROM ({_ADDRESSES}) a WHERE ip IS NOT NULL"
    ).to_arrow_table()
    con.register(_SEEN, seen)
    try:
        trusted = con.sql(f"SELECT DISTINCT ip FROM ({_TRUSTED}) t").to_arrow_table()
        con.register(IP_TRUSTED, trusted.cast(SCHEMAS[IP_TRUSTED]))
        intel = con.sql(f"SELECT DISTINCT * FROM ({_INTEL}) i").to_arrow_table()
        con.register(IP_INTEL, intel.cast(SCHEMAS[IP_INTEL]))
    finally:
        con.unregister(_SEEN)


def handed_over(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    """The run tables of a prepared connection, for another engine to register as they are."""
    names = [*baseline.TABLES, *SCHEMAS]
    return {name: con.table(name).to_arrow_table() for name in names}
