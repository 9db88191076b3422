"""An entity's profile (Detective's profile panels): when it was first and last seen, its API
calls by service per day, the entities related to it (ranked), what it did or met for the first
time in the last days against its earlier history, and the findings that name it."""

# ruff: noqa: S608 - SQL assembled from constants written here; values are bound

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from mamori.core import InputError
from mamori.investigate.findings import related_findings
from mamori.investigate.kinds import ACTORS, Kind, checked_id, label, parse_kind
from mamori.investigate.model import (
    ApiUse,
    DailyCalls,
    Entity,
    NewBehaviour,
    NewItem,
    Profile,
    Related,
    RelatedFinding,
    RelationCount,
)

if TYPE_CHECKING:
    from mamori.hub import Store
    from mamori.investigate.graph import Graph

DEFAULT_DAYS = 7.0
_MAX_NEW = 200  # new-behaviour items shown; a wholly new entity has nothing but
_MAX_APIS = 200
_FINDING_RELATION = "involves"

# Every entity related to the profiled one ($1 kind, $2 id), both ways round.
_RELATED = """
SELECT relation, 'out' AS direction, dst_kind AS kind, dst_id AS id, first_seen, last_seen,
    records, failures
FROM edges WHERE src_kind = $1 AND src_id = $2
UNION ALL
SELECT relation, 'in', src_kind, src_id, first_seen, last_seen, records, failures
FROM edges WHERE dst_kind = $1 AND dst_id = $2
"""


def profile(
    graph: Graph,
    kind: str,
    entity_id: str,
    *,
    days: float = DEFAULT_DAYS,
    limit: int = 10,
    store: Store | None = None,
) -> Profile:
    """The profile of one entity. `days`: the new-behaviour window, ending at the entity's
    last sighting; `limit`: related entities shown per relation; `store`: the hub, for the
    findings' current workflow and for findings of other sources that name the entity."""
    chosen = parse_kind(kind)
    eid = checked_id(chosen, entity_id)
    if days <= 0:
        raise InputError(f"days: {days!r} must be more than 0")
    findings = related_findings(graph, chosen, eid, store)
    if chosen is Kind.FINDING:
        return _finding_profile(graph, eid, findings)
    rows = graph.rows("SELECT * FROM entities WHERE kind = $1 AND id = $2", [chosen.value, eid])
    built = graph.state.built_at
    if not rows:
        entity = Entity(kind=chosen.value, id=eid, label=label(chosen, eid))
        return Profile(
            entity=entity,
            seen=False,
            message=_not_seen(graph, chosen, eid, len(findings)),
            graph_built_at=built,
            findings=findings,
        )
    entity = Entity(**rows[0], label=label(chosen, eid))
    if chosen is Kind.IP:
        info = graph.geo([eid]).get(eid, {})
        entity = entity.model_copy(update={k: info.get(k) for k in ("country", "asn", "as_org")})
    first, last = entity.first_seen, entity.last_seen
    # Records without a time (which the readers refuse) would leave no window: nothing is new.
    start = last - timedelta(days=days) if first and last else datetime.max.replace(tzinfo=UTC)
    related, counts = _related(graph, chosen, eid, limit, start)
    apis = _apis(graph, chosen, eid, start) if chosen in ACTORS else []
    return Profile(
        entity=entity,
        seen=True,
        graph_built_at=built,
        activity=_activity(graph, chosen, eid) if chosen in ACTORS else [],
        apis=apis[:_MAX_APIS],
        related=related,
        relations=counts,
        new_behaviour=NewBehaviour(
            window_start=start,
            window_end=last,
            days=days,
            earlier_history=first < start,
            items=_new_items(graph, chosen, eid, start, apis),
        )
        if first and last
        else None,
        findings=findings,
    )


def _finding_profile(graph: Graph, eid: str, findings: list[RelatedFinding]) -> Profile:
    """A finding's profile: the entities it names, as the graph linked them."""
    rows = graph.rows(
        "SELECT kind, id, string_agg(DISTINCT via, ', ' ORDER BY via) AS via,"
        " min(first_seen) AS first_seen, max(last_seen) AS last_seen, max(count) AS count"
        " FROM finding_links WHERE finding_id = $1 GROUP BY kind, id ORDER BY kind, id",
        [eid],
    )
    this = next((f for f in findings if f.id == eid), None)
    entity = Entity(
        kind=Kind.FINDING.value,
        id=eid,
        label=this.title if this else eid,
        account_id=this.account_id if this else None,
        first_seen=this.first_seen if this else None,
        last_seen=this.last_seen if this else None,
        records=this.count if this else 0,
    )
    if this is None:
        message = f"finding {eid} is not linked in the investigation graph"
        return Profile(entity=entity, seen=False, message=message, findings=findings)
    related = [
        Related(
            relation=f"{_FINDING_RELATION} ({r['via']})",
            direction="out",
            kind=r["kind"],
            id=r["id"],
            label=label(r["kind"], r["id"]),
            first_seen=r["first_seen"],
            last_seen=r["last_seen"],
            records=r["count"],
            failures=0,
            new=False,
        )
        for r in rows
    ]
    return Profile(
        entity=entity,
        seen=True,
        graph_built_at=graph.state.built_at,
        related=related,
        findings=findings,
    )


