"""Tables a run computes once, before its rules, for the rules that share them.

- the behaviour baseline and `ip_info` (mamori.detect.baseline);
- `flow_intel`: the addresses seen in VPC flows (either side) that are on a loaded threat list
  and inside no trusted network, with the list's kind of threat. Five flow rules ask it; each
  working out the distinct addresses of millions of flows itself measured half a second a rule.

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
from mamori.detect.rules.base import intel_hits

FLOW_INTEL = "flow_intel"
FLOW_INTEL_SCHEMA = pa.schema(
    [
        ("ip", pa.string()),
        ("kind", pa.string()),
        ("list_name", pa.string()),
        ("threat", pa.string()),
    ]
)
# Only when a list was loaded: the distinct addresses are most of the cost.
_FLOW_ADDRESSES = (
    "SELECT src_addr AS ip FROM flows WHERE EXISTS (SELECT 1 FROM intel_ip)"
    " UNION SELECT dst_addr AS ip FROM flows WHERE EXISTS (SELECT 1 FROM intel_ip)"
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
    hits = con.sql(
        f"WITH {intel_hits('hits', _FLOW_ADDRESSES)}"
        " SELECT DISTINCT ip, kind, list_name, threat FROM hits"
    ).to_arrow_table()
    con.register(FLOW_INTEL, hits.cast(FLOW_INTEL_SCHEMA))


def handed_over(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    """The run tables of a prepared connection, for another engine to register as they are."""
    names = [*baseline.TABLES, FLOW_INTEL]
    return {name: con.table(name).to_arrow_table() for name in names}
