"""Per-principal behaviour baselines, kept as tables across runs.

What each principal has done successfully (APIs, source networks, ASNs and countries where an
MMDB file is given, user-agent families, active hours) is one row per (account, principal,
dimension, value) with when it was first and last seen. Anomaly rules ask "has this principal
done X before this record?" as an anti-join on `baseline_activity`; `baseline_principal` says
when a principal's learning period ends.

The tables are Parquet files under `<data_dir>/baseline/`, merged with what the current logs
show at the start of every run: the earliest sighting wins, so a baseline outlives the log
records it was learned from (a later run with `--since`, or over a pruned log store, still knows
what was normal). A role's sessions share their role's baseline: session names change with every
assumption.
"""

# ruff: noqa: S608 - SQL assembled from constants written here; paths are quoted

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from mamori.core import InputError
from mamori.detect.enrichment import ENRICHMENT_SCHEMA, Enrichment

_TS = pa.timestamp("us", tz="UTC")
ACTIVITY = pa.schema(
    [
        ("account_id", pa.string()),
        ("principal", pa.string()),
        ("dim", pa.string()),  # api | net | asn | country | agent | hour
        ("value", pa.string()),
        ("first_seen", _TS),
        ("last_seen", _TS),
        ("events", pa.int64()),  # records behind the row in the largest recount
    ]
)
PRINCIPALS = pa.schema(
    [
        ("account_id", pa.string()),
        ("principal", pa.string()),
        ("first_seen", _TS),
        ("last_seen", _TS),
        ("learned_at", _TS),  # first_seen + the learning period of the run that wrote it
    ]
)
# Table name -> schema, for engines that register every table a rule may read.
TABLES = {
    "baseline_activity": ACTIVITY,
    "baseline_principal": PRINCIPALS,
    "ip_info": ENRICHMENT_SCHEMA,
}
DEFAULT_LEARNING = timedelta(days=7)
SETTLE = "INTERVAL 1 DAY"  # how long after its first use a place or client counts as known

# Whose baseline a CloudTrail record adds to: the role for a role session, else the caller.
PRINCIPAL = "coalesce(e.session_issuer_arn, e.principal_arn)"
API = "e.event_source || ':' || e.event_name"


def agent_family(column: str) -> str:
    """The product at the head of a user agent ("aws-cli/2.15 Python/3.11" -> "aws-cli"), so
    that a version upgrade is not new behaviour."""
    return f"lower(regexp_extract(coalesce({column}, ''), '^\\[?([A-Za-z][A-Za-z0-9_.-]*)', 1))"


# The record columns each dimension is worked out from, aggregated on first: a million events
# hold a few thousand distinct addresses, agents and hours, so the regexes and the time zone
# arithmetic run on those, not on every record (measured 0.75 s -> 0.2 s for 1M events).
_RAW = {
    "api": API,
    "ip": "e.source_ip",
    "agent": "e.user_agent",
    "hour": "time_floor(e.event_time, 3600000000)",
}


def _dims() -> list[tuple[str, str, str, str]]:
    """(dimension, raw column of _RAW, value expression over `raw` and `i` (ip_info),
    condition)."""
    return [
        ("api", "api", "raw", "true"),
        ("net", "ip", "net24(raw)", "is_ip(raw)"),
        ("asn", "ip", "'AS' || CAST(i.asn AS VARCHAR)", "i.asn IS NOT NULL"),
        ("country", "ip", "i.country", "i.country IS NOT NULL"),
        ("agent", "agent", agent_family("raw"), "raw IS NOT NULL"),
        ("hour", "hour", "CAST(hour(raw) AS VARCHAR)", "true"),
    ]


def _current_sql() -> str:
    """This run's logs, aggregated per (account, principal, dimension, value)."""
    ctes = ", ".join(
        f"raw_{name} AS (SELECT e.account_id, {PRINCIPAL} AS principal, {column} AS raw,"
        " min(e.event_time) AS first_seen, max(e.event_time) AS last_seen, count(*) AS events"
        f" FROM events e WHERE e.error_code IS NULL AND {PRINCIPAL} IS NOT NULL"
        " AND e.account_id IS NOT NULL GROUP BY ALL)"
        for name, column in _RAW.items()
    )
    parts = [
        f"SELECT r.account_id, r.principal, '{dim}' AS dim, CAST({value} AS VARCHAR) AS value,"
        f" r.first_seen, r.last_seen, r.events FROM raw_{raw} r"
        + (" LEFT JOIN ip_info i ON i.ip = r.raw" if raw == "ip" else "")
        + f" WHERE {cond}"
        for dim, raw, value, cond in _dims()
    ]
    return (
        f"WITH {ctes} SELECT account_id, principal, dim, value, min(first_seen) AS first_seen,"
        " max(last_seen) AS last_seen, CAST(sum(events) AS BIGINT) AS events FROM ("
        + " UNION ALL ".join(parts)
        + ") x WHERE value IS NOT NULL AND value <> '' GROUP BY account_id, principal, dim, value"
    )


