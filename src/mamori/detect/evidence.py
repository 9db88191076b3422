"""The evidence records of CloudTrail findings, with the fields an analyst checks first.

Rules return the ids of the records behind a finding (up to twenty, oldest first); here those
ids are looked up once for all findings of a run, so that a finding shows when, who, what, from
where and with what each call was, without anyone opening the raw logs. Flow and DNS evidence
ids already spell out their record (source > destination:port @ time).
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from mamori.core import Finding

_CLOUDTRAIL = frozenset({"cloudtrail", "s3-data"})
FIELDS = (
    "event_id",
    "event_time",
    "event_source",
    "event_name",
    "principal_arn",
    "access_key_id",
    "source_ip",
    "user_agent",
    "error_code",
    "region",
)


def _cloudtrail(finding: Finding) -> bool:
    return finding.product_fields.get("DataSource") in _CLOUDTRAIL


def attach_events(con: duckdb.DuckDBPyConnection, findings: list[Finding]) -> None:
    """Set `evidence["events"]` of every CloudTrail finding to its evidence records' key
    fields, in the order of `evidence["event_ids"]`; ids no longer in the logs are left out."""
    wanted = {i for f in findings if _cloudtrail(f) for i in f.evidence.get("event_ids", [])}
    if not wanted:
        return
    con.register("evidence_ids_", pa.table({"event_id": pa.array(sorted(wanted), pa.string())}))
    try:
        cols = ", ".join(f"e.{name}" for name in FIELDS)
        rows = con.sql(
            f"SELECT {cols} FROM events e SEMI JOIN evidence_ids_ w ON e.event_id = w.event_id"  # noqa: S608 - constants
        ).to_arrow_table()
    finally:
        con.unregister("evidence_ids_")
    by_id: dict[str, dict[str, Any]] = {}
    for row in rows.to_pylist():
        when = row["event_time"]
        row["event_time"] = when.isoformat() if when is not None else None
        # A record delivered twice (CloudTrail may) is the same evidence once.
        by_id.setdefault(row["event_id"], row)
    for finding in findings:
        if _cloudtrail(finding):
            ids = finding.evidence.get("event_ids", [])
            finding.evidence["events"] = [by_id[i] for i in ids if i in by_id]
