"""Run detections (SQL over the normalised tables) on DuckDB and turn their rows into findings.

The ingested Parquet files are opened as views, never loaded whole: DuckDB streams them, within
the memory limit given. Threat-intelligence tables are registered beside them (empty when no
list was given), so every rule can run on any input; a table without data is simply empty.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from mamori.core import Finding, InputError
from mamori.detect.findings import finding_of
from mamori.detect.schema import INTEL_DOMAIN, INTEL_IP, TABLES, TRUSTED_IP

if TYPE_CHECKING:
    from mamori.detect.intel import IntelSet
    from mamori.detect.rules.base import Rule

_RANGE = [("net_lo", pa.int64()), ("net_hi", pa.int64())]
INTEL_IP_FULL = pa.schema([*INTEL_IP, *_RANGE])
TRUSTED_IP_FULL = pa.schema([*TRUSTED_IP, *_RANGE])


@dataclass
class DetectResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows the rules could see
    per_rule: dict[str, float] = field(default_factory=dict)  # finding type -> seconds


def dataset_files(data_dir: Path, table: str) -> list[Path]:
    return sorted((data_dir / table).glob("*.parquet"))


def _sql_list(paths: Iterable[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def connect(
    data_dir: Path,
    intel: IntelSet | None = None,
    *,
    since: datetime | None = None,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the log tables as views over `data_dir` and the intel tables."""
    from mamori.detect.rules.base import MACROS

    con = duckdb.connect(":memory:")
    if memory_limit:
        try:
            con.execute(f"SET memory_limit = '{_checked_limit(memory_limit)}'")
        except duckdb.Error as exc:
            raise InputError(f"--memory-limit {memory_limit!r}: {exc}") from None
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET TimeZone = 'UTC'")
    for name, table in TABLES.items():
        files = dataset_files(data_dir, name)
        if files:
            where = ""
            if since is not None:
                where = f" WHERE {table.time_column} >= TIMESTAMPTZ '{since.isoformat()}'"
            # Views cannot take bound parameters; the names are our own constants, the paths
            # our own files (quotes doubled) and the time an ISO timestamp we formatted.
            con.execute(
                f"CREATE VIEW {name} AS SELECT * FROM read_parquet({_sql_list(files)},"  # noqa: S608
                f" union_by_name = true){where}"
            )
        else:
            con.register(name, table.schema.empty_table())
    _register(con, "intel_ip", intel.ips if intel else None, INTEL_IP_FULL)
    _register(con, "intel_domain", intel.domains if intel else None, INTEL_DOMAIN)
    _register(con, "trusted_ip", intel.trusted if intel else None, TRUSTED_IP_FULL)
    for macro in MACROS:
        con.execute(macro)
    return con


def _checked_limit(text: str) -> str:
    cleaned = text.strip().upper().replace(" ", "")
    if not cleaned or not all(c.isdigit() or c in ".KMGTIB" for c in cleaned):
        raise InputError(f"--memory-limit {text!r}: expected a size such as 2GB or 512MB")
    return cleaned


def _register(
    con: duckdb.DuckDBPyConnection, name: str, data: pa.Table | None, schema: pa.Schema
) -> None:
    con.register(name, data if data is not None else schema.empty_table())


def run_rules(
    con: duckdb.DuckDBPyConnection, rules: Iterable[Rule], *, partition: str = "aws"
) -> DetectResult:
    """Every rule over the connection's tables; a rule that fails is named, the rest run."""
    result = DetectResult()
    started = time.perf_counter()
    for name in TABLES:
        [(count,)] = con.sql(f"SELECT count(*) FROM {name}").fetchall()  # noqa: S608 - constants
        result.rows[name] = int(count)
    for rule in rules:
        t0 = time.perf_counter()
        try:
            rows = con.sql(rule.sql).to_arrow_table().to_pylist()
        except duckdb.Error as exc:
            result.errors.append(f"rule {rule.finding_type}: {str(exc).splitlines()[0]}")
            continue
        for row in rows:
            finding = _finding(rule, row, partition, result.errors)
            if finding is not None:
                result.findings.append(finding)
        result.per_rule[rule.finding_type] = time.perf_counter() - t0
    result.seconds = time.perf_counter() - started
    return result


def _finding(rule: Rule, row: dict[str, Any], partition: str, errors: list[str]) -> Finding | None:
    try:
        return finding_of(rule, row, partition=partition)
    except (ValueError, TypeError) as exc:
        # A log line with no usable account id (or another broken field) cannot be a finding
        # of an account; it is reported rather than dropped.
        errors.append(f"rule {rule.finding_type}: a result could not be reported: {exc}")
        return None
