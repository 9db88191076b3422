"""Threat-detection benchmark: 1M CloudTrail events and 4M VPC flow records, end to end.

Generates the logs with mamori.detect.generator (gzipped files in AWS's S3 delivery layouts:
four accounts, two regions, five days, plus a little Route 53 Resolver DNS), then measures:

- the reference: DuckDB alone counting the same CloudTrail records (read_json with
  records='true'; on CloudTrail's {"Records": [...]} files that yields one row per file with a
  `Records` list, so the records are unnested) and the same flow records (read_csv);
- mamori.detect.ingest.ingest per kind of log: records per second end to end (file listing,
  gunzip, parse, typed Arrow columns, Parquet parts, ledger);
- every rule (mamori.detect.engine.connect + run_rules) over the ingested data under a DuckDB
  memory limit: a first run, then a second run over the same data, and the slowest rules;

and prints the issue's targets beside the figures.

    .venv/bin/python bench/detect.py [--events 1000000] [--flows 4000000] [--workdir DIR]
        [--keep] [--only ingest-ct|ingest-flows|rules] [--profile]

With --workdir DIR --keep, the logs generated there are reused by the next run of the same
sizes (generation is the slowest phase); --only runs one phase: an ingest beside its DuckDB
reference, or the rules (over the Parquet kept in DIR, ingested first if it is not there).

Each phase runs in a child process; its peak memory is the child's ru_maxrss, read with
os.wait4 when it exits. Generation is a child too, so that this process stays small (a child's
ru_maxrss starts from its parent's size at the fork).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from _report import cpu_model
from _report import table as _plain_table

ACCOUNTS = ["111111111111", "222222222222", "333333333333", "444444444444"]
REGIONS = ["us-east-1", "eu-west-1"]
DAYS = 5
START = datetime(2024, 5, 1, tzinfo=UTC)
DNS_SHARE = 0.05  # DNS queries generated per CloudTrail event: "a little DNS"
MEMORY_LIMIT = "2GB"

TARGET_CT_SHARE = 0.50  # CloudTrail end to end >= 50% of DuckDB's bare read rate
TARGET_RERUN_S_PER_M = 5.0  # re-running all rules < 5 s per million events
TARGET_FLOWS_PER_S = 400_000  # VPC flow records end to end

CT_GLOB = "AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz"
FLOW_GLOB = "AWSLogs/*/vpcflowlogs/*/*/*/*/*.log.gz"


def _q(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


# -- phases (each in a child process) ----------------------------------------------------------


def phase_generate(logs: Path, events: int, flows: int) -> dict[str, Any]:
    from mamori.detect.generator import generate

    per = len(ACCOUNTS) * DAYS
    started = time.perf_counter()
    result = generate(
        logs,
        accounts=ACCOUNTS,
        regions=REGIONS,
        start=START,
        days=DAYS,
        events_per_day=-(-events // per),
        flows_per_day=-(-flows // per),
        dns_per_day=int(events * DNS_SHARE) // per,
    )
    files = {
        "ct_files": len(list(logs.glob(CT_GLOB))),
        "flow_files": len(list(logs.glob(FLOW_GLOB))),
    }
    mb = sum(p.stat().st_size for p in logs.rglob("*.gz")) / 2**20
    return {**result.counts, **files, "gz_mb": mb, "seconds": time.perf_counter() - started}


def _duck(sql: str) -> tuple[int, float, float]:
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    started, cpu = time.perf_counter(), time.process_time()
    [(count,)] = con.sql(sql).fetchall()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    con.close()
    return int(count), seconds, cpu


def phase_bare_ct(logs: Path) -> dict[str, Any]:
    # records='true' reads each {"Records": [...]} file as one row whose `Records` column is a
    # list of structs; unnest gives one row per event.
    source = f"read_json({_q(logs / CT_GLOB)}, records = 'true')"
    count, seconds, cpu = _duck(f"SELECT count(*) FROM (SELECT unnest(Records) FROM {source})")  # noqa: S608
    return {"records": count, "seconds": seconds, "cpu_s": cpu}


def phase_bare_flows(logs: Path) -> dict[str, Any]:
    # Each VPC's flow log has its own field list (v2 or v5) and every file its header line; one
    # read_csv per flow log (read_csv's union_by_name over all the files ran out of memory at
    # bind time under the 2GB limit). Timed from the listing on, as ingest is.
    import duckdb

    started, cpu = time.perf_counter(), time.process_time()
    groups: dict[str, list[Path]] = {}
    for path in logs.glob(FLOW_GLOB):
        groups.setdefault(path.name.split("_")[3], []).append(path)
    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    total = 0
    for files in groups.values():
        listed = "[" + ", ".join(_q(p) for p in sorted(files)) + "]"
        options = "delim = ' ', header = true, all_varchar = true"
        sql = f"SELECT count(*) FROM read_csv({listed}, {options})"  # noqa: S608
        [(count,)] = con.sql(sql).fetchall()
        total += int(count)
    con.close()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"records": total, "seconds": seconds, "cpu_s": cpu}


def phase_ingest(logs: Path, data: Path, kind: str, profile: bool) -> dict[str, Any]:
    from mamori.detect.ingest import Source, ingest

    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    report = ingest([Source(kind, str(logs))], data, memory_limit=MEMORY_LIMIT)
    if profiler:
        profiler.disable()
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    out: dict[str, Any] = {
        "workers_peak_mb": workers.ru_maxrss / 1024,
        "workers_cpu_s": workers.ru_utime + workers.ru_stime,
        "seconds": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu,
        "files": report.files_read,
        "records": sum(report.records.values()),
        "errors": len(report.errors),
        "first_error": report.errors[0][1] if report.errors else "",
    }
    if profiler:
        out["profile"] = _top(profiler)
    return out


def _top(profiler: cProfile.Profile, lines: int = 14) -> str:
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.strip_dirs().sort_stats("tottime").print_stats(lines)
    body = text.getvalue()
    return body[body.find("ncalls") :].rstrip()


def phase_rules(data: Path) -> dict[str, Any]:
    from mamori.detect import run_tables
    from mamori.detect.engine import connect, run_rules
    from mamori.detect.generator import LEARNING, write_intel_lists
    from mamori.detect.intel import load_intel
    from mamori.detect.rules.base import rules

    chosen = rules()
    # With the threat and trusted lists a real run would load (the intel rules do their work).
    lists = write_intel_lists(data.parent / "intel")
    intel = load_intel(lists.threats, lists.trusted, tor_exit_list=lists.tor)
    runs = []
    for _ in range(2):
        started = time.perf_counter()
        con = connect(data, intel, memory_limit=MEMORY_LIMIT)
        try:
            # The run tables (baseline update, flow intel) are part of every run.
            run_tables.prepare(con, data, learning=LEARNING)
            learned = time.perf_counter() - started
            result = run_rules(con, chosen)
        finally:
            con.close()
        runs.append(
            {
                "seconds": time.perf_counter() - started,
                "baseline_seconds": learned,
                "findings": len(result.findings),
                "errors": result.errors[:5],
                "error_count": len(result.errors),
                "rows": result.rows,
                "per_rule": result.per_rule,
                "per_source": {
                    source: sum(
                        result.per_rule.get(rule.finding_type, 0.0)
                        for rule in chosen
                        if rule.data_source == source
                    )
                    for source in sorted({rule.data_source for rule in chosen})
                },
            }
        )
    return {"rules": len(chosen), "runs": runs}


def child(argv: list[str]) -> None:
    name, result_path, *rest = argv
    paths = [Path(a) for a in rest]
    out: dict[str, Any]
    if name == "generate":
        out = phase_generate(paths[0], int(rest[1]), int(rest[2]))
    elif name == "bare-ct":
        out = phase_bare_ct(paths[0])
    elif name == "bare-flows":
        out = phase_bare_flows(paths[0])
    elif name == "ingest":
        out = phase_ingest(paths[0], paths[1], rest[2], rest[3] == "profile")
    elif name == "rules":
        out = phase_rules(paths[0])
    else:
        sys.exit(f"unknown phase {name!r}")
    Path(result_path).write_bytes(orjson.dumps(out))


# -- driving -----------------------------------------------------------------------------------


def run_phase(name: str, work: Path, *args: str) -> dict[str, Any]:
    result_path = work / f"result-{name}.json"
    proc = subprocess.Popen([sys.executable, __file__, "--child", name, str(result_path), *args])
    _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"phase {name} failed (exit {code})")
    result: dict[str, Any] = orjson.loads(result_path.read_bytes())
    result["peak_mb"] = usage.ru_maxrss / 1024
    result_path.unlink()
    return result


def _rate(r: dict[str, Any]) -> float:
    return float(r["records"]) / r["seconds"] if r["seconds"] else 0.0


def _row(label: str, r: dict[str, Any], unit: str) -> list[str]:
    return [
        label,
        f"{r['records']:,}",
        f"{r['seconds']:.1f}",
        f"{_rate(r):,.0f} {unit}/s",
        f"{r['peak_mb']:.0f}",
    ]


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def table(rows: list[list[str]]) -> None:
    _plain_table(rows, left_first=True)


def report(gen: dict[str, Any], r: dict[str, dict[str, Any]], profile: bool) -> None:
    """Prints what the phases run measured: a row or a target whose phase did not run (with
    --only) is left out."""
    print(
        f"\nlogs: {gen['cloudtrail']:,} CloudTrail events in {gen['ct_files']:,} files,"
        f" {gen['vpc-flow']:,} flow records in {gen['flow_files']:,} files, {gen['dns']:,} DNS"
        f" queries; {gen['gz_mb']:.0f} MB gzipped ({len(ACCOUNTS)} accounts x {len(REGIONS)}"
        f" regions x {DAYS} days); generated in {gen['seconds']:.0f} s"
    )
    print("\nreading (wall time; peak MB = ru_maxrss of the phase's process)")
    rows = [["phase", "records", "s", "rate", "peak MB"]]
    for key, label, unit in READING_ROWS:
        if key in r:
            rows.append(_row(label, r[key], unit))
    table(rows)
    workers = [r[k]["workers_peak_mb"] for k in ("ingest-ct", "ingest-dns") if k in r]
    if any(workers):
        print(
            f"  the ingest's worker processes: peak {max(workers):.0f} MB each; ingest under"
            f" --memory-limit {MEMORY_LIMIT}"
        )
    # CPU time, which other work on the machine slows less than it slows the wall clock.
    for bare, key, label in (
        ("bare-ct", "ingest-ct", "CloudTrail"),
        ("bare-flows", "ingest-flows", "VPC flow"),
    ):
        if key in r and bare in r:
            ours = r[key]["cpu_s"] + r[key]["workers_cpu_s"]
            print(
                f"  CPU, {label}: ingest {ours:.1f} s ({r[key]['workers_cpu_s']:.1f} s of it in"
                f" worker processes), DuckDB's read {r[bare]['cpu_s']:.1f} s"
            )
    for key in ("ingest-ct", "ingest-flows", "ingest-dns"):
        if r.get(key, {}).get("errors"):
            print(f"  {key}: {r[key]['errors']} file errors, first: {r[key]['first_error']}")
    if "rules" in r:
        _report_rules(r["rules"])
    _report_targets(r)
    if profile:
        for key in ("ingest-ct", "ingest-flows"):
            if f"{key}-profile" in r:
                print(f"\nprofile of {key} (cProfile, by own time; profiling slows it down)")
                print(r[f"{key}-profile"]["profile"])


READING_ROWS = [
    ("bare-ct", "DuckDB read_json records='true' + unnest, count", "ev"),
    ("ingest-ct", "mamori ingest CloudTrail (-> Parquet)", "ev"),
    ("bare-flows", "DuckDB read_csv, count", "rec"),
    ("ingest-flows", "mamori ingest VPC flow (-> Parquet)", "rec"),
    ("ingest-dns", "mamori ingest DNS (-> Parquet)", "rec"),
]


def _report_rules(rules: dict[str, Any]) -> None:
    events = rules["runs"][0]["rows"].get("events", 0)
    per_m = max(events, 1) / 1e6
    print(
        f"\nrules: {rules['rules']} rules over {events:,} events,"
        f" {rules['runs'][0]['rows'].get('flows', 0):,} flows,"
        f" {rules['runs'][0]['rows'].get('dns', 0):,} DNS rows;"
        f" DuckDB memory_limit {MEMORY_LIMIT}"
    )
    rows = [["run", "s", "run tables s", "s per M events", "findings", "rule errors"]]
    for n, run in enumerate(rules["runs"], 1):
        label = "first run" if n == 1 else "re-run (same data)"
        rows.append(
            [
                label,
                f"{run['seconds']:.1f}",
                f"{run.get('baseline_seconds', 0.0):.1f}",
                f"{run['seconds'] / per_m:.2f}",
                f"{run['findings']:,}",
                str(run["error_count"]),
            ]
        )
    table(rows)
    for err in rules["runs"][-1]["errors"]:
        print(f"  error: {err}")
    print(f"  peak MB of the rules process (both runs): {rules['peak_mb']:.0f}")
    sources = rules["runs"][-1].get("per_source", {})
    print(
        "  re-run, rules by data source: " + ", ".join(f"{k} {v:.1f} s" for k, v in sources.items())
    )
    slowest = sorted(rules["runs"][-1]["per_rule"].items(), key=lambda kv: -kv[1])[:5]
    print("\nslowest 5 rules (re-run)")
    table([["rule", "s"]] + [[name, f"{s:.2f}"] for name, s in slowest])


def _report_targets(r: dict[str, dict[str, Any]]) -> None:
    rows = [["target", "measured", ""]]
    if "ingest-ct" in r and "bare-ct" in r:
        ct_share = _rate(r["ingest-ct"]) / max(_rate(r["bare-ct"]), 1e-9)
        rows.append(
            [
                f"CloudTrail end to end >= {TARGET_CT_SHARE:.0%} of DuckDB's bare read rate",
                f"{ct_share:.0%}",
                _met(ct_share >= TARGET_CT_SHARE),
            ]
        )
    if "rules" in r:
        runs = r["rules"]["runs"]
        rerun = runs[-1]["seconds"] / (max(runs[0]["rows"].get("events", 0), 1) / 1e6)
        rows.append(
            [
                f"re-running all rules < {TARGET_RERUN_S_PER_M:.0f} s per million events"
                " (CloudTrail events)",
                f"{rerun:.2f} s",
                _met(rerun < TARGET_RERUN_S_PER_M),
            ]
        )
        records = sum(runs[0]["rows"].values())
        per_record = runs[-1]["seconds"] / (max(records, 1) / 1e6)
        rows.append(
            [
                "  the same, per million log records of every source",
                f"{per_record:.2f} s",
                _met(per_record < TARGET_RERUN_S_PER_M),
            ]
        )
    if "ingest-flows" in r:
        flow_rate = _rate(r["ingest-flows"])
        rows.append(
            [
                f"VPC flow >= {TARGET_FLOWS_PER_S:,} records/s end to end",
                f"{flow_rate:,.0f}/s",
                _met(flow_rate >= TARGET_FLOWS_PER_S),
            ]
        )
    peaks = [v["peak_mb"] for k, v in r.items() if not k.startswith("bare")]
    if peaks:
        rows.append(
            [
                f"memory bounded (memory_limit {MEMORY_LIMIT}): peak of ingest and rules",
                f"{max(peaks):.0f} MB",
                _met(max(peaks) < 2 * 1024 + 512),
            ]
        )
    print("\ntargets (from the issue)")
    table(rows)


PHASES = ("ingest-ct", "ingest-flows", "rules")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="CloudTrail events")
    parser.add_argument("--flows", type=int, default=4_000_000, help="VPC flow records")
    parser.add_argument("--workdir", type=Path, help="keep the logs and Parquet here")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="with --workdir: reuse the logs generated there by a run of the same sizes",
    )
    parser.add_argument("--only", choices=PHASES, help="run only this phase")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also ingest CloudTrail and flows once more under cProfile and print the top",
    )
    args = parser.parse_args()
    if args.events < 1000:
        parser.error(f"--events {args.events}: must be at least 1000")
    if args.flows < 1000:
        parser.error(f"--flows {args.flows}: must be at least 1000")
    if args.keep and not args.workdir:
        parser.error("--keep needs --workdir")
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}; Python {sys.version.split()[0]}")
    plan = Plan(args.events, args.flows, args.keep, args.only, args.profile)
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        measure(args.workdir.resolve(), plan)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            measure(Path(tmp), plan)


@dataclass(frozen=True)
class Plan:
    events: int
    flows: int
    keep: bool
    only: str | None
    profile: bool


def _logs(work: Path, plan: Plan) -> dict[str, Any]:
    """The generation figures, generating the logs unless kept ones of the same sizes are
    there (the figures are stored beside them)."""
    logs, facts = work / "logs", work / "logs.json"
    sizes = {"events": plan.events, "flows": plan.flows}
    if plan.keep and facts.is_file() and logs.is_dir():
        kept: dict[str, Any] = orjson.loads(facts.read_bytes())
        if kept.get("sizes") == sizes:
            print("  reusing the logs generated before", flush=True)
            return dict(kept["generated"])
    for folder in (logs, work / "data"):
        if folder.exists():
            shutil.rmtree(folder)
    facts.unlink(missing_ok=True)
    gen = run_phase("generate", work, str(logs), str(plan.events), str(plan.flows))
    facts.write_bytes(orjson.dumps({"sizes": sizes, "generated": gen}))
    print(f"  generated in {gen['seconds']:.0f} s", flush=True)
    return gen


def _steps(work: Path, plan: Plan) -> list[tuple[str, str, list[str]]]:
    logs, data = str(work / "logs"), str(work / "data")
    ct = ("ingest-ct", "ingest", [logs, data, "cloudtrail", "-"])
    flows = ("ingest-flows", "ingest", [logs, data, "vpc-flow", "-"])
    dns = ("ingest-dns", "ingest", [logs, data, "dns", "-"])
    scratch = str(work / "profile-data")
    ct_profile = ("ingest-ct-profile", "ingest", [logs, scratch, "cloudtrail", "profile"])
    flows_profile = ("ingest-flows-profile", "ingest", [logs, scratch, "vpc-flow", "profile"])
    if plan.only == "ingest-ct":
        return [("bare-ct", "bare-ct", [logs]), ct, *([ct_profile] if plan.profile else [])]
    if plan.only == "ingest-flows":
        return [
            ("bare-flows", "bare-flows", [logs]),
            flows,
            *([flows_profile] if plan.profile else []),
        ]
    if plan.only == "rules":
        return [("rules", "rules", [data])]
    steps = [
        ("bare-ct", "bare-ct", [logs]),
        ("bare-flows", "bare-flows", [logs]),
        ct,
        flows,
        dns,
        ("rules", "rules", [data]),
    ]
    return steps + ([ct_profile, flows_profile] if plan.profile else [])


def measure(work: Path, plan: Plan) -> None:
    gen = _logs(work, plan)
    data = work / "data"
    ingested = work / "data.json"
    sizes = orjson.dumps({"events": plan.events, "flows": plan.flows})
    if plan.only == "rules" and not (ingested.is_file() and ingested.read_bytes() == sizes):
        # The rules need every table: ingested here (untimed) unless kept from a full ingest.
        if data.exists():
            shutil.rmtree(data)
        for kind in ("cloudtrail", "vpc-flow", "dns"):
            run_phase("ingest", work, str(work / "logs"), str(data), kind, "-")
        ingested.write_bytes(sizes)
    elif plan.only != "rules":
        # Every ingest is timed from an empty data folder.
        ingested.unlink(missing_ok=True)
        for folder in (data, work / "profile-data"):
            if folder.exists():
                shutil.rmtree(folder)
    r: dict[str, dict[str, Any]] = {}
    for key, name, args in _steps(work, plan):
        if key.endswith("-profile"):
            shutil.rmtree(args[1], ignore_errors=True)
        r[key] = run_phase(name, work, *args)
        seconds = sum(run["seconds"] for run in r[key].get("runs", [r[key]]))
        print(f"  {key} done in {seconds:.1f} s", flush=True)
    if plan.only is None:
        ingested.write_bytes(sizes)
    report(gen, r, plan.profile)


if __name__ == "__main__":
    main()
