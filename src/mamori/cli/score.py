"""`mamori score`: security scores per standard from the findings hub, now and over time."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from mamori.cli.common import Db, _errors, _open_store, out


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def score(
    standard: Annotated[
        str | None, typer.Option(help="One standard: its controls and their status.")
    ] = None,
    history: Annotated[
        int, typer.Option(min=0, max=10000, help="Also show the last N recorded scores.")
    ] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of tables.")] = False,
    db: Db = None,
) -> None:
    """Security score per standard (passed controls / controls with data) and overall."""
    from mamori.posture.score import control_status, current_scores

    with _errors():
        store = _open_store(db)
        try:
            scores = current_scores(store)
            controls = control_status(store, standard) if standard else []
            points = store.score_history(standard, limit=history) if history else []
        finally:
            store.close()
    if as_json:
        doc = {
            "scores": [
                {
                    "standard": s.standard,
                    "title": s.title,
                    "passed": s.passed,
                    "failed": s.failed,
                    "no_data": s.no_data,
                    "manual": s.manual,
                    "percent": s.percent,
                }
                for s in scores
            ],
            "controls": [
                {
                    "control": c.control_id,
                    "title": c.title,
                    "status": c.status,
                    "checks": list(c.checks),
                    "failing_accounts": list(c.failing_accounts),
                    "failing_resources": c.failing_resources,
                }
                for c in controls
            ],
            "history": [
                {
                    "at": p.at.isoformat(),
                    "standard": p.standard,
                    "passed": p.passed,
                    "failed": p.failed,
                    "no_data": p.no_data,
                    "percent": p.percent,
                    "reason": p.reason,
                }
                for p in points
            ],
        }
        out.print_json(json.dumps(doc))
        return
    table = Table(title="Security score")
    for name in ("standard", "score", "passed", "failed", "no data", "manual"):
        table.add_column(name)
    for s in scores:
        table.add_row(
            s.title, _pct(s.percent), str(s.passed), str(s.failed), str(s.no_data), str(s.manual)
        )
    out.print(table)
    if controls:
        ctable = Table(title=f"Controls of {standard}")
        for name in ("control", "status", "failing resources", "accounts", "title"):
            ctable.add_column(name, overflow="fold")
        for c in controls:
            ctable.add_row(
                c.control_id,
                c.status,
                str(c.failing_resources),
                ", ".join(c.failing_accounts),
                c.title,
            )
        out.print(ctable)
    if points:
        htable = Table(title="Recorded scores")
        for name in ("at", "standard", "score", "reason"):
            htable.add_column(name, overflow="fold")
        for p in points:
            htable.add_row(
                p.at.strftime("%Y-%m-%d %H:%M:%S"),
                escape(p.standard),
                _pct(p.percent),
                escape(p.reason),
            )
        out.print(htable)