def _merged_sql(old: str) -> str:
    keys = "account_id, principal, dim, value"
    return (
        f"SELECT {keys}, min(first_seen) AS first_seen, max(last_seen) AS last_seen,"
        f" max(events) AS events FROM (SELECT * FROM ({_current_sql()}) c"
        f" UNION ALL BY NAME SELECT * FROM {old}) GROUP BY {keys}"
    )


def baseline_dir(data_dir: Path) -> Path:
    return data_dir / "baseline"


def register_ip_info(con: duckdb.DuckDBPyConnection, enrichment: Enrichment | None) -> pa.Table:
    """`ip_info`: country, AS and AWS service of every source address in the events (empty
    without enrichment files)."""
    if enrichment is None:
        table = ENRICHMENT_SCHEMA.empty_table()
    else:
        ips = con.sql("SELECT DISTINCT source_ip FROM events WHERE is_ip(source_ip)")
        table = enrichment.table(ip for (ip,) in ips.fetchall())
    con.register("ip_info", table)
    return table


def keep_ip_info(data_dir: Path, info: pa.Table) -> None:
    """Beside the baseline, so that an engine reading files (Spark) finds it too."""
    _write(baseline_dir(data_dir) / "ip_info.parquet", info)


def update(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path | None,
    *,
    learning: timedelta = DEFAULT_LEARNING,
) -> dict[str, pa.Table]:
    """Merge what the connection's `events` show into the stored baseline, write it back and
    register both tables on the connection. `ip_info` must be registered already."""
    folder = baseline_dir(data_dir) if data_dir is not None else None
    old = _stored(folder / "activity.parquet", ACTIVITY) if folder else ACTIVITY.empty_table()
    con.register("baseline_old_", old)
    activity = con.sql(_merged_sql("baseline_old_")).to_arrow_table().cast(ACTIVITY)
    con.unregister("baseline_old_")
    con.register("baseline_activity", activity)
    principals = (
        con.sql(
            "SELECT account_id, principal, min(first_seen) AS first_seen,"
            " max(last_seen) AS last_seen, min(first_seen) + to_microseconds("
            f"{int(learning.total_seconds() * 1_000_000)}) AS learned_at"
            " FROM baseline_activity GROUP BY account_id, principal"
        )
        .to_arrow_table()
        .cast(PRINCIPALS)
    )
    con.register("baseline_principal", principals)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        _write(folder / "activity.parquet", activity)
        _write(folder / "principals.parquet", principals)
    return {"baseline_activity": activity, "baseline_principal": principals}


def register_stored(con: duckdb.DuckDBPyConnection, data_dir: Path) -> None:
    """The stored baseline as it is (for a run that does not update it)."""
    folder = baseline_dir(data_dir)
    con.register("baseline_activity", _stored(folder / "activity.parquet", ACTIVITY))
    con.register("baseline_principal", _stored(folder / "principals.parquet", PRINCIPALS))


def files(data_dir: Path) -> dict[str, Path]:
    """Table name -> the file `prepare` keeps it in."""
    folder = baseline_dir(data_dir)
    return {
        "baseline_activity": folder / "activity.parquet",
        "baseline_principal": folder / "principals.parquet",
        "ip_info": folder / "ip_info.parquet",
    }


def _stored(path: Path, schema: pa.Schema) -> pa.Table:
    if not path.exists():
        return schema.empty_table()
    try:
        return pq.read_table(path, schema=schema)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(
            f"{path}: the stored behaviour baseline cannot be read ({exc}); move it away to"
            " learn a new one"
        ) from None


def _write(path: Path, table: pa.Table) -> None:
    # Written aside and renamed: a crash mid-write never leaves half a baseline.
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)
