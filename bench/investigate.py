"""Investigation-graph benchmark over logs ingested by bench/detect.py (or `mamori detect`).

    .venv/bin/python bench/detect.py --workdir DIR --keep --only ingest-ct   # and ingest-flows
    .venv/bin/python bench/investigate.py --data-dir DIR/data [--copy-to SCRATCH]

Measures, over every ingested part of the data directory:

- a full build of the graph (every part aggregated, one segment) and its peak memory;
- a build with no new part;
- three builds that each take in one small new part (a copy of a DNS part under a new name,
  removed afterwards), kept as segments;
- profiles and neighbourhoods (depth 2, 50 nodes) of the five busiest access keys and public
  addresses, over those four segments and again over one segment after a rebuild.

The graph is written to DATA_DIR/graph; with --copy-to, the data directory is copied there first
and the original is left untouched (another benchmark may be using it).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import time
from pathlib import Path

from _report import cpu_model
from _report import table as plain_table

from mamori.investigate import Graph, update

_BUSIEST = (
    "SELECT id FROM entities WHERE kind = $1 AND NOT (id LIKE '10.%' OR id LIKE '172.%'"
    " OR id LIKE '192.168.%') ORDER BY records DESC, id LIMIT 5"
)


def _questions(data_dir: Path, label: str) -> list[list[str]]:
    rows = []
    with Graph.open(data_dir) as graph:
        for kind in ("access_key", "ip"):
            profiles, hoods = [], []
            for (eid,) in graph.con.execute(_BUSIEST, [kind]).fetchall():
                started = time.perf_counter()
                graph.profile(kind, eid)
                profiles.append(time.perf_counter() - started)
                started = time.perf_counter()
                graph.neighbourhood(kind, eid, depth=2, limit=50)
                hoods.append(time.perf_counter() - started)
            if profiles:
                rows.append(
                    [
                        f"{kind} ({label})",
                        f"{statistics.median(profiles) * 1000:.0f} ms",
                        f"{statistics.median(hoods) * 1000:.0f} ms",
                    ]
                )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="ingested Parquet parts")
    parser.add_argument("--copy-to", type=Path, help="copy the data directory here first")
    args = parser.parse_args()
    data: Path = args.data_dir
    if args.copy_to:
        shutil.copytree(data, args.copy_to, ignore=shutil.ignore_patterns("graph"))
        data = args.copy_to
    print(f"{cpu_model()}; data directory {data}")
    full = update(data, rebuild=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    records = ", ".join(f"{n:,} {t}" for t, n in full.records.items())
    with Graph.open(data) as graph:
        sizes = {
            name: graph.con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]  # noqa: S608
            for name in ("entities", "edges", "activity")
        }
    print(f"full build: {full.seconds:.2f} s for {records}; peak {peak:.0f} MB; {sizes}")
    print(f"build with no new part: {update(data).seconds * 1000:.1f} ms")
    source = sorted((data / "dns").glob("part-*.parquet"))
    copies: list[Path] = []
    try:
        if source:
            for n in range(3):
                copy = data / "dns" / f"part-bench-investigate-{n}.parquet"
                shutil.copy(source[0], copy)
                copies.append(copy)
                step = update(data)
                added = sum(step.records.values())
                print(
                    f"build with one new part of {added:,} records: {step.seconds:.2f} s"
                    f" ({step.segments} segments)"
                )
        rows = [["entity", "profile (median)", "neighbourhood (median)"]]
        rows += _questions(data, f"{len(copies) + 1} segments")
    finally:
        for copy in copies:
            copy.unlink()
    rebuilt = update(data, rebuild=True)
    print(f"rebuild: {rebuilt.seconds:.2f} s")
    rows += _questions(data, "1 segment")
    plain_table(rows, left_first=True)


if __name__ == "__main__":
    main()
