"""A detection run: ingest new log files, load threat intelligence, run the rules, store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from mamori.detect import run_tables
from mamori.detect.baseline import DEFAULT_LEARNING
from mamori.detect.engine import DetectResult, connect, run_rules
from mamori.detect.evidence import attach_events
from mamori.detect.findings import SOURCE

if TYPE_CHECKING:
    from mamori.detect.enrichment import Enrichment
    from mamori.detect.sigma import SigmaImport
    from mamori.hub import Store, UpsertStats


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("mamori", appauthor=False)) / "detect"


@dataclass
class DetectRequest:
    cloudtrail: list[str] = field(default_factory=list)  # folders or s3:// prefixes
    vpc_flow: list[str] = field(default_factory=list)
    dns: list[str] = field(default_factory=list)
    waf: list[str] = field(default_factory=list)  # AWS WAF logs
    intel: list[Path] = field(default_factory=list)
    trusted_ips: list[Path] = field(default_factory=list)
    tor_exit_list: Path | None = None
    rules: list[str] | None = None
    since: datetime | None = None
    data_dir: Path | None = None
    memory_limit: str | None = None
    # Known findings are rewritten in the hub at most this often (GuardDuty's publishing
    # frequency for updated findings); new ones at once. None: every run.
    update_every: timedelta | None = None
    sigma: list[Path] = field(default_factory=list)  # Sigma rule files/folders, run beside `rules`
    mmdb: list[Path] = field(default_factory=list)  # country / ASN databases (MaxMind, DB-IP...)
    aws_ip_ranges: Path | None = None  # AWS's published ip-ranges.json
    learning: timedelta = DEFAULT_LEARNING  # before a principal's behaviour is judged
    engine: str = "duckdb"  # or "spark": the same rules, transpiled (mamori.detect.spark_engine)
    spark_master: str = "local[*]"


@dataclass
class DetectRun:
    result: DetectResult
    ingest: Any  # IngestReport
    intel_errors: list[str]
    data_dir: Path
    stored: UpsertStats | None = None


def run_detect(req: DetectRequest, store: Store | None = None) -> DetectRun:
    from mamori.detect.ingest import Source, ingest
    from mamori.detect.intel import load_intel
    from mamori.detect.rules.base import rules as select_rules
    from mamori.investigate import update_after_run

    chosen = select_rules(req.rules)
    sigma = _sigma(req.sigma)
    if req.engine == "spark":
        from mamori.detect.spark_engine import preflight

        preflight(req.spark_master)  # before any ingest: a run that cannot start says so first
    data_dir = req.data_dir or default_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    sources = [
        *(Source("cloudtrail", loc) for loc in req.cloudtrail),
        *(Source("vpc-flow", loc) for loc in req.vpc_flow),
        *(Source("dns", loc) for loc in req.dns),
        *(Source("waf", loc) for loc in req.waf),
    ]
    report = ingest(sources, data_dir, since=req.since, memory_limit=req.memory_limit)
    intel = load_intel(req.intel, req.trusted_ips, tor_exit_list=req.tor_exit_list)
    enrichment = _enrichment(req)
    con = connect(data_dir, intel, since=req.since, memory_limit=req.memory_limit)
    try:
        run_tables.prepare(con, data_dir, enrichment, learning=req.learning)
        if req.engine == "spark":
            result = _spark_rules(req, data_dir, intel, con, [*chosen, *sigma.rules])
        else:
            result = run_rules(con, [*chosen, *sigma.rules])
        attach_events(con, result.findings)
    finally:
        con.close()
        if enrichment is not None:
            enrichment.close()
    result.errors[:0] = sigma.messages()
    stored = _store(store, result, req.update_every) if store is not None else None
    # The investigation graph takes in the parts just ingested and links the run's findings.
    result.errors.extend(update_after_run(data_dir, result.findings))
    errors = [*intel.errors, *(enrichment.errors if enrichment else [])]
    return DetectRun(result, report, errors, data_dir, stored)


def _enrichment(req: DetectRequest) -> Enrichment | None:
    if not (req.mmdb or req.aws_ip_ranges):
        return None
    from mamori.detect.enrichment import Enrichment

    return Enrichment.load(req.mmdb, req.aws_ip_ranges)


def _spark_rules(
    req: DetectRequest, data_dir: Path, intel: Any, con: Any, rules: list[Any]
) -> DetectResult:
    """The rules on Spark over the same tables; the tables DuckDB computed for this run (the
    baseline, ip_info, ip_trusted, ip_intel) are handed over as they are."""
    from mamori.detect.spark_engine import detect_spark

    extra = run_tables.handed_over(con)
    return detect_spark(
        data_dir, intel, rules, since=req.since, master=req.spark_master, extra=extra
    )


def _sigma(paths: list[Path]) -> SigmaImport:
    """Imported Sigma rules (refused ones become run errors); never added to the registry."""
    from mamori.detect.sigma import SigmaImport, import_sigma

    return import_sigma(paths) if paths else SigmaImport()


def _store(store: Store, result: DetectResult, update_every: timedelta | None) -> UpsertStats:
    from mamori.hub import ScanScope
    from mamori.hub.records import status_counts

    accounts = tuple(sorted({f.account_id for f in result.findings}))
    regions = tuple(sorted({f.region for f in result.findings}))
    scan_id = store.begin_scan(
        "detect", ScanScope(source=SOURCE, accounts=accounts, regions=regions)
    )
    try:
        stats = store.write(result.findings, scan_id, update_every=update_every)
    except BaseException:
        store.finish_scan(scan_id, status="interrupted", archive=False)
        raise
    # Threat findings stay until someone resolves them: a run over other logs proves nothing
    # about an earlier attack.
    store.finish_scan(
        scan_id,
        counts=status_counts(result.findings),
        errors=[{"message": e} for e in result.errors],
        archive=False,
    )
    return stats
