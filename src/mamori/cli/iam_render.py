"""Tables and graphs for `mamori iam`. Every string from the input is escaped: principal
names, statement ids and policy names are attacker-influenced text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, is_dataclass
from typing import Any

from rich.markup import escape
from rich.table import Table

from mamori.identity.paths import ADMIN, EscalationPath
from mamori.identity.techniques import BY_ID


def _short(arn: str) -> str:
    return arn if arn == ADMIN else arn.split(":", 5)[-1]


def paths_table(paths: Iterable[EscalationPath]) -> Table:
    table = Table(title="Privilege-escalation paths", show_lines=True)
    for col in ("principal", "becomes admin as", "hops", "path"):
        table.add_column(col, overflow="fold")
    for p in paths:
        steps = "\n".join(
            f"{i}. {escape(BY_ID[h.technique].name)} -> {escape(_short(h.target))}"
            + (f" via {escape(_short(h.via))}" if h.via else "")
            for i, h in enumerate(p.hops, start=1)
        )
        target = "itself" if p.target == ADMIN else escape(_short(p.target))
        if p.target_is_admin:
            target += " (already admin)"
        table.add_row(escape(_short(p.principal)), target, str(len(p.hops)), steps)
    return table


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def paths_dot(paths: Iterable[EscalationPath], admins: Iterable[str]) -> str:
    """Graphviz: principals as nodes, each hop an edge labelled with its technique."""
    lines = ["digraph escalation {", "  rankdir=LR;", "  node [shape=box];"]
    for admin in sorted(admins):
        lines.append(f"  {_dot_id(admin)} [style=filled, fillcolor=salmon];")
    lines.append(f"  {_dot_id(ADMIN)} [shape=doublecircle, style=filled, fillcolor=salmon];")
    seen: set[tuple[str, str, str]] = set()
    for p in paths:
        for h in p.hops:
            target = ADMIN if h.target == h.source and h.technique else h.target
            key = (h.source, target, h.technique)
            if key in seen:
                continue
            seen.add(key)
            lines.append(
                f"  {_dot_id(h.source)} -> {_dot_id(target)} "
                f"[label={_dot_id(BY_ID[h.technique].name)}];"
            )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def guardrails_json(reports: Iterable[Any]) -> list[Any]:
    return [_plain(r) for r in reports]


def guardrails_table(reports: Iterable[Any]) -> Table:
    table = Table(title="SCP guardrails per account", show_lines=True)
    for col in ("account", "never allowed", "denied under conditions", "controls"):
        table.add_column(col, overflow="fold")
    for r in reports:
        data = _plain(r)
        never = data.get("never_allowed") or {}
        never_text = "\n".join(
            f"{escape(svc)}: {len(actions)}" for svc, actions in sorted(never.items())[:15]
        )
        if len(never) > 15:
            never_text += f"\n... {len(never) - 15} more services"
        conditional = data.get("conditionally_denied") or []
        cond_text = "\n".join(escape(str(c)) for c in conditional[:8])
        controls = []
        for control in data.get("controls") or []:
            item = (
                control
                if isinstance(control, dict)
                else dict(zip(("id", "title", "present", "evidence"), control, strict=False))
            )
            mark = "[green]present[/]" if item.get("present") else "[red]missing[/]"
            controls.append(f"{mark} {escape(str(item.get('title') or item.get('id')))}")
        table.add_row(
            escape(str(data.get("account"))),
            never_text or "-",
            cond_text or "-",
            "\n".join(controls) or "-",
        )
    return table


def _family(generator_id: str) -> str:
    """identity.guardrail.<control> and identity.policy-lint.<code> count as one row each."""
    parts = generator_id.split(".")
    return ".".join(parts[:2])


def identity_summary(console: Any, run: Any) -> None:
    """One row per kind of identity finding: how many ask for action, how many could not be
    determined."""
    from collections import Counter

    failing: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    for f in run.findings:
        family = _family(f.generator_id)
        if f.status is not None and f.status.value == "NOT_AVAILABLE":
            unknown[family] += 1
        elif f.is_failing:
            failing[family] += 1
    table = Table(title="Identity analysis")
    table.add_column("finding")
    table.add_column("to act on", justify="right")
    table.add_column("could not be determined", justify="right")
    if run.paths is not None:
        escalating = len({p.principal for p in run.paths.paths})
        table.add_row(
            f"principals: {run.paths.principals}, administrators: {len(run.paths.admins)}, "
            f"can escalate to administrator: {escalating}",
            "",
            "",
        )
    for family in sorted({*failing, *unknown}):
        table.add_row(escape(family), str(failing[family]), str(unknown[family]))
    console.print(table)
