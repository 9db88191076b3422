"""Findings linked to the entities they name: their actor, resources, account, the caller,
key, address and agent of each evidence record, and the addresses, agents, instances and
domains of their detail.

Every value a finding holds came from a log or a report and is only ever data here: it is kept
if it is text of a sane length, classified by the same SQL as the logs' values, and compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import duckdb
import pyarrow as pa

from mamori.core import Finding
from mamori.investigate.kinds import MAX_ID, RESOURCE_TYPE_KINDS, Kind
from mamori.investigate.tables import FINDING_LINKS

# Evidence record fields -> the kind they must be (None: whatever the value is), or must be
# taken as (force: user agents have no shape of their own).
_EVENT_FIELDS: dict[str, tuple[Kind | None, bool]] = {
    "principal_arn": (None, False),
    "access_key_id": (Kind.ACCESS_KEY, False),
    "source_ip": (Kind.IP, False),  # else a service name, which is no entity
    "user_agent": (Kind.USER_AGENT, True),
}
_DETAIL_FIELDS: dict[str, tuple[Kind | None, bool]] = {
    "source_ips": (Kind.IP, False),
    "destinations": (Kind.IP, False),
    "user_agents": (Kind.USER_AGENT, True),
    "instance_id": (Kind.INSTANCE, False),
    "role": (None, False),
    "domains": (Kind.DOMAIN, True),
}


@dataclass(frozen=True)
class _Candidate:
    finding_id: str
    value: str
    via: str
    kind: str | None  # what it must be
    force: bool  # taken as `kind` whatever its shape


_CANDIDATES = pa.schema(
    [
        ("finding_id", pa.string()),
        ("value", pa.string()),
        ("via", pa.string()),
        ("kind", pa.string()),
        ("force", pa.bool_()),
    ]
)
_FINDINGS = pa.schema(
    [
        (name, FINDING_LINKS.field(name).type)
        for name in FINDING_LINKS.names
        if name not in ("kind", "id", "via")
    ]
)


def _texts(value: Any) -> Iterator[str]:
    values = value if isinstance(value, list) else [value]
    for item in values:
        if isinstance(item, str) and 0 < len(item) <= MAX_ID:
            yield item


def _candidates(finding: Finding) -> Iterator[_Candidate]:
    fid = finding.id
    yield from (
        _Candidate(fid, v, "account", Kind.ACCOUNT, False) for v in _texts(finding.account_id)
    )
    evidence = finding.evidence if isinstance(finding.evidence, dict) else {}
    for value in _texts(evidence.get("actor")):
        yield _Candidate(fid, value, "actor", None, False)
    for resource in finding.resources:
        hint = RESOURCE_TYPE_KINDS.get(resource.type)
        for value in _texts(resource.id):
            yield _Candidate(fid, value, "resource", hint, hint is not None)
    events = evidence.get("events")
    for event in events if isinstance(events, list) else []:
        if not isinstance(event, dict):
            continue
        for field, (kind, force) in _EVENT_FIELDS.items():
            for value in _texts(event.get(field)):
                yield _Candidate(fid, value, "evidence", kind, force)
    detail = evidence.get("detail")
    if isinstance(detail, dict):
        for field, (kind, force) in _DETAIL_FIELDS.items():
            for value in _texts(detail.get(field)):
                yield _Candidate(fid, value, "detail", kind, force)


def _finding_row(finding: Finding) -> dict[str, Any]:
    return {
        "finding_id": finding.id,
        "generator_id": finding.generator_id,
        "title": finding.title,
        "severity": finding.severity.label.value,
        "severity_score": finding.severity.normalized,
        "account_id": finding.account_id,
        "region": finding.region,
        "first_seen": finding.first_observed_at,
        "last_seen": finding.last_observed_at,
        "count": finding.count,
    }


# The kind each candidate is (forced, or classified), kept if it is what its field must be.
_CLASSIFY = """
WITH c AS (
    SELECT finding_id, value, via, CASE WHEN force THEN kind ELSE inv_kind(value) END AS k,
        kind AS expected
    FROM inv_candidates
), linked AS (
    SELECT finding_id, k AS kind, inv_id(value, k) AS id, min(via) AS via
    FROM c WHERE k IS NOT NULL AND (expected IS NULL OR k = expected)
    GROUP BY ALL
)
SELECT l.finding_id, l.kind, l.id, l.via, f.* EXCLUDE (finding_id)
FROM linked l JOIN inv_findings f USING (finding_id)
WHERE coalesce(l.id, '') <> ''
ORDER BY l.kind, l.id, l.finding_id
"""


def link_rows(con: duckdb.DuckDBPyConnection, findings: Iterable[Finding]) -> pa.Table:
    """The finding links of `findings` (FINDING_LINKS), classified on `con` (see db.connect)."""
    chosen = list(findings)
    candidates = [asdict(c) for f in chosen for c in _candidates(f)]
    con.register("inv_candidates", pa.Table.from_pylist(candidates, schema=_CANDIDATES))
    con.register(
        "inv_findings", pa.Table.from_pylist([_finding_row(f) for f in chosen], schema=_FINDINGS)
    )
    try:
        rows = con.sql(_CLASSIFY).to_arrow_table()
    finally:
        con.unregister("inv_candidates")
        con.unregister("inv_findings")
    return rows.select(FINDING_LINKS.names).cast(FINDING_LINKS)


def merged_links(
    con: duckdb.DuckDBPyConnection, old: pa.Table, new: pa.Table, *, replace_all: bool = False
) -> pa.Table:
    """The stored links with every finding of `new` replaced by its new links (a finding's
    evidence is its latest); with `replace_all`, `new` alone (a full re-read of the hub)."""
    if replace_all:
        return new
    con.register("inv_links_old", old)
    con.register("inv_links_new", new)
    try:
        return (
            con.sql(
                "SELECT * FROM inv_links_old o WHERE NOT EXISTS (SELECT 1 FROM inv_links_new n"
                " WHERE n.finding_id = o.finding_id) UNION ALL SELECT * FROM inv_links_new"
                " ORDER BY kind, id, finding_id"
            )
            .to_arrow_table()
            .cast(FINDING_LINKS)
        )
    finally:
        con.unregister("inv_links_old")
        con.unregister("inv_links_new")
