"""Graphs laid out on the server, drawn by the templates as plain SVG (no script, no library):
privilege-escalation paths of an identity finding, and entity neighbourhoods.

A layered layout: every node goes in the column of its distance from the root, columns are
ordered by label, so that the same data always draws the same picture.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from mamori.core import Finding
from mamori.web.schemas import Graph, GraphEdge, GraphNode

NODE_W = 230.0
NODE_H = 44.0
COL_GAP = 180.0
ROW_GAP = 26.0
MARGIN = 20.0
GOAL = "administrator access"
_SELF = "(self)"


def layered(
    root: str,
    edges: Iterable[GraphEdge],
    nodes: Mapping[str, tuple[str, str]],
    links: Mapping[str, str] | None = None,
    details: Mapping[str, dict[str, Any]] | None = None,
    columns: Mapping[str, int] | None = None,
) -> Graph:
    """Place `nodes` (id -> (label, kind)) in columns by breadth-first distance from `root`
    along `edges` (or as `columns` says); nodes out of its reach go in a last column."""
    edge_list = list(edges)
    out: dict[str, list[str]] = {}
    for e in edge_list:
        out.setdefault(e.source, []).append(e.target)
        out.setdefault(e.target, [])
    depth = {root: 0}
    queue = deque([root])
    while queue:
        here = queue.popleft()
        for there in out.get(here, []):
            if there not in depth:
                depth[there] = depth[here] + 1
                queue.append(there)
    depth.update(columns or {})
    last = max(depth.values(), default=0) + 1
    placed_in: dict[int, list[str]] = {}
    for node_id in nodes:
        placed_in.setdefault(depth.get(node_id, last), []).append(node_id)
    placed: list[GraphNode] = []
    tallest = 0
    for col, members in sorted(placed_in.items()):
        members.sort(key=lambda n: (nodes[n][1] != "root", nodes[n][0], n))
        tallest = max(tallest, len(members))
        for row, node_id in enumerate(members):
            label, kind = nodes[node_id]
            placed.append(
                GraphNode(
                    id=node_id,
                    label=label,
                    kind=kind,
                    x=MARGIN + col * (NODE_W + COL_GAP),
                    y=MARGIN + row * (NODE_H + ROW_GAP),
                    href=(links or {}).get(node_id),
                    detail=(details or {}).get(node_id, {}),
                )
            )
    used_cols = max(placed_in, default=0) + 1
    return Graph(
        root=root,
        width=2 * MARGIN + used_cols * NODE_W + (used_cols - 1) * COL_GAP,
        height=2 * MARGIN + tallest * NODE_H + max(tallest - 1, 0) * ROW_GAP,
        nodes=placed,
        edges=edge_list,
    )


def short_arn(arn: str) -> str:
    """The name part of an ARN (`arn:aws:iam::1:role/ops/Deploy` -> `role/ops/Deploy`)."""
    parts = arn.split(":", 5)
    return parts[5] if len(parts) == 6 and parts[5] else arn


def escalation_graph(finding: Finding) -> Graph:
    """The escalation paths kept in an identity finding's evidence, merged into one graph:
    principals as nodes, each hop an edge labelled with its technique, ending at the
    administrator-access goal (a self-elevation) or at a principal that is an administrator."""
    root = finding.resource.id
    nodes: dict[str, tuple[str, str]] = {root: (short_arn(root), "root")}
    edges: dict[tuple[str, str, str], GraphEdge] = {}
    paths = finding.evidence.get("paths")
    for path in paths if isinstance(paths, list) else []:
        if not isinstance(path, dict):
            continue
        for hop in path.get("path") or []:
            if not isinstance(hop, dict):
                continue
            source, target = str(hop.get("from", "")), str(hop.get("to", ""))
            if not source or not target:
                continue
            if target in (source, _SELF):
                target = GOAL
                nodes.setdefault(GOAL, ("administrator access", "goal"))
            nodes.setdefault(source, (short_arn(source), "principal"))
            nodes.setdefault(target, (short_arn(target), "principal"))
            name = str(hop.get("name") or hop.get("technique") or "")
            key = (source, target, name)
            if key not in edges:
                edges[key] = GraphEdge(
                    source=source,
                    target=target,
                    label=name,
                    detail={
                        "technique": hop.get("technique"),
                        "via": hop.get("via"),
                        "statements": hop.get("statements") or [],
                    },
                )
        reached = path.get("target")
        if path.get("target_is_admin") and isinstance(reached, str) and reached in nodes:
            nodes[reached] = (nodes[reached][0], "admin")
    return layered(root, edges.values(), nodes)
