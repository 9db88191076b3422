"""The investigation graph (Detective's job): what did this access key, role session, address
or resource do, when, from where, with what, and which findings name it.

Entities (accounts, users, roles, role sessions, access keys, addresses, user agents, instances,
buckets, domains, other resources, findings) and their relationships over time are tables
aggregated with DuckDB from the normalised logs of `mamori.detect` and kept as Parquet under
`<data-dir>/graph/`, brought up to date after every detection run with the parts it ingested.

    from mamori.investigate import profile, neighbourhood, update

    update(data_dir)                                   # aggregate parts ingested since last time
    p = profile(data_dir, "access_key", "AKIA...", days=7, store=store)
    n = neighbourhood(data_dir, "ip", "203.0.113.9", depth=2, limit=50)
    p.model_dump(mode="json"), n.model_dump(mode="json")  # plain JSON-able dicts

Several questions over one graph: `with Graph.open(data_dir) as g: g.profile(...)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mamori.investigate.build import BuildReport, update, update_after_run
from mamori.investigate.graph import Graph
from mamori.investigate.kinds import Kind
from mamori.investigate.model import (
    ApiUse,
    DailyCalls,
    Edge,
    Entity,
    Neighbourhood,
    NewBehaviour,
    NewItem,
    Node,
    Profile,
    Related,
    RelatedFinding,
    RelationCount,
)
from mamori.investigate.profile import DEFAULT_DAYS
from mamori.investigate.profile import profile as _profile

if TYPE_CHECKING:
    from mamori.detect.enrichment import Enrichment
    from mamori.hub import Store


def profile(
    data_dir: Path,
    kind: str,
    entity_id: str,
    *,
    days: float = DEFAULT_DAYS,
    limit: int = 10,
    store: Store | None = None,
    enrichment: Enrichment | None = None,
) -> Profile:
    """The profile of one entity of the graph under `data_dir` (see profile.profile)."""
    with Graph.open(data_dir, enrichment=enrichment) as graph:
        return _profile(graph, kind, entity_id, days=days, limit=limit, store=store)


def neighbourhood(
    data_dir: Path, kind: str, entity_id: str, *, depth: int = 2, limit: int = 50
) -> Neighbourhood:
    """Nodes and edges around one entity of the graph under `data_dir`."""
    with Graph.open(data_dir) as graph:
        return graph.neighbourhood(kind, entity_id, depth=depth, limit=limit)


__all__ = [
    "DEFAULT_DAYS",
    "ApiUse",
    "BuildReport",
    "DailyCalls",
    "Edge",
    "Entity",
    "Graph",
    "Kind",
    "Neighbourhood",
    "NewBehaviour",
    "NewItem",
    "Node",
    "Profile",
    "Related",
    "RelatedFinding",
    "RelationCount",
    "neighbourhood",
    "profile",
    "update",
    "update_after_run",
]
