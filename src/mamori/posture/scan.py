"""A posture scan: inventory (live or from a saved snapshot) -> checks -> findings -> hub.

Findings are handed to the store account by account as soon as that account's inventory is
complete, so a scan stopped midway keeps everything it had already evaluated.
"""

from __future__ import annotations

import queue
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mamori.aws import AwsOptions, CallCounter, enabled_regions, resolve_targets
from mamori.aws.session import DEFAULT_AUDIT_ROLE
from mamori.core import Finding
from mamori.inventory import Snapshot, collect
from mamori.inventory.snapshot import GLOBAL
from mamori.posture.engine import SOURCE, evaluate, select_checks, services_needed
from mamori.posture.registry import CheckSpec

if TYPE_CHECKING:
    from mamori.hub import Store
    from mamori.identity.analyze import IdentityRun


@dataclass
class ScanRequest:
    aws: AwsOptions = field(default_factory=AwsOptions)
    regions: list[str] | None = None  # None: every region enabled in the account
    org: bool = False
    role_name: str = DEFAULT_AUDIT_ROLE
    external_id: str | None = None
    accounts: list[str] | None = None  # restrict an org scan to these ids
    checks: list[str] | None = None
    standard: str | None = None
    services: list[str] | None = None
    snapshot_in: Path | None = None  # offline: evaluate a saved inventory
    snapshot_out: Path | None = None
    workers: int = 16
    measure_memory: bool = False
    # Identity analysis (escalation paths, external/unused access, guardrails, lints) runs on
    # the same inventory unless the scan is narrowed to some checks.
    identity: bool = True
    # IAM Access Advisor runs one report job per user and role (minutes in a large account), so
    # unused-service analysis is asked for explicitly.
    access_advisor: bool = False


@dataclass
class ScanResult:
    findings: list[Finding]
    snapshot: Snapshot
    scan_id: str | None
    started: float
    finished: float
    api_calls: int
    unreachable: dict[str, str]
    peak_memory: int | None = None
    identity: IdentityRun | None = None

    @property
    def seconds(self) -> float:
        return self.finished - self.started

    @property
    def errors(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = [dict(e.__dict__) for e in self.snapshot.errors]
        out.extend(
            {
                "account": a,
                "region": GLOBAL,
                "service": "sts",
                "operation": "AssumeRole",
                "code": "Unreachable",
                "message": m,
                "count": 1,
            }
            for a, m in self.unreachable.items()
        )
        return out

    @property
    def resource_count(self) -> int:
        return len({f.resource.id for f in self.findings})


Progress = Callable[[str, int, int], None]


def run_scan(
    req: ScanRequest, store: Store | None = None, progress: Progress | None = None
) -> ScanResult:
    if req.measure_memory:
        tracemalloc.start()
    started = time.perf_counter()
    checks = select_checks(req.checks, req.standard, req.services)
    with_identity = req.identity and not (req.checks or req.standard or req.services)
    extra = _identity_services(req.access_advisor) if with_identity else set()
    services = sorted(services_needed(checks) | extra)
    counter = CallCounter()
    unreachable: dict[str, str] = {}
    findings: list[Finding] = []

    if req.snapshot_in is not None:
        snapshot = Snapshot.load(req.snapshot_in)
        accounts = sorted(snapshot.accounts)
        regions = sorted(snapshot.regions)
        scan_id = _begin(store, accounts, regions)
        batch = list(evaluate(snapshot, checks))
        findings.extend(batch)
        if store is not None:
            store.write(batch, scan_id)
    else:
        targets = resolve_targets(
            req.aws,
            org=req.org,
            role_name=req.role_name,
            external_id=req.external_id,
            accounts=req.accounts,
            counter=counter,
        )
        unreachable = dict(targets.unreachable)
        regions = req.regions or enabled_regions(targets.accounts[0])
        accounts = [s.account_id for s in targets.accounts]
        scan_id = _begin(store, accounts, regions)
        snapshot = Snapshot(partition=targets.accounts[0].partition)
        ready: queue.Queue[str | None] = queue.Queue()
        failures: list[BaseException] = []
        writer = threading.Thread(
            target=_evaluate_as_ready,
            name="evaluate",
            daemon=True,
            args=(ready, snapshot, checks, store, scan_id, findings, failures),
        )
        writer.start()
        try:
            collect(
                targets.accounts,
                regions,
                services=services,
                snapshot=snapshot,
                workers=req.workers,
                progress=progress,
                on_account_done=ready.put,
            )
        except BaseException:
            ready.put(None)
            writer.join()
            if store is not None and scan_id is not None:
                store.finish_scan(
                    scan_id, status="interrupted", counts=_counts(findings), archive=False
                )
            raise
        ready.put(None)
        writer.join()
        if failures:
            raise failures[0]
    if req.snapshot_out is not None:
        snapshot.save(req.snapshot_out)
    finished = time.perf_counter()
    peak = None
    if req.measure_memory:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    result = ScanResult(
        findings, snapshot, scan_id, started, finished, counter.total, unreachable, peak
    )
    if store is not None and scan_id is not None:
        store.finish_scan(
            scan_id,
            counts=_counts(findings),
            errors=result.errors,
            # Archive only what a complete, unfiltered scan can vouch for.
            archive=not (req.checks or req.standard or req.services),
        )
    if with_identity:
        result.identity = _identity(snapshot, store)
        result.finished = time.perf_counter()
    if store is not None and scan_id is not None:
        from mamori.posture.score import record_scores

        record_scores(store, f"scan {scan_id}")
    return result


def _identity_services(access_advisor: bool) -> set[str]:
    from mamori.identity.analyze import ACCESS_ADVISOR, IDENTITY_SERVICES

    return set(IDENTITY_SERVICES) - (set() if access_advisor else {ACCESS_ADVISOR})


def _identity(snapshot: Snapshot, store: Store | None) -> IdentityRun:
    from mamori.identity.analyze import analyze
    from mamori.identity.model import model_from_snapshot
    from mamori.identity.store import store_identity_findings

    run = analyze(snapshot, model_from_snapshot(snapshot))
    if store is not None:
        store_identity_findings(store, run, snapshot)
    return run


def _begin(store: Store | None, accounts: list[str], regions: list[str]) -> str | None:
    if store is None:
        return None
    from mamori.hub import ScanScope

    scope = ScanScope(
        source=SOURCE, accounts=tuple(accounts), regions=tuple(sorted({*regions, GLOBAL}))
    )
    return store.begin_scan("posture", scope)


def _evaluate_as_ready(
    ready: queue.Queue[str | None],
    snapshot: Snapshot,
    checks: list[CheckSpec],
    store: Store | None,
    scan_id: str | None,
    out: list[Finding],
    failures: list[BaseException],
) -> None:
    def accounts() -> Iterator[str]:
        while (acct := ready.get()) is not None:
            yield acct

    for acct in accounts():
        if failures:
            continue  # drain the queue so the collector side never blocks
        try:
            batch = list(evaluate(snapshot, checks, accounts=[acct]))
            out.extend(batch)
            if store is not None:
                store.write(batch, scan_id)
        except Exception as exc:  # noqa: BLE001 - re-raised in the scanning thread
            failures.append(exc)


def _counts(findings: list[Finding]) -> dict[str, int]:
    from mamori.hub.records import status_counts

    return status_counts(findings)
