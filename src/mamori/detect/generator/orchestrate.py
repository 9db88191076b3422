"""Drive one generation: validate the request, place the scenarios, then write day by day.

Memory stays bounded by one account-day of background records: each day is generated, merged
with the (small) scenario records that fall on it, written out in five-minute files, and
dropped before the next day begins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mamori.core import InputError
from mamori.detect.generator import (  # noqa: F401 - importing registers the scenarios
    scenarios_iam,
    scenarios_net,
    scenarios_trail,
)
from mamori.detect.generator.base import RUNNERS, SCENARIOS, Context
from mamori.detect.generator.cloudtrail import background_day
from mamori.detect.generator.model import (
    AccountWorld,
    Generated,
    Label,
    build_world,
    is_account,
    is_region,
    rng_for,
)
from mamori.detect.generator.network import background_dns, background_flows
from mamori.detect.generator.writers import (
    Timed,
    compact_dns,
    compact_flow,
    compact_trail,
    write_cloudtrail,
    write_dns,
    write_flows,
)

Pending = dict[tuple[str, str, str, int], list[Timed]]
_COMPACT: dict[str, Callable[[AccountWorld, datetime, dict[str, Any]], Timed]] = {
    "cloudtrail": lambda _w, t, rec: compact_trail(t, rec),
    "vpc-flow": compact_flow,
    "dns": lambda _w, t, rec: compact_dns(t, rec),
}
_HISTORY_START_HOUR = 12
# The learning period the generated world is built for: a principal first seen on day one is
# judged from noon of day two on, when the scenarios that need history start.
LEARNING = timedelta(hours=12)
_LATEST_START_HOUR = 20  # scenarios last under three hours and must end inside their day


def _validate(accounts: list[str], regions: list[str], days: int, volumes: dict[str, int]) -> None:
    if not accounts:
        raise InputError("accounts: at least one account id is needed")
    for account in accounts:
        if not isinstance(account, str) or not is_account(account):
            raise InputError(f"accounts: {account!r} is not a 12-digit AWS account id")
    if len(set(accounts)) != len(accounts):
        raise InputError("accounts: the same account id is listed twice")
    if not regions:
        raise InputError("regions: at least one region is needed")
    for region in regions:
        if not isinstance(region, str) or not is_region(region):
            raise InputError(f"regions: {region!r} is not an AWS region name")
    if not isinstance(days, int) or days < 1:
        raise InputError(f"days: {days!r} must be a whole number of days, at least 1")
    for name, value in volumes.items():
        if not isinstance(value, int) or value < 0:
            raise InputError(f"{name}: {value!r} must be a whole number, 0 or more")


def _select(scenarios: Iterable[str] | None) -> list[str]:
    if scenarios is None:
        return list(SCENARIOS)
    if isinstance(scenarios, str):
        raise InputError(f"scenarios: give a list of scenario ids, not the string {scenarios!r}")
    chosen = list(dict.fromkeys(scenarios))
    unknown = [s for s in chosen if s not in SCENARIOS]
    if unknown:
        names = ", ".join(map(repr, unknown))
        raise InputError(f"scenarios: unknown id(s) {names}; known: {', '.join(SCENARIOS)}")
    return chosen


def _run_scenarios(
    chosen: list[str],
    worlds: list[AccountWorld],
    regions: list[str],
    start: datetime,
    days: int,
    seed: int,
) -> tuple[Pending, list[Label]]:
    pending: Pending = {}
    labels: list[Label] = []
    end = start + timedelta(days=days)
    for n, scenario_id in enumerate(chosen):
        rng = rng_for(seed, "scenario", scenario_id)
        world = worlds[n % len(worlds)]
        spec = SCENARIOS[scenario_id]
        # A one-day run has no later day: such a scenario is then written but not detectable.
        day = max(n % days, 1) if spec.needs_history and days > 1 else n % days
        # Past noon: a principal first seen on day one has then passed its LEARNING period.
        earliest = _HISTORY_START_HOUR if spec.needs_history else 1
        t0 = start + timedelta(
            days=day, seconds=int(rng.uniform(earliest, _LATEST_START_HOUR) * 3600)
        )
        ctx = Context(spec, rng, world, worlds, regions, t0, days, start)
        RUNNERS[scenario_id](ctx)
        for (source, account, where), recs in ctx.records.items():
            for t, rec in recs:
                if not start <= t < end:
                    raise AssertionError(f"scenario {scenario_id} wrote outside the window: {t}")
                key = (source, account, where, (t - start).days)
                pending.setdefault(key, []).append(_COMPACT[source](world, t, rec))
        labels.extend(ctx.labels)
    labels.sort(key=lambda lb: (lb.first_seen, lb.scenario, lb.benign, lb.actor))
    return pending, labels


def generate(
    out: Path,
    *,
    accounts: list[str],
    regions: list[str],
    start: datetime,
    days: int,
    events_per_day: int,
    flows_per_day: int,
    dns_per_day: int,
    seed: int = 7,
    scenarios: Iterable[str] | None = None,
) -> Generated:
    """Write `days` of logs for every account under `out`, in AWS's S3 delivery layouts.

    Volumes are routine records per account per day (scenario records come on top). `start` is
    taken as UTC and truncated to its day.
    """
    volumes = {"events_per_day": events_per_day, "flows_per_day": flows_per_day}
    volumes["dns_per_day"] = dns_per_day
    _validate(accounts, regions, days, volumes)
    if not isinstance(start, datetime):
        raise InputError(f"start: {start!r} is not a datetime")
    begin = (start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    chosen = _select(scenarios)
    worlds = [build_world(seed, a, regions[0], i) for i, a in enumerate(accounts)]
    pending, labels = _run_scenarios(chosen, worlds, regions, begin, days, seed)
    counts = {"cloudtrail": 0, "vpc-flow": 0, "dns": 0}
    root = Path(out)
    for world in worlds:
        acct = world.account_id
        for d in range(days):
            day = begin + timedelta(days=d)
            by_region: dict[str, list[Timed]] = {r: [] for r in regions}
            rng = rng_for(seed, "cloudtrail", acct, d)
            for t, rec in background_day(rng, world, day, events_per_day, regions):
                by_region[rec["awsRegion"]].append(compact_trail(t, rec))
            for region, recs in by_region.items():
                recs.extend(pending.pop(("cloudtrail", acct, region, d), []))
                wrng = rng_for(seed, "write-ct", acct, region, d)
                counts["cloudtrail"] += write_cloudtrail(root, wrng, acct, region, recs)
            del by_region
            frng = rng_for(seed, "flows", acct, d)
            flows = [
                compact_flow(world, t, r)
                for t, r in background_flows(frng, world, day, flows_per_day)
            ]
            flows.extend(pending.pop(("vpc-flow", acct, world.region, d), []))
            wrng = rng_for(seed, "write-flows", acct, d)
            counts["vpc-flow"] += write_flows(root, wrng, world, world.region, flows)
            del flows
            drng = rng_for(seed, "dns", acct, d)
            queries = [compact_dns(t, r) for t, r in background_dns(drng, world, day, dns_per_day)]
            queries.extend(pending.pop(("dns", acct, "", d), []))
            counts["dns"] += write_dns(root, rng_for(seed, "write-dns", acct, d), world, queries)
    if pending:  # a scenario addressed a region or account that is not being generated
        raise AssertionError(f"scenario records left unwritten: {sorted(pending)[:3]}")
    return Generated(root=root, labels=labels, counts=counts)
