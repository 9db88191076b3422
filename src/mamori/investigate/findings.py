"""The findings that name an entity: the detection findings linked when the graph was built,
brought up to date from the hub when one is given, and the hub's other findings (posture,
identity, imports) whose resource is the entity, found by a search of the hub."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mamori.core import Finding
from mamori.investigate.kinds import Kind
from mamori.investigate.links import link_rows
from mamori.investigate.model import RelatedFinding

if TYPE_CHECKING:
    from mamori.hub import Store
    from mamori.investigate.graph import Graph

MAX_FINDINGS = 100
_SEARCHED = 200  # hub findings whose title or resource holds the id, checked one by one
# What a hub search by text can find: entities findings name as their resource.
_SEARCHABLE = frozenset(
    {
        Kind.USER,
        Kind.ROLE,
        Kind.ROOT,
        Kind.SESSION,
        Kind.ACCESS_KEY,
        Kind.BUCKET,
        Kind.INSTANCE,
        Kind.RESOURCE,
        Kind.DOMAIN,
        Kind.IP,
    }
)


def related_findings(
    graph: Graph, kind: Kind, eid: str, store: Store | None
) -> list[RelatedFinding]:
    """Worst first, then latest first; at most MAX_FINDINGS."""
    if kind is Kind.FINDING:
        rows = graph.rows("SELECT * FROM finding_links WHERE finding_id = $1 LIMIT 1", [eid])
        found = {r["finding_id"]: _from_link(r, [r["via"]]) for r in rows}
    else:
        rows = graph.rows(
            "SELECT *, list(DISTINCT via ORDER BY via) OVER (PARTITION BY finding_id) AS vias"
            " FROM finding_links WHERE kind = $1 AND id = $2 ORDER BY finding_id",
            [kind.value, eid],
        )
        found = {r["finding_id"]: _from_link(r, r["vias"]) for r in rows}
    if store is not None:
        _refresh(found, store, kind, eid)
        if kind in _SEARCHABLE:
            _search(graph, found, store, kind, eid)
    ordered = sorted(
        found.values(),
        key=lambda f: (-f.severity_score, -(f.last_seen.timestamp() if f.last_seen else 0), f.id),
    )
    return ordered[:MAX_FINDINGS]


def _from_link(row: dict[str, Any], via: list[str]) -> RelatedFinding:
    return RelatedFinding(
        id=row["finding_id"],
        generator_id=row["generator_id"],
        title=row["title"],
        severity=row["severity"],
        severity_score=row["severity_score"],
        account_id=row["account_id"],
        region=row["region"],
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
        count=row["count"],
        via=via,
    )


def _from_finding(finding: Finding, via: list[str]) -> RelatedFinding:
    return RelatedFinding(
        id=finding.id,
        generator_id=finding.generator_id,
        title=finding.title,
        severity=finding.severity.label.value,
        severity_score=finding.severity.normalized,
        account_id=finding.account_id,
        region=finding.region,
        first_seen=finding.first_observed_at,
        last_seen=finding.last_observed_at,
        count=finding.count,
        via=via,
        source=finding.source,
        workflow=finding.workflow.status.value,
        record_state=finding.record_state.value,
    )


def _refresh(found: dict[str, RelatedFinding], store: Store, kind: Kind, eid: str) -> None:
    """The linked findings as the hub has them now (workflow, counts, last seen)."""
    ids = list(found) if kind is not Kind.FINDING else [eid]
    for fid in ids:
        current = store.get(fid)
        if current is not None:
            via = found[fid].via if fid in found else ["id"]
            found[fid] = _from_finding(current, via)


def _search(
    graph: Graph, found: dict[str, RelatedFinding], store: Store, kind: Kind, eid: str
) -> None:
    from mamori.hub import FindingFilter

    candidates = store.list_findings(
        FindingFilter(text=eid, record_state=None), limit=_SEARCHED, order="-last_observed_at"
    )
    fresh = [f for f in candidates if f.id not in found]
    if not fresh:
        return
    links = link_rows(graph.con, fresh).to_pylist()
    named: dict[str, list[str]] = {}
    for link in links:
        if link["kind"] == kind.value and link["id"] == eid:
            named.setdefault(link["finding_id"], []).append(link["via"])
    for finding in fresh:
        if finding.id in named:
            found[finding.id] = _from_finding(finding, sorted(set(named[finding.id])))
