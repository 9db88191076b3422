"""Findings-hub benchmark: a store of 1M findings on SQLite and PostgreSQL.

Fills a store with N findings shaped like a real organisation's (posture results over many
accounts, regions and checks, detections with ATT&CK tactics, identity findings), then measures:

- upserts: a re-scan of 100k findings (90% already stored, updated; 10% new), findings/s;
- the main list query (active, HIGH or worse, failing or without status, worst first) with its
  count, first page and a deep page;
- insights (group by account, check, finding type);
- the security scores (every standard and overall, aggregated in SQL);
- the dashboard's overview and findings pages, server side (in-process, logged in);

and prints the issue's targets beside the figures.

    .venv/bin/python bench/hub.py [--findings 1000000] [--scan 100000]
        [--backend sqlite|postgresql|both] [--workdir DIR] [--keep]

PostgreSQL is a throwaway server started with scripts/pg.sh. With --workdir DIR --keep, a filled
SQLite store in DIR is reused by the next run of the same size (filling is the slow phase).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _report import cpu_model
from _report import table as _plain_table

from mamori.core import Compliance, Finding, Mitre, Resource, Severity
from mamori.hub import FindingFilter, Store
from mamori.posture.score import current_scores, record_scores

REPO = Path(__file__).resolve().parent.parent
TARGET_PAGE_MS = 200.0
TARGET_UPSERTS_PER_S = 5_000

T0 = datetime(2026, 11, 1, tzinfo=UTC)
SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "MEDIUM", "LOW", "LOW", "INFORMATIONAL"]
STATUSES = ["FAILED", "PASSED", "PASSED", "PASSED", "NOT_AVAILABLE"]
TACTICS = ["Initial Access", "Persistence", "Privilege Escalation", "Defense Evasion", "Impact"]
RESOURCE_TYPES = ["AwsS3Bucket", "AwsEc2Instance", "AwsIamRole", "AwsEc2SecurityGroup"]


def _check_ids() -> list[str]:
    # Real check ids, so that the scores have standards' controls to score.
    from mamori.posture.registry import load_checks

    return sorted(load_checks())


def finding(i: int, checks: list[str], *, observed: datetime = T0) -> Finding:
    """The i-th finding of the synthetic organisation: deterministic, so that a re-scan's
    finding i updates the stored finding i."""
    account = f"{100000000000 + i % 200:012d}"
    region = ("us-east-1", "eu-west-1", "ap-northeast-1", "us-west-2")[i % 4]
    kind = i % 10
    severity = Severity.of(SEVERITIES[i % len(SEVERITIES)])
    if kind < 8:  # posture: most of a hub
        check = checks[i % len(checks)]
        rtype = RESOURCE_TYPES[i % len(RESOURCE_TYPES)]
        return Finding.build(
            generator_id=check,
            resources=[Resource(type=rtype, id=f"arn:aws:svc:{region}:{account}:r/{i}")],
            account_id=account,
            region=region,
            source="posture",
            types=["Software and Configuration Checks/AWS Security Best Practices"],
            severity=severity,
            title=f"{check} on resource {i}",
            compliance=Compliance(status=STATUSES[i % len(STATUSES)]),
            first_observed_at=observed,
            last_observed_at=observed,
        )
    tactic = TACTICS[i % len(TACTICS)]
    return Finding.build(
        generator_id=f"Recon:IAMUser/Burst{i % 40}",
        resources=[Resource(type="AwsIamAccessKey", id=f"AKIA{i:016d}", region=region)],
        account_id=account,
        region=region,
        source="detect" if kind == 8 else "identity",
        types=[f"TTPs/{tactic}/Recon:IAMUser-Burst"],
        severity=severity,
        title=f"Unusual API burst from key {i}",
        first_observed_at=observed,
        last_observed_at=observed,
        evidence={"sourceIPAddress": f"198.51.{i % 250}.{i % 200}", "events": 3},
        mitre=[Mitre(tactic=tactic, technique_id="T1087")],
    )


def _findings(start: int, stop: int, checks: list[str], observed: datetime) -> Iterator[Finding]:
    for i in range(start, stop):
        yield finding(i, checks, observed=observed)


def fill(store: Store, n: int, checks: list[str]) -> float:
    """Findings/s of the initial fill (all inserts)."""
    t = time.perf_counter()
    chunk = 50_000
    for start in range(0, n, chunk):
        store.write(_findings(start, min(n, start + chunk), checks, T0), batch_size=1000)
        done = min(n, start + chunk)
        rate = done / (time.perf_counter() - t)
        print(f"  filled {done:,} ({rate:,.0f}/s)", file=sys.stderr, flush=True)
    return n / (time.perf_counter() - t)


def rescan(store: Store, n: int, size: int, checks: list[str]) -> tuple[float, Any]:
    """A scan of `size` findings: 90% already stored (updated), 10% new."""
    new = size // 10
    later = T0 + timedelta(days=1)
    items = [*_findings(n - (size - new), n + new, checks, later)]
    t = time.perf_counter()
    stats = store.write(items, batch_size=1000)
    return size / (time.perf_counter() - t), stats


def best_ms(fn: Callable[[], object], runs: int = 5) -> float:
    """Median of `runs` timed calls after one warm-up (caches as a live server has them)."""
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def page_rows(url: str, label: str) -> list[list[str]]:
    """The dashboard's pages rendered by the app in-process (through its whole middleware
    chain, logged in; no network)."""
    from mamori.web.bench import findings_timer, overview_timer

    rows = []
    for name, timer in (
        ("overview page (server side)", overview_timer),
        ("findings page HIGH+ FAILED (server side)", findings_timer),
    ):
        ms = best_ms(timer(url))
        met = "MET" if ms < TARGET_PAGE_MS else "MISSED"
        rows.append([f"{label}: {name}", f"{ms:,.1f} ms", f"< {TARGET_PAGE_MS:.0f} ms: {met}"])
    return rows


def measure(url: str, n: int, size: int, label: str, reuse: bool) -> list[list[str]]:
    checks = _check_ids()
    rows: list[list[str]] = []
    with Store.open(url) as store:
        if not reuse:
            rate = fill(store, n, checks)
            rows.append([f"{label}: fill {n:,} findings", f"{rate:,.0f} findings/s", ""])
            # As a scan does when it finishes: the overview reads the latest recorded scores.
            record_scores(store, "bench fill")
        total = store.count(FindingFilter(record_state=None))
        upsert, stats = rescan(store, total, size, checks)
        rows.append(
            [
                f"{label}: upsert a {size:,}-finding scan",
                f"{upsert:,.0f} findings/s ({stats.updated:,} updated, {stats.inserted:,} new)",
                f">= {TARGET_UPSERTS_PER_S:,}/s: "
                + ("MET" if upsert >= TARGET_UPSERTS_PER_S else "MISSED"),
            ]
        )
        flt = FindingFilter(min_severity="high", status=["FAILED"])

        def page(offset: int) -> Callable[[], object]:
            return lambda: (store.count(flt), store.list_findings(flt, limit=50, offset=offset))

        for name, fn in (
            ("list page 1 + count (HIGH+, FAILED)", page(0)),
            ("list page 200 + count", page(50 * 199)),
            ("list page 1, no filter", lambda: store.list_findings(limit=50)),
            ("insights by account", lambda: store.insights("account")),
            ("insights by check", lambda: store.insights("check")),
            ("insights by type", lambda: store.insights("type")),
            ("scores computed live (all standards)", lambda: _scores(store)),
        ):
            ms = best_ms(fn)
            target = (
                f"< {TARGET_PAGE_MS:.0f} ms: " + ("MET" if ms < TARGET_PAGE_MS else "MISSED")
                if name.startswith("list")
                else ""
            )
            rows.append([f"{label}: {name}", f"{ms:,.1f} ms", target])
    return rows + page_rows(url, label)


def _scores(store: Store) -> object:
    return current_scores(store)


def _start_pg() -> tuple[str, dict[str, str]]:
    env = {**os.environ, "MAMORI_PG_DIR": tempfile.mkdtemp(prefix="mamori-bench-pg.")}
    url = subprocess.run(
        ["bash", str(REPO / "scripts" / "pg.sh"), "start"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return url, env


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--findings", type=int, default=1_000_000)
    ap.add_argument("--scan", type=int, default=100_000)
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="mamori-bench-hub."))
    workdir.mkdir(parents=True, exist_ok=True)
    rows = [["phase", "result", "target"]]
    try:
        if args.backend in ("sqlite", "both"):
            db = workdir / f"hub-{args.findings}.db"
            reuse = args.keep and db.exists()
            rows += measure(f"sqlite:///{db}", args.findings, args.scan, "SQLite", reuse)
        if args.backend in ("postgresql", "both"):
            url, env = _start_pg()
            try:
                rows += measure(url, args.findings, args.scan, "PostgreSQL", False)
            finally:
                subprocess.run(
                    ["bash", str(REPO / "scripts" / "pg.sh"), "stop"], check=False, env=env
                )
    finally:
        if not (args.keep or args.workdir):
            shutil.rmtree(workdir, ignore_errors=True)
    python = sys.version.split()[0]
    print(f"\nFindings hub, {args.findings:,} findings; {cpu_model()}, Python {python}")
    _plain_table(rows, left_first=True)


if __name__ == "__main__":
    main()
