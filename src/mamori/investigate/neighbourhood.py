"""An entity's neighbourhood to a few hops, limited and ranked, for a dashboard to draw.

Hop by hop, each node of the frontier brings its strongest relations (most records, then
latest) and the worst findings that name it, at most a fan-out each, so that a hub (an account,
a user agent every SDK sends) cannot flood the picture. The fetched subgraph is held in
networkx, which gives each node its distance from the centre; nodes are kept nearest first and,
at the same distance, by the weight of their ties to the nodes nearer the centre, up to
`limit`, with every edge among the kept nodes.
"""

# ruff: noqa: S608 - SQL assembled from constants written here; values are bound

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import networkx as nx
import pyarrow as pa

from mamori.core import InputError
from mamori.investigate.kinds import Kind, checked_id, label, node_key, parse_kind
from mamori.investigate.model import Edge, Neighbourhood, Node
from mamori.investigate.tables import SPECS

if TYPE_CHECKING:
    from mamori.investigate.graph import Graph

MAX_DEPTH = 3
MAX_LIMIT = 500
_FINDING_RELATION = "involves"

# The edges touching the frontier (inv_frontier: kind, id), selected from the segments' rows
# before they are merged: a join does not reach below a merge, which would otherwise merge every
# edge. A row touching the frontier at both ends is selected once (UNION: rows of a segment are
# distinct by key and file).
_NEAR_ROWS = """(
    SELECT e.* FROM edges_raw e SEMI JOIN inv_frontier f ON e.src_kind = f.kind AND e.src_id = f.id
    UNION
    SELECT e.* FROM edges_raw e SEMI JOIN inv_frontier f ON e.dst_kind = f.kind AND e.dst_id = f.id
) r"""
# Those edges and the finding links, the strongest `$1` of each frontier node: findings first
# (they are why anyone investigates), then by records and recency. arg_max keeps a heap of `$1`
# per node, where a window would sort every edge of a node with hundreds of thousands.
_TOUCHING = f"""
WITH near AS ({{near}}), hits AS (
    SELECT e.src_kind, e.src_id, e.relation, e.dst_kind, e.dst_id, e.first_seen, e.last_seen,
        e.records, e.failures, f.kind AS f_kind, f.id AS f_id, e.records AS weight
    FROM near e JOIN inv_frontier f ON e.src_kind = f.kind AND e.src_id = f.id
    UNION ALL
    SELECT e.src_kind, e.src_id, e.relation, e.dst_kind, e.dst_id, e.first_seen, e.last_seen,
        e.records, e.failures, f.kind, f.id, e.records
    FROM near e JOIN inv_frontier f ON e.dst_kind = f.kind AND e.dst_id = f.id
    UNION ALL
    SELECT 'finding', l.finding_id, '{_FINDING_RELATION}', l.kind, l.id, l.first_seen,
        l.last_seen, l.count, 0, f.kind, f.id, 1000000000000 + l.severity_score
    FROM finding_links l JOIN inv_frontier f ON l.kind = f.kind AND l.id = f.id
    UNION ALL
    SELECT 'finding', l.finding_id, '{_FINDING_RELATION}', l.kind, l.id, l.first_seen,
        l.last_seen, l.count, 0, f.kind, f.id, l.count
    FROM finding_links l JOIN inv_frontier f ON f.kind = 'finding' AND l.finding_id = f.id
), top AS (
    SELECT f_kind, f_id, unnest(arg_max(
        struct_pack(src_kind, src_id, relation, dst_kind, dst_id, first_seen, last_seen,
            records, failures),
        (weight, last_seen, src_id, dst_id, relation), $1)) AS h
    FROM hits GROUP BY f_kind, f_id
)
SELECT f_kind, f_id, h.* FROM top
"""
_FRONTIER = pa.schema([("kind", pa.string()), ("id", pa.string())])


