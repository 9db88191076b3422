"""Rich rendering of `mamori investigate`. Every value shown came from a log (user agents,
resource names, principal names are the attacker's to choose): it goes out as `Text`, never as
markup, with control characters (terminal escape sequences, bidirectional overrides) spelled out
as escapes instead of reaching the terminal."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from mamori.core import SeverityLabel
from mamori.investigate.ask import Answer
from mamori.investigate.model import DailyCalls, Neighbourhood, Profile

_SEVERITY_STYLE = {
    SeverityLabel.CRITICAL.value: "bold white on red",
    SeverityLabel.HIGH.value: "bold red",
    SeverityLabel.MEDIUM.value: "yellow",
    SeverityLabel.LOW.value: "cyan",
}
_TOP_APIS = 15


def shown(value: object) -> Text:
    """A value from the logs as plain text, its non-printable characters escaped."""
    text = "" if value is None else str(value)
    if not text.isprintable():
        text = "".join(
            c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii")
            for c in text
        )
    return Text(text)


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else "-"


def render(console: Console, answer: Answer) -> None:
    profile = answer.profile
    _header(console, profile)
    if profile.findings:
        _findings(console, profile)
    if not profile.seen:
        return
    if profile.new_behaviour is not None:
        _new(console, profile)
    if profile.related:
        _related(console, profile)
    if profile.apis:
        _apis(console, profile)
    if profile.activity:
        _activity(console, profile.activity)
    if answer.neighbourhood is not None:
        _neighbourhood(console, answer.neighbourhood)


def _header(console: Console, profile: Profile) -> None:
    e = profile.entity
    title = Text.assemble((f"{e.kind} ", "bold"), shown(e.id))
    console.print(title)
    if not profile.seen:
        console.print(Text.assemble(("not seen: ", "bold yellow"), shown(profile.message)))
        return
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="dim")
    facts.add_column()
    facts.add_row("name", shown(e.label))
    if e.account_id:
        facts.add_row("account", shown(e.account_id))
    facts.add_row("first seen", _when(e.first_seen))
    facts.add_row("last seen", _when(e.last_seen))
    facts.add_row("log records", str(e.records))
    if e.country or e.asn is not None:
        facts.add_row(
            "location",
            shown(
                " ".join(
                    str(x) for x in (e.country, f"AS{e.asn}" if e.asn else None, e.as_org) if x
                )
            ),
        )
    console.print(facts)


def _findings(console: Console, profile: Profile) -> None:
    table = Table(title=f"Findings naming it ({len(profile.findings)})", box=box.SIMPLE_HEAVY)
    for col in ("severity", "type", "title", "workflow", "last seen", "named as"):
        table.add_column(col, overflow="fold")
    for f in profile.findings:
        table.add_row(
            Text(f.severity, style=_SEVERITY_STYLE.get(f.severity, "")),
            shown(f.generator_id),
            shown(f.title),
            shown(f.workflow or "-"),
            _when(f.last_seen),
            shown(", ".join(f.via)),
        )
    console.print(table)


def _new(console: Console, profile: Profile) -> None:
    nb = profile.new_behaviour
    assert nb is not None
    since = f"since {_when(nb.window_start)} ({nb.days:g} day(s) before its last sighting)"
    if not nb.earlier_history:
        console.print(
            Text(
                f"New behaviour {since}: first seen in that window, so everything is new.",
                style="yellow",
            )
        )
        return
    if not nb.items:
        console.print(
            Text(f"New behaviour {since}: nothing it had not done before.", style="green")
        )
        return
    table = Table(title=f"New behaviour {since}", box=box.SIMPLE_HEAVY)
    for col in ("what", "value", "relation", "first seen", "records"):
        table.add_column(col, overflow="fold")
    for item in nb.items:
        table.add_row(
            Text(item.dimension, style="bold yellow"),
            shown(item.value),
            shown(item.relation or "-"),
            _when(item.first_seen),
            str(item.records),
        )
    console.print(table)


def _related(console: Console, profile: Profile) -> None:
    totals = {(c.relation, c.direction, c.kind): c.entities for c in profile.relations}
    table = Table(title="Related entities", box=box.SIMPLE_HEAVY)
    for col in ("relation", "kind", "entity", "first seen", "last seen", "records", "failures"):
        table.add_column(col, overflow="fold")
    shown_per: dict[tuple[str, str, str], int] = defaultdict(int)
    for r in profile.related:
        key = (r.relation, r.direction, r.kind)
        shown_per[key] += 1
        relation = f"-> {r.relation}" if r.direction == "out" else f"<- {r.relation}"
        entity = shown(r.label if r.kind not in ("user_agent",) else r.id)
        if r.new:
            entity.append(" new", style="bold yellow")
        table.add_row(
            relation,
            r.kind,
            entity,
            _when(r.first_seen),
            _when(r.last_seen),
            str(r.records),
            str(r.failures) if r.failures else "",
        )
    console.print(table)
    more = [
        f"{k[0]} {k[2]}: {n - shown_per[k]} more" for k, n in totals.items() if n > shown_per[k]
    ]
    if more:
        console.print(Text("not shown: " + "; ".join(more), style="dim"))


def _apis(console: Console, profile: Profile) -> None:
    table = Table(title=f"API calls ({len(profile.apis)} APIs)", box=box.SIMPLE_HEAVY)
    for col in ("service", "API", "calls", "failures", "first seen", "last seen"):
        table.add_column(col, overflow="fold")
    for a in profile.apis[:_TOP_APIS]:
        name = shown(a.api)
        if a.new:
            name.append(" new", style="bold yellow")
        table.add_row(
            shown(a.service.removesuffix(".amazonaws.com")),
            name,
            str(a.calls),
            str(a.failures) if a.failures else "",
            _when(a.first_seen),
            _when(a.last_seen),
        )
    console.print(table)


def _activity(console: Console, activity: list[DailyCalls]) -> None:
    by_day: dict[object, list[DailyCalls]] = defaultdict(list)
    for row in activity:
        by_day[row.day].append(row)
    table = Table(title="API calls by day (UTC)", box=box.SIMPLE_HEAVY)
    for col in ("day", "calls", "failures", "services (most called)"):
        table.add_column(col, overflow="fold")
    for day, rows in sorted(by_day.items(), key=lambda kv: str(kv[0])):
        top = sorted(rows, key=lambda r: -r.calls)[:4]
        table.add_row(
            str(day),
            str(sum(r.calls for r in rows)),
            str(sum(r.failures for r in rows) or ""),
            shown(", ".join(f"{r.service.removesuffix('.amazonaws.com')} {r.calls}" for r in top)),
        )
    console.print(table)


def _neighbourhood(console: Console, hood: Neighbourhood) -> None:
    nodes = {n.key: n for n in hood.nodes}
    center = nodes.get(hood.center)
    if center is None:
        return
    tree = Tree(Text.assemble((f"{center.kind} ", "bold"), shown(center.label)))
    links: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for e in hood.edges:
        # As read from the parent: "-> rel" the parent's relation to the child, "<- rel" the
        # child's to the parent.
        links[e.target].append((f"-> {e.relation}", e.source))
        links[e.source].append((f"<- {e.relation}", e.target))
    branches = {hood.center: tree}
    for depth in range(1, hood.depth + 1):
        for node in [n for n in hood.nodes if n.depth == depth]:
            parent_key, relation = next(
                (
                    (other, rel)
                    for rel, other in links[node.key]
                    if other in nodes and nodes[other].depth == depth - 1
                ),
                (hood.center, ""),
            )
            parent = branches.get(parent_key, tree)
            label = Text.assemble(
                (f"{relation} ", "dim"), (f"{node.kind} ", "bold"), shown(node.label)
            )
            if node.severity:
                label.append(f" [{node.severity}]", style=_SEVERITY_STYLE.get(node.severity, ""))
            branches[node.key] = parent.add(label)
    console.print(tree)
    if hood.truncated:
        console.print(Text("(more is related than shown: raise --nodes to see it)", style="dim"))
