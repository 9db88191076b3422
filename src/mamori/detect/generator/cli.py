"""`mamori demo logs`: the generator with totals instead of per-day volumes, and the labels
written beside the logs."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from mamori.core import InputError
from mamori.detect.generator.orchestrate import generate


def _start(text: str | None, days: int) -> datetime:
    if text is None:
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return today - timedelta(days=days)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"--start {text!r}: expected a date such as 2026-11-01") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def write_demo_logs(
    out: Path,
    *,
    events: int,
    flows: int | None,
    dns: int | None,
    days: int,
    accounts: list[str],
    regions: list[str],
    start: str | None,
    seed: int,
) -> str:
    per_day = len(accounts) * days
    generated = generate(
        out,
        accounts=accounts,
        regions=regions,
        start=_start(start, days),
        days=days,
        events_per_day=math.ceil(events / per_day),
        flows_per_day=math.ceil((events if flows is None else flows) / per_day),
        dns_per_day=math.ceil((events // 3 if dns is None else dns) / per_day),
        seed=seed,
    )
    labels = [
        {
            "finding_type": lab.finding_type,
            "account_id": lab.account_id,
            "actor": lab.actor,
            "resource": lab.resource,
            "first_seen": lab.first_seen.isoformat(),
            "source": lab.source,
            "benign": lab.benign,
            "scenario": lab.scenario,
        }
        for lab in generated.labels
    ]
    (out / "labels.json").write_bytes(orjson.dumps(labels, option=orjson.OPT_INDENT_2))
    counts = ", ".join(f"{n:,} {k}" for k, n in generated.counts.items())
    attacks = sum(1 for lab in generated.labels if not lab.benign)
    return (
        f"wrote {counts} under {out}: {attacks} attack scenarios and "
        f"{len(labels) - attacks} benign look-alikes (labels.json)"
    )
