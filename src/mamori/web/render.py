"""Template helpers: formatting, links that change one query parameter, and the geometry of
the small SVG charts (drawn with attributes, never inline styles, which the CSP forbids)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.requests import Request

from mamori.web.graphs import NODE_H, NODE_W
from mamori.web.schemas import Graph, ScorePointOut

CHART_W = 640.0
CHART_H = 180.0
_PAD = 28.0


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def with_query(request: Request, **changes: Any) -> str:
    """This request's path and query with some parameters replaced (a list: repeated; None:
    removed)."""
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for key, value in changes.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            pairs.extend((key, str(v)) for v in value)
        else:
            pairs.append((key, str(value)))
    query = urlencode(pairs)
    return request.url.path + (f"?{query}" if query else "")


def bar(count: int, largest: int, width: float = 220.0) -> float:
    """Length of a bar for `count` when the largest bar is `width` long."""
    return 0.0 if largest <= 0 else round(width * count / largest, 1)


def trend(points: Sequence[ScorePointOut]) -> dict[str, Any]:
    """Polylines of score percentages over time, one per standard, in a CHART_W x CHART_H
    box (y = 0% at the bottom)."""
    dated = [p for p in points if p.percent is not None]
    if not dated:
        return {"width": CHART_W, "height": CHART_H, "lines": [], "start": None, "end": None}
    start = min(p.at for p in dated)
    end = max(p.at for p in dated)
    span = max((end - start).total_seconds(), 1.0)
    inner_w, inner_h = CHART_W - 2 * _PAD, CHART_H - 2 * _PAD
    lines: dict[str, list[str]] = {}
    for p in sorted(dated, key=lambda p: p.at):
        x = _PAD + inner_w * (p.at - start).total_seconds() / span
        y = _PAD + inner_h * (1 - (p.percent or 0.0) / 100.0)
        lines.setdefault(p.standard, []).append(f"{x:.1f},{y:.1f}")
    return {
        "width": CHART_W,
        "height": CHART_H,
        "pad": _PAD,
        "lines": [
            {
                "standard": name,
                "points": " ".join(xy),
                # The last points as dots: a trend of one point has no line to show.
                "dots": [tuple(p.split(",")) for p in xy[-20:]],
            }
            for name, xy in sorted(lines.items())
        ],
        "start": start,
        "end": end,
    }


def ticks(start: datetime | None, end: datetime | None, width: float) -> list[tuple[float, str]]:
    """Date marks along a time axis of `width` from `start` to `end`: at most eight, on
    midnights when the span is days long."""
    if start is None or end is None or end <= start:
        return []
    span = (end - start).total_seconds()
    days = span / 86400
    step = timedelta(days=max(1, math.ceil(days / 8))) if days >= 2 else timedelta(seconds=span / 4)
    at = start.replace(hour=0, minute=0, second=0, microsecond=0) if days >= 2 else start
    marks: list[tuple[float, str]] = []
    while at <= end:
        if at >= start:
            x = round(width * (at - start).total_seconds() / span, 1)
            marks.append((x, at.strftime("%m-%d") if days >= 2 else at.strftime("%H:%M")))
        at += step
    return marks


def largest(values: Iterable[int]) -> int:
    return max(values, default=0)


def pretty(value: Any) -> str:
    """Evidence and details as indented JSON text (escaped by the template like any text)."""
    return json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False)


def clip(text: str, size: int = 32) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def http_url(value: str | None) -> str | None:
    """A link target only if it is an http(s) URL: imported findings carry URLs from reports,
    and a `javascript:` one would run on click."""
    if not value:
        return None
    scheme = value.split(":", 1)[0].strip().lower()
    return value if scheme in ("http", "https") and "://" in value else None


def edges(graph: Graph) -> list[dict[str, Any]]:
    """SVG geometry of a graph's edges: a curve from the side of one node to the facing side of
    the other (around the right side when both are in one column), and where its label goes.
    Busy graphs label only the edges of the root; every edge keeps its label as a tooltip."""
    at = {n.id: n for n in graph.nodes}
    busy = len(graph.edges) > 16
    drawn: list[dict[str, Any]] = []
    for e in graph.edges:
        a, b = at.get(e.source), at.get(e.target)
        if a is None or b is None:
            continue
        mid_a, mid_b = a.y + NODE_H / 2, b.y + NODE_H / 2
        if b.x > a.x:
            x1, x2 = a.x + NODE_W, b.x
            c1, c2 = x1 + (x2 - x1) / 2, x2 - (x2 - x1) / 2
        elif b.x < a.x:
            x1, x2 = a.x, b.x + NODE_W
            c1, c2 = x1 - (x1 - x2) / 2, x2 + (x1 - x2) / 2
        else:
            x1 = x2 = a.x + NODE_W
            c1 = c2 = x1 + 40 + abs(mid_b - mid_a) / 4
        d = f"M{x1:.1f},{mid_a:.1f} C{c1:.1f},{mid_a:.1f} {c2:.1f},{mid_b:.1f} {x2:.1f},{mid_b:.1f}"
        labelled = not busy or graph.root in (e.source, e.target)
        drawn.append(
            {
                "d": d,
                "lx": (x1 + x2) / 2 if x1 != x2 else c1,
                "ly": (mid_a + mid_b) / 2 - 6,
                "edge": e,
                "labelled": labelled,
            }
        )
    return drawn


def install(env: jinja2.Environment) -> None:
    env.filters.update(when=when, pct=pct, pretty=pretty, clip=clip, http_url=http_url)
    env.globals.update(
        with_query=with_query,
        bar=bar,
        trend=trend,
        largest=largest,
        ticks=ticks,
        edges=edges,
        node_w=NODE_W,
        node_h=NODE_H,
    )
