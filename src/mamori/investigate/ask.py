"""One question to the graph as the command line asks it: bring the graph up to date, then
profile the entity (and draw its neighbourhood)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mamori.core import InputError, parse_arn
from mamori.investigate import graphdir
from mamori.investigate.build import BuildReport, update
from mamori.investigate.graph import Graph
from mamori.investigate.kinds import PRINCIPALS, Kind, checked_id
from mamori.investigate.model import Neighbourhood, Profile
from mamori.investigate.profile import DEFAULT_DAYS

if TYPE_CHECKING:
    from mamori.hub import Store

_PRINCIPAL_KINDS = (PRINCIPALS | {Kind.ROLE}) - {Kind.SERVICE}
# A command waits this long for a detection run's graph build before giving up.
_WAIT = 120.0


@dataclass
class Question:
    kind: Kind | None  # None: a principal ARN, whose kind the ARN tells
    value: str
    data_dir: Path
    days: float = DEFAULT_DAYS
    limit: int = 10
    depth: int | None = None  # draw the neighbourhood to this many hops
    nodes: int = 50
    rebuild: bool = False
    mmdb: list[Path] = field(default_factory=list)


@dataclass
class Answer:
    profile: Profile
    neighbourhood: Neighbourhood | None
    build: BuildReport
    warnings: list[str]


def principal_kind(graph: Graph, arn: str) -> Kind:
    """The kind of a principal ARN (user, role, assumed-role session, root...), told by the
    same classification the graph's values went through."""
    try:
        parse_arn(arn.strip())
    except InputError:
        raise InputError(f"--principal {arn!r}: not an ARN") from None
    [(kind,)] = graph.con.execute("SELECT inv_kind($1)", [arn.strip()]).fetchall()
    if kind not in {k.value for k in _PRINCIPAL_KINDS}:
        raise InputError(
            f"--principal {arn!r}: not the ARN of a user, role, role session or root "
            f"(it reads as a {kind})"
        )
    return Kind(kind)


def ask(question: Question, store: Store | None) -> Answer:
    """Update the graph with the parts ingested since its last build (every detection finding
    of `store` linked when the graph is first built or rebuilt), then answer."""
    if question.kind is not None:
        checked_id(question.kind, question.value)  # a malformed id is refused before any work
    first = question.rebuild or graphdir.read_state(question.data_dir) is None
    report = update(
        question.data_dir,
        store=store if first else None,
        rebuild=question.rebuild,
        wait=_WAIT,
    )
    enrichment = None
    if question.mmdb:
        from mamori.detect.enrichment import Enrichment

        enrichment = Enrichment.load(question.mmdb)
    try:
        with Graph.open(question.data_dir, enrichment=enrichment) as graph:
            kind = question.kind or principal_kind(graph, question.value)
            profile = graph.profile(
                kind, question.value, days=question.days, limit=question.limit, store=store
            )
            drawn = None
            if question.depth is not None:
                drawn = graph.neighbourhood(
                    kind, question.value, depth=question.depth, limit=question.nodes
                )
            warnings = [*graph.warnings, *(enrichment.errors if enrichment else [])]
    finally:
        if enrichment is not None:
            enrichment.close()
    return Answer(profile, drawn, report, warnings)