def neighbourhood(
    graph: Graph, kind: str, entity_id: str, *, depth: int = 2, limit: int = 50
) -> Neighbourhood:
    """Nodes within `depth` hops of the entity (1 to 3), at most `limit` (1 to 500) with it."""
    chosen = parse_kind(kind)
    eid = checked_id(chosen, entity_id)
    if not 1 <= depth <= MAX_DEPTH:
        raise InputError(f"depth: {depth!r} must be 1 to {MAX_DEPTH}")
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"limit: {limit!r} must be 1 to {MAX_LIMIT}")
    center = node_key(chosen.value, eid)
    g: nx.MultiDiGraph = nx.MultiDiGraph()
    g.add_node(center, kind=chosen.value, id=eid)
    frontier = [(chosen.value, eid)]
    capped = False  # a node had more relations than its fan-out brought
    for hop in range(depth):
        fan_out = limit if hop == 0 else max(3, limit // max(1, len(frontier)))
        rows = _touching(graph, frontier, fan_out)
        per_node = Counter((row.pop("f_kind"), row.pop("f_id")) for row in rows)
        capped = capped or any(n >= fan_out for n in per_node.values())
        before = set(g.nodes)
        for row in rows:
            src = node_key(row["src_kind"], row["src_id"])
            dst = node_key(row["dst_kind"], row["dst_id"])
            g.add_node(src, kind=row["src_kind"], id=row["src_id"])
            g.add_node(dst, kind=row["dst_kind"], id=row["dst_id"])
            g.add_edge(src, dst, key=row["relation"], **row)
        frontier = [(g.nodes[n]["kind"], g.nodes[n]["id"]) for n in g.nodes if n not in before]
        if not frontier:
            break
    depths: dict[str, int] = nx.single_source_shortest_path_length(
        g.to_undirected(as_view=True), center, cutoff=depth
    )
    ranked = sorted(depths, key=lambda n: (depths[n], -_tie(g, n, depths), n))
    kept = ranked[:limit]
    sub = g.subgraph(kept)
    return Neighbourhood(
        center=center,
        depth=depth,
        nodes=_nodes(graph, sub, depths),
        edges=[
            Edge(
                source=u,
                target=v,
                relation=data["relation"],
                first_seen=data["first_seen"],
                last_seen=data["last_seen"],
                records=data["records"],
                failures=data["failures"],
            )
            for u, v, data in sorted(
                sub.edges(data=True), key=lambda e: (e[0], e[1], e[2]["relation"])
            )
        ],
        truncated=capped or len(kept) < len(ranked),
    )


@contextmanager
def _pairs(graph: Graph, pairs: list[tuple[str, str]]) -> Iterator[None]:
    """`inv_frontier` (kind, id) on the graph's connection while the block runs."""
    kinds, ids = [k for k, _ in pairs], [i for _, i in pairs]
    table = pa.table([pa.array(kinds, pa.string()), pa.array(ids, pa.string())], schema=_FRONTIER)
    graph.con.register("inv_frontier", table)
    try:
        yield
    finally:
        graph.con.unregister("inv_frontier")


def _touching(graph: Graph, frontier: list[tuple[str, str]], fan_out: int) -> list[dict[str, Any]]:
    # One segment is merged already: merging its edges again would cost as much as the rest.
    if len(graph.state.segments) > 1:
        near = SPECS["edges"].merged_sql(_NEAR_ROWS)
    else:
        near = "SELECT * FROM edges"
    with _pairs(graph, frontier):
        return graph.rows(_TOUCHING.format(near=near), [fan_out])


def _tie(g: nx.MultiDiGraph, node: str, depths: dict[str, int]) -> float:
    """How strongly a node is tied to the nodes nearer the centre (log of records, so a
    finding or a rare relation is not drowned by a chatty one)."""
    nearer = depths[node] - 1
    total = 0.0
    for u, v, data in [*g.in_edges(node, data=True), *g.out_edges(node, data=True)]:
        other = u if v == node else v
        if depths.get(other) == nearer:
            bonus = 10.0 if data["relation"] == _FINDING_RELATION else 0.0
            total += math.log1p(max(0, data["records"])) + bonus
    return total


def _nodes(graph: Graph, sub: Any, depths: dict[str, int]) -> list[Node]:
    keys = sorted(sub.nodes, key=lambda n: (depths[n], n))
    pairs = [(sub.nodes[n]["kind"], sub.nodes[n]["id"]) for n in keys]
    facts = _entity_facts(graph, pairs)
    ips = [i for k, i in pairs if k == Kind.IP.value]
    geo = graph.geo(ips)
    nodes = []
    for key, (kind, eid) in zip(keys, pairs, strict=True):
        fact = facts.get((kind, eid), {})
        place = geo.get(eid, {}) if kind == Kind.IP.value else {}
        nodes.append(
            Node(
                key=key,
                kind=kind,
                id=eid,
                label=fact.get("title") or label(kind, eid),
                depth=depths[key],
                first_seen=fact.get("first_seen"),
                last_seen=fact.get("last_seen"),
                records=fact.get("records") or 0,
                severity=fact.get("severity"),
                country=place.get("country"),
                asn=place.get("asn"),
            )
        )
    return nodes


def _entity_facts(
    graph: Graph, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    if not pairs:
        return {}
    with _pairs(graph, pairs):
        rows = graph.rows(
            "SELECT e.kind, e.id, e.first_seen, e.last_seen, e.records, NULL AS severity,"
            " NULL AS title FROM entities e SEMI JOIN inv_frontier f ON e.kind = f.kind"
            " AND e.id = f.id"
            " UNION ALL SELECT 'finding', finding_id, min(first_seen), max(last_seen),"
            " max(count), any_value(severity), any_value(title) FROM finding_links l"
            " SEMI JOIN inv_frontier f ON f.kind = 'finding' AND l.finding_id = f.id"
            " GROUP BY finding_id"
        )
    return {(r["kind"], r["id"]): r for r in rows}