def _not_seen(graph: Graph, kind: Kind, eid: str, findings: int) -> str:
    cover = graph.coverage()
    if not cover["entities"]:
        held = "the graph is empty: no logs were ingested"
    else:
        held = (
            f"the graph holds {cover['entities']} entities seen from "
            f"{cover['first_seen']:%Y-%m-%d %H:%M} to {cover['last_seen']:%Y-%m-%d %H:%M} UTC"
        )
    named = f"; {findings} finding(s) name it" if findings else ""
    return f"{kind.value} {eid} is not seen in any ingested log record ({held}){named}"


def _related(
    graph: Graph, kind: Kind, eid: str, limit: int, start: datetime
) -> tuple[list[Related], list[RelationCount]]:
    rows = graph.rows(
        f"SELECT *, count(*) OVER w AS total FROM ({_RELATED}) r"
        " WINDOW w AS (PARTITION BY relation, direction, kind)"
        " QUALIFY row_number() OVER (PARTITION BY relation, direction, kind"
        " ORDER BY records DESC, last_seen DESC, id) <= $3"
        " ORDER BY relation, direction, kind, records DESC, last_seen DESC, id",
        [kind.value, eid, max(1, limit)],
    )
    related = [
        Related(
            **{k: v for k, v in row.items() if k != "total"},
            label=label(row["kind"], row["id"]),
            new=row["first_seen"] >= start,
        )
        for row in rows
    ]
    counts = {
        (r["relation"], r["direction"], r["kind"]): RelationCount(
            relation=r["relation"], direction=r["direction"], kind=r["kind"], entities=r["total"]
        )
        for r in rows
    }
    return related, list(counts.values())


def _activity(graph: Graph, kind: Kind, eid: str) -> list[DailyCalls]:
    rows = graph.rows(
        "SELECT day, service, CAST(sum(calls) AS BIGINT) AS calls,"
        " CAST(sum(failures) AS BIGINT) AS failures FROM activity"
        " WHERE kind = $1 AND id = $2 GROUP BY day, service ORDER BY day, service",
        [kind.value, eid],
    )
    return [DailyCalls(**row) for row in rows]


def _apis(graph: Graph, kind: Kind, eid: str, start: datetime) -> list[ApiUse]:
    rows = graph.rows(
        "SELECT service, api, CAST(sum(calls) AS BIGINT) AS calls,"
        " CAST(sum(failures) AS BIGINT) AS failures, min(first_seen) AS first_seen,"
        " max(last_seen) AS last_seen FROM activity WHERE kind = $1 AND id = $2"
        " GROUP BY service, api ORDER BY calls DESC, service, api",
        [kind.value, eid],
    )
    return [ApiUse(**row, new=row["first_seen"] >= start) for row in rows]


def _new_items(
    graph: Graph, kind: Kind, eid: str, start: datetime, apis: list[ApiUse]
) -> list[NewItem]:
    """APIs, related entities, and the countries and ASes of related addresses, first seen at
    or after `start`, oldest first."""
    items = [
        NewItem(
            dimension="api", value=f"{a.service}:{a.api}", first_seen=a.first_seen, records=a.calls
        )
        for a in apis
        if a.new
    ]
    rows = graph.rows(
        f"SELECT kind, id, relation, min(first_seen) AS first_seen,"
        f" CAST(sum(records) AS BIGINT) AS records FROM ({_RELATED}) r"
        " GROUP BY kind, id, relation HAVING min(first_seen) >= $3"
        " ORDER BY first_seen, kind, id LIMIT $4",
        [kind.value, eid, start, _MAX_NEW],
    )
    items += [
        NewItem(
            dimension=r["kind"],
            value=r["id"],
            relation=r["relation"],
            first_seen=r["first_seen"],
            records=r["records"],
        )
        for r in rows
    ]
    items += _new_places(graph, kind, eid, start)
    items.sort(key=lambda i: (i.first_seen, i.dimension, i.value))
    return items[:_MAX_NEW]


def _new_places(graph: Graph, kind: Kind, eid: str, start: datetime) -> list[NewItem]:
    """Countries and ASes of the related addresses, new when every address of theirs is."""
    addresses = graph.rows(
        f"SELECT id, min(first_seen) AS first_seen, CAST(sum(records) AS BIGINT) AS records"
        f" FROM ({_RELATED}) r WHERE kind = 'ip' GROUP BY id ORDER BY records DESC LIMIT 20000",
        [kind.value, eid],
    )
    geo = graph.geo([a["id"] for a in addresses])
    places: dict[tuple[str, str], dict[str, Any]] = {}
    for address in addresses:
        info = geo.get(address["id"])
        if not info:
            continue
        asn = f"AS{info['asn']}" if info.get("asn") is not None else None
        as_name = f"{asn} {info['as_org']}" if asn and info.get("as_org") else asn
        for dimension, value in (("country", info.get("country")), ("asn", as_name)):
            if not value:
                continue
            place = places.setdefault(
                (dimension, value), {"first_seen": address["first_seen"], "records": 0}
            )
            place["first_seen"] = min(place["first_seen"], address["first_seen"])
            place["records"] += address["records"]
    return [
        NewItem(dimension=dim, value=value, first_seen=p["first_seen"], records=p["records"])
        for (dim, value), p in places.items()
        if p["first_seen"] >= start
    ]
