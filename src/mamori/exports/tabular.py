"""Findings as CSV rows, safe to open in a spreadsheet.

Resource names, tags and reasons can come from whoever controls an AWS resource; a cell that
a spreadsheet would read as a formula (=HYPERLINK(...), +cmd|...) is turned into text.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO

from mamori.core import Finding, iso
from mamori.exports._standards import control_pairs

COLUMNS = (
    "id",
    "status",
    "severity",
    "check_id",
    "title",
    "account_id",
    "region",
    "resource_type",
    "resource_id",
    "first_observed_at",
    "last_observed_at",
    "workflow",
    "record_state",
    "standards",
    "reason",
)
# OWASP's list of characters that make a spreadsheet evaluate a cell.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """A leading quote makes a spreadsheet show the cell as text instead of evaluating it."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def row(f: Finding) -> list[str]:
    resource = f.resource
    reasons = f.compliance.status_reasons if f.compliance else []
    cells = (
        f.id,
        f.status.value if f.status else "",
        f.severity.label.value,
        f.generator_id,
        f.title,
        f.account_id,
        f.region,
        resource.type,
        resource.id,
        iso(f.first_observed_at),
        iso(f.last_observed_at),
        f.workflow.status.value,
        f.record_state.value,
        ";".join(f"{s}:{c}" for s, c in control_pairs(f)),
        "; ".join(reasons),
    )
    return [neutralise(c) for c in cells]


def write_csv(findings: Iterable[Finding], out: IO[str]) -> int:
    """Header and one row per finding; `out` should be opened with newline=""."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    for f in findings:
        writer.writerow(row(f))
        count += 1
    return count
