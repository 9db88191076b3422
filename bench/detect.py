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
import shutil
import subprocess
import sys
import tempfile
import time
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


def _duck(sql: str) -> tuple[int, float]:
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    started = time.perf_counter()
    [(count,)] = con.sql(sql).fetchall()
    seconds = time.perf_counter() - started
    con.close()
    return int(count), seconds


def phase_bare_ct(logs: Path) -> dict[str, Any]:
    # records='true' reads each {"Records": [...]} file as one row whose `Records` column is a
    # list of structs; unnest gives one row per event.
    source = f"read_json({_q(logs / CT_GLOB)}, records = 'true')"
    count, seconds = _duck(f"SELECT count(*) FROM (SELECT unnest(Records) FROM {source})")  # noqa: S608
    return {"records": count, "seconds": seconds}


def phase_bare_flows(logs: Path) -> dict[str, Any]:
    # Each VPC's flow log has its own field list (v2 or v5) and every file its header line; one
    # read_csv per flow log (read_csv's union_by_name over all the files ran out of memory at
    # bind time under the 2GB limit). Timed from the listing on, as ingest is.
    import duckdb

    started = time.perf_counter()
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
    return {"records": total, "seconds": time.perf_counter() - started}


def phase_ingest(logs: Path, data: Path, kind: str, profile: bool) -> dict[str, Any]:
    from mamori.detect.ingest import Source, ingest

    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    report = ingest([Source(kind, str(logs))], data)
    if profiler:
        profiler.disable()
    out: dict[str, Any] = {
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
    from mamori.detect.engine import connect, run_rules
    from mamori.detect.rules.base import rules

    chosen = rules()
    runs = []
    for _ in range(2):
        started = time.perf_counter()
        con = connect(data, memory_limit=MEMORY_LIMIT)
        try:
            result = run_rules(con, chosen)
        finally:
            con.close()
        runs.append(
            {
                "seconds": time.perf_counter() - started,
                "findings": len(result.findings),
                "errors": result.errors[:5],
                "error_count": len(result.errors),
                "rows": result.rows,
                "per_rule": result.per_rule,
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
    print(
        f"\nlogs: {gen['cloudtrail']:,} CloudTrail events in {gen['ct_files']:,} files,"
        f" {gen['vpc-flow']:,} flow records in {gen['flow_files']:,} files, {gen['dns']:,} DNS"
        f" queries; {gen['gz_mb']:.0f} MB gzipped ({len(ACCOUNTS)} accounts x {len(REGIONS)}"
        f" regions x {DAYS} days); generated in {gen['seconds']:.0f} s"
    )
    print("\nreading (wall time; peak MB = ru_maxrss of the phase's process)")
    rows = [["phase", "records", "s", "rate", "peak MB"]]
    rows.append(_row("DuckDB read_json records='true' + unnest, count", r["bare-ct"], "ev"))
    rows.append(_row("mamori ingest CloudTrail (-> Parquet)", r["ingest-ct"], "ev"))
    rows.append(_row("DuckDB read_csv, count", r["bare-flows"], "rec"))
    rows.append(_row("mamori ingest VPC flow (-> Parquet)", r["ingest-flows"], "rec"))
    rows.append(_row("mamori ingest DNS (-> Parquet)", r["ingest-dns"], "rec"))
    table(rows)
    for key in ("ingest-ct", "ingest-flows", "ingest-dns"):
        if r[key]["errors"]:
            print(f"  {key}: {r[key]['errors']} file errors, first: {r[key]['first_error']}")

    rules = r["rules"]
    events = rules["runs"][0]["rows"].get("events", 0)
    per_m = max(events, 1) / 1e6
    print(
        f"\nrules: {rules['rules']} rules over {events:,} events,"
        f" {rules['runs'][0]['rows'].get('flows', 0):,} flows,"
        f" {rules['runs'][0]['rows'].get('dns', 0):,} DNS rows;"
        f" DuckDB memory_limit {MEMORY_LIMIT}"
    )
    rows = [["run", "s", "s per M events", "findings", "rule errors"]]
    for n, run in enumerate(rules["runs"], 1):
        label = "first run" if n == 1 else "re-run (same data)"
        rows.append(
            [
                label,
                f"{run['seconds']:.1f}",
                f"{run['seconds'] / per_m:.2f}",
                f"{run['findings']:,}",
                str(run["error_count"]),
            ]
        )
    table(rows)
    for err in rules["runs"][-1]["errors"]:
        print(f"  error: {err}")
    print(f"  peak MB of the rules process (both runs): {rules['peak_mb']:.0f}")
    slowest = sorted(rules["runs"][-1]["per_rule"].items(), key=lambda kv: -kv[1])[:5]
    print("\nslowest 5 rules (re-run)")
    table([["rule", "s"]] + [[name, f"{s:.2f}"] for name, s in slowest])

    ct_share = _rate(r["ingest-ct"]) / max(_rate(r["bare-ct"]), 1e-9)
    rerun = rules["runs"][-1]["seconds"] / per_m
    flow_rate = _rate(r["ingest-flows"])
    peak = max(v["peak_mb"] for k, v in r.items() if not k.startswith("bare"))
    print("\ntargets (from the issue)")
    table(
        [
            ["target", "measured", ""],
            [
                f"CloudTrail end to end >= {TARGET_CT_SHARE:.0%} of DuckDB's bare read rate",
                f"{ct_share:.0%}",
                _met(ct_share >= TARGET_CT_SHARE),
            ],
            [
                f"re-running all rules < {TARGET_RERUN_S_PER_M:.0f} s per million events",
                f"{rerun:.2f} s",
                _met(rerun < TARGET_RERUN_S_PER_M),
            ],
            [
                f"VPC flow >= {TARGET_FLOWS_PER_S:,} records/s end to end",
                f"{flow_rate:,.0f}/s",
                _met(flow_rate >= TARGET_FLOWS_PER_S),
            ],
            [
                f"memory bounded (memory_limit {MEMORY_LIMIT}): peak of ingest and rules",
                f"{peak:.0f} MB",
                _met(peak < 2 * 1024 + 512),
            ],
        ]
    )
    if profile:
        for key in ("ingest-ct", "ingest-flows"):
            print(f"\nprofile of {key} (cProfile, by own time; profiling slows it down)")
            print(r[f"{key}-profile"]["profile"])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="CloudTrail events")
    parser.add_argument("--flows", type=int, default=4_000_000, help="VPC flow records")
    parser.add_argument("--workdir", type=Path, help="keep the logs and Parquet here")
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
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}; Python {sys.version.split()[0]}")
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        measure(args.workdir.resolve(), args.events, args.flows, args.profile)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            measure(Path(tmp), args.events, args.flows, args.profile)


def measure(work: Path, events: int, flows: int, profile: bool) -> None:
    logs, data = work / "logs", work / "data"
    for folder in (logs, data):
        if folder.exists():
            shutil.rmtree(folder)
    gen = run_phase("generate", work, str(logs), str(events), str(flows))
    print(f"  generated in {gen['seconds']:.0f} s", flush=True)
    r: dict[str, dict[str, Any]] = {}
    steps: list[tuple[str, str, list[str]]] = [
        ("bare-ct", "bare-ct", [str(logs)]),
        ("bare-flows", "bare-flows", [str(logs)]),
        ("ingest-ct", "ingest", [str(logs), str(data), "cloudtrail", "-"]),
        ("ingest-flows", "ingest", [str(logs), str(data), "vpc-flow", "-"]),
        ("ingest-dns", "ingest", [str(logs), str(data), "dns", "-"]),
        ("rules", "rules", [str(data)]),
    ]
    if profile:
        scratch = str(work / "profile-data")
        steps += [
            ("ingest-ct-profile", "ingest", [str(logs), scratch, "cloudtrail", "profile"]),
            ("ingest-flows-profile", "ingest", [str(logs), scratch, "vpc-flow", "profile"]),
        ]
    for key, name, args in steps:
        r[key] = run_phase(name, work, *args)
        seconds = sum(run["seconds"] for run in r[key].get("runs", [r[key]]))
        print(f"  {key} done in {seconds:.1f} s", flush=True)
    report(gen, r, profile)


if __name__ == "__main__":
    main()
