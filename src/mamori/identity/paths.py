"""Privilege-escalation paths: who can become an administrator, and every way how.

The graph (edges.py) has two kinds of edges: `acts_as` (the source obtains the target's
permissions) and `elevate` (the source can give the target any permissions). A principal
reaches administrator rights when it is one, when it can elevate itself, or when it can elevate
a principal it can also act as; otherwise through a chain of acts_as hops to such a principal.
Distances to those goals are found with one backward breadth-first pass over the graph (linear
in principals plus edges, with edges shared per permission set), so path finding costs about
the same for 500 principals as for 10,000 per principal.

Every principal's paths are listed one per distinct first hop (technique and target), each
continued along a shortest route, shortest paths first.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from mamori.identity.edges import SELF, Edge, EdgeBuilder, Graph
from mamori.identity.model import IdentityModel
from mamori.identity.resolve import Resolver
from mamori.identity.techniques import ACTS_AS, BY_ID

ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Hop:
    technique: str
    source: str
    target: str
    via: str | None
    statements: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "technique": self.technique,
            "name": BY_ID[self.technique].name,
            "from": self.source,
            "to": self.target,
            "via": self.via,
            "statements": list(self.statements),
        }


@dataclass(frozen=True, slots=True)
class EscalationPath:
    principal: str
    target: str  # ARN of the principal that ends with admin rights, or "admin" (itself)
    target_is_admin: bool  # the target already is an administrator
    hops: tuple[Hop, ...]

    @property
    def technique(self) -> str:
        return self.hops[0].technique

    def to_json(self) -> dict[str, Any]:
        return {
            "principal": self.principal,
            "target": self.target,
            "target_is_admin": self.target_is_admin,
            "technique": self.technique,
            "length": len(self.hops),
            "path": [h.to_json() for h in self.hops],
        }


@dataclass(slots=True)
class PathReport:
    paths: list[EscalationPath]
    admins: set[str]
    principals: int
    # principal ARN -> why its analysis may be incomplete
    problems: dict[str, list[str]] = field(default_factory=dict)
    evaluations: int = 0
    truncated: dict[str, int] = field(default_factory=dict)

    def by_principal(self) -> dict[str, list[EscalationPath]]:
        out: dict[str, list[EscalationPath]] = defaultdict(list)
        for path in self.paths:
            out[path.principal].append(path)
        return out


# A goal: how a principal ends a path (0 hops when it is an administrator).
_IS_ADMIN = "is-admin"


@dataclass(frozen=True, slots=True)
class _Step:
    cost: int
    hops: tuple[Edge, ...]  # edges from this principal to finish (elevations included)
    next: str | None  # the principal the last acts_as hop leads to, if the route continues


def _targets(edge: Edge, source: str) -> str:
    return source if edge.target == SELF else edge.target


def _finishing(graph: Graph, arn: str) -> _Step | None:
    """How `arn` reaches admin rights without acting as anyone else first."""
    if arn in graph.admins:
        return _Step(0, (), None)
    best: _Step | None = None
    acts: dict[str, Edge] = {}
    elevations: list[Edge] = []
    for edge in graph.out_edges(arn):
        target = _targets(edge, arn)
        if edge.grants == ACTS_AS:
            acts.setdefault(target, edge)
        else:
            elevations.append(edge)
    for edge in elevations:
        target = _targets(edge, arn)
        if target == arn:
            return _Step(1, (edge,), None)
        if target in acts and best is None:
            best = _Step(2, (edge, acts[target]), None)
    return best


def analyze_paths(model: IdentityModel, *, max_paths: int | None = None) -> PathReport:
    """Every escalation path in the model, per principal, shortest first."""
    resolver = Resolver(model)
    graph = EdgeBuilder(resolver).build()
    steps = _distances(graph)
    paths: list[EscalationPath] = []
    truncated: dict[str, int] = {}
    for arn in graph.subjects:
        if arn in graph.admins:
            continue
        found = _paths_of(graph, steps, arn)
        found.sort(key=lambda p: (len(p.hops), p.technique, p.target))
        if max_paths is not None and len(found) > max_paths:
            truncated[arn] = len(found) - max_paths
            found = found[:max_paths]
        paths.extend(found)
    problems = {arn: s.problems for arn, s in graph.subjects.items() if s.problems}
    return PathReport(
        paths, set(graph.admins), len(graph.subjects), problems, graph.evaluations, truncated
    )


def _distances(graph: Graph) -> dict[str, _Step]:
    """Shortest route to admin rights for every principal that has one (backward search)."""
    steps: dict[str, _Step] = {}
    for arn in graph.subjects:
        step = _finishing(graph, arn)
        if step is not None:
            steps[arn] = step
    # reverse acts_as edges: target -> [(source, edge)], shared edges expanded per member
    reverse: dict[str, list[tuple[int, Edge]]] = defaultdict(list)
    for sig, edges in graph.edges.items():
        for edge in edges:
            if edge.grants == ACTS_AS and edge.target != SELF:
                reverse[edge.target].append((sig, edge))
    personal_reverse: dict[str, list[tuple[str, Edge]]] = defaultdict(list)
    for source, edges in graph.personal.items():
        for edge in edges:
            if edge.grants == ACTS_AS and edge.target != SELF:
                personal_reverse[edge.target].append((source, edge))
    # bucket queue over small integer costs
    buckets: dict[int, list[str]] = defaultdict(list)
    for arn, step in steps.items():
        buckets[step.cost].append(arn)
    done_sigs: set[tuple[int, str]] = set()
    cost = 0
    while buckets:
        if cost not in buckets:
            cost += 1
            continue
        frontier = buckets.pop(cost)
        for target in frontier:
            if steps[target].cost != cost:
                continue
            for sig, edge in reverse.get(target, ()):
                if (sig, target) in done_sigs:
                    continue
                done_sigs.add((sig, target))
                for source in graph.members[sig]:
                    _relax(steps, buckets, source, target, edge, cost)
            for source, edge in personal_reverse.get(target, ()):
                _relax(steps, buckets, source, target, edge, cost)
        cost += 1
    return steps


def _relax(
    steps: dict[str, _Step],
    buckets: dict[int, list[str]],
    source: str,
    target: str,
    edge: Edge,
    cost: int,
) -> None:
    if source == target:
        return
    known = steps.get(source)
    if known is None or known.cost > cost + 1:
        steps[source] = _Step(cost + 1, (edge,), target)
        buckets[cost + 1].append(source)


def _continue(
    graph: Graph, steps: dict[str, _Step], start: str, first: list[Hop]
) -> EscalationPath | None:
    hops = list(first)
    current = hops[-1].target if hops else start
    visited = {start}
    while True:
        if current in visited and hops:
            return None
        visited.add(current)
        step = steps.get(current)
        if step is None:
            return None
        for edge in step.hops:
            hops.append(_hop(edge, current))
        if step.next is None:
            if current in graph.admins:
                return EscalationPath(start, current, True, tuple(hops))
            # cost 1: `current` elevates itself; cost 2: it elevates a principal it acts as
            winner = hops[-1].target if step.cost == 2 else current
            target = ADMIN if winner == start else winner
            return EscalationPath(start, target, False, tuple(hops))
        current = step.next


def _hop(edge: Edge, source: str) -> Hop:
    return Hop(edge.technique, source, _targets(edge, source), edge.via, edge.statements)


def _paths_of(graph: Graph, steps: dict[str, _Step], arn: str) -> list[EscalationPath]:
    out: list[EscalationPath] = []
    seen: set[tuple[str, str, str | None]] = set()
    acts: dict[str, Edge] = {}
    edges = list(graph.out_edges(arn))
    for edge in edges:
        if edge.grants == ACTS_AS:
            acts.setdefault(_targets(edge, arn), edge)
    for edge in edges:
        target = _targets(edge, arn)
        key = (edge.technique, target, edge.via)
        if key in seen:
            continue
        seen.add(key)
        if edge.grants != ACTS_AS:
            if target == arn:
                out.append(EscalationPath(arn, ADMIN, False, (_hop(edge, arn),)))
            elif target in acts:
                out.append(
                    EscalationPath(arn, target, False, (_hop(edge, arn), _hop(acts[target], arn)))
                )
            continue
        if target == arn or target not in steps:
            continue
        path = _continue(graph, steps, arn, [_hop(edge, arn)])
        if path is not None:
            out.append(path)
    return out
