"""The investigation view: an entity's profile and its neighbourhood in the graph that
`mamori detect` builds under its data directory (mamori.investigate), the neighbourhood laid
out for drawing. Read-only: the page never builds the graph (detection runs and `mamori
investigate` do)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from mamori.core import Finding, InputError
from mamori.hub import Store
from mamori.investigate import Graph as EntityGraph
from mamori.investigate import Kind
from mamori.investigate.kinds import checked_id
from mamori.web.graphs import layered
from mamori.web.schemas import GraphEdge, Investigation

# Resource types of findings that are entities of the graph, and how their id reads there.
_RESOURCE_KINDS: dict[str, tuple[Kind, str]] = {
    "AwsIamAccessKey": (Kind.ACCESS_KEY, ""),
    "AwsIamUser": (Kind.USER, ""),
    "AwsIamRole": (Kind.ROLE, ""),
    "AwsS3Bucket": (Kind.BUCKET, "arn:aws:s3:::"),
    "AwsEc2Instance": (Kind.INSTANCE, ""),
}


def link(kind: str, entity_id: str) -> str:
    return "/investigate?" + urlencode({"kind": kind, "id": entity_id})


def entity_links(finding: Finding) -> dict[str, str]:
    """Resource id -> investigation page, for the resources that are graph entities."""
    links: dict[str, str] = {}
    for res in finding.resources:
        known = _RESOURCE_KINDS.get(res.type)
        if known is None:
            continue
        kind, prefix = known
        value = res.id.removeprefix(prefix) if prefix else res.id
        if kind is Kind.INSTANCE:
            value = value.rsplit("/", 1)[-1]
        links[res.id] = link(kind.value, value)
    return links


def investigate(
    store: Store,
    data_dir: Path | None,
    kind: Kind,
    entity_id: str,
    *,
    days: float = 7.0,
    depth: int = 2,
    nodes: int = 50,
) -> Investigation:
    if data_dir is None:
        raise InputError("no investigation graph: start the server with --data-dir")
    value = checked_id(kind, entity_id)
    with EntityGraph.open(data_dir) as graph:
        profile = graph.profile(kind.value, value, days=days, limit=10, store=store)
        around = graph.neighbourhood(kind.value, value, depth=depth, limit=nodes)
    drawn = layered(
        around.center,
        [
            GraphEdge(
                source=e.source,
                target=e.target,
                label=e.relation,
                detail={"records": e.records, "failures": e.failures},
            )
            for e in around.edges
        ],
        {n.key: (n.label, n.kind) for n in around.nodes},
        links={
            n.key: f"/findings/{n.id}" if n.kind == Kind.FINDING.value else link(n.kind, n.id)
            for n in around.nodes
        },
        columns={n.key: n.depth for n in around.nodes},
    )
    return Investigation(profile=profile, neighbourhood=around, graph=drawn)
