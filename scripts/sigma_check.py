"""Check which Sigma CloudTrail rules Mamori can import and run, as a Markdown table.

Converts every rule under RULES (a file or folder of .yml) with `mamori.detect.sigma`, runs each
converted rule on its own over the CloudTrail logs given (for instance from
`mamori demo logs --out DIR`), and prints one row per rule: title, Sigma id, status
(converted and ran / never matches / refused / query failed), findings, reason. Nothing is
downloaded: the rules and logs are the local files given.

Run: .venv/bin/python scripts/sigma_check.py RULES --cloudtrail DIR/AWSLogs [--data-dir D]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from mamori.detect.engine import connect, run_rules
from mamori.detect.ingest import Source, ingest
from mamori.detect.sigma import import_sigma


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def check(rules: Path, cloudtrail: str, data_dir: Path) -> list[tuple[str, str, str, str, str]]:
    """(title, id, status, findings, reason) per rule, sorted by title."""
    imported = import_sigma([rules])
    report = ingest([Source("cloudtrail", cloudtrail)], data_dir)
    if report.errors:
        raise SystemExit(f"could not read the logs: {report.errors[0]}")
    rows = []
    con = connect(data_dir)
    try:
        for c in imported.converted:
            result = run_rules(con, [c.rule])
            if result.errors:
                rows.append((c.title, c.sigma_id or "", "query failed", "", result.errors[0]))
                continue
            status, reason = "converted, ran", ""
            if c.unknown_fields:
                status = "converted, ran, never matches"
                reason = f"{', '.join(c.unknown_fields)}: not a CloudTrail record field"
            rows.append((c.title, c.sigma_id or "", status, str(len(result.findings)), reason))
    finally:
        con.close()
    rows.extend(
        (r.title or Path(r.file).name, r.sigma_id or "", "refused", "", r.reason)
        for r in imported.refused
    )
    return sorted(rows, key=lambda row: (row[0].lower(), row[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rules", type=Path, help="Sigma rule file or folder")
    parser.add_argument("--cloudtrail", required=True, help="CloudTrail log folder")
    parser.add_argument("--data-dir", type=Path, help="where to keep the ingested Parquet")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = check(args.rules, args.cloudtrail, args.data_dir or Path(tmp))
    print("| Rule | Sigma id | Status | Findings | Reason |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(_cell(v) for v in row) + " |")
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[2]] = counts.get(row[2], 0) + 1
    print()
    print(", ".join(f"{n} {status}" for status, n in sorted(counts.items())))


if __name__ == "__main__":
    main()
