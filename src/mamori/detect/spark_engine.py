"""Run the detections on Apache Spark: the tables of `engine.run_tables` as Spark views, each
rule's DuckDB SQL transpiled (`sqldialect.to_spark`), rows to the same findings as on DuckDB.

PySpark (and the Java it needs) is imported only when a Spark run starts. Rules run in a few
batches, one per data source (UNION ALL of rules that read the same tables, tagged with their
rule): one Spark job per rule would spend most of the run in scheduling. A batch that fails is
split in halves down to the failing rule, which is named, while the others still report.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mamori.core import InputError
from mamori.detect.engine import DetectResult, TableInput, add_findings, run_tables
from mamori.detect.rules.base import COLUMNS
from mamori.detect.schema import TABLES
from mamori.detect.sqldialect import SPARK_SQL_CONF, to_spark

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from mamori.detect.intel import IntelSet
    from mamori.detect.rules.base import Rule

DEFAULT_MASTER = "local[*]"
# Measured on the parity test's data (66 rules, 2 cores): one job per rule 97 s; one batch of all
# 58 s (a quarter of it planning the huge union); one batch per data source 30 s.
BATCH_SIZE = 32
_MASTER = re.compile(
    r"^(local(\[(\*|\d+)(,\d+)?\])?|local-cluster\[\d+,\d+,\d+\]|yarn"
    r"|(spark|k8s|mesos)://[A-Za-z0-9.\-_:/,\[\]]+)$"
)
# The column types every rule returns, so that rules can be stacked with UNION ALL.
_TYPES = {
    "first_seen": "TIMESTAMP",
    "last_seen": "TIMESTAMP",
    "event_count": "BIGINT",
    "evidence_ids": "ARRAY<STRING>",
}
_CONF = {
    **SPARK_SQL_CONF,
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    # Small shuffles: detection inputs per run are modest, and 200 partitions (the default)
    # mean 200 tasks per stage on a laptop.
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
_LOCAL_DRIVER_MEMORY = "2g"
_sessions: dict[str, SparkSession] = {}


def check_master(master: str) -> str:
    if not _MASTER.match(master.strip()):
        raise InputError(
            f"--spark-master {master!r}: expected local, local[N], local[*], spark://host:port,"
            " yarn or k8s://..."
        )
    return master.strip()


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and Path(home, "bin", "java").exists():
        return str(Path(home, "bin", "java"))
    return shutil.which("java")


def preflight(master: str) -> str:
    """Check what a Spark run needs before it starts: a valid master URL, Java and PySpark."""
    master = check_master(master)
    if _java() is None:
        raise InputError(
            "--engine spark needs Java 17 or later: no java on PATH and no JAVA_HOME "
            "(install a JRE, e.g. openjdk-17-jre-headless)"
        )
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise InputError("--engine spark needs PySpark 4: pip install 'pyspark>=4'") from None
    return master


def spark_session(master: str = DEFAULT_MASTER) -> SparkSession:
    """The process's Spark session for `master` (one at a time; started once, 10-15 s)."""
    master = check_master(master)
    if master in _sessions:
        return _sessions[master]
    preflight(master)
    from pyspark.sql import SparkSession

    for old in _sessions.values():
        old.stop()
    _sessions.clear()
    builder = SparkSession.builder.master(master).appName("mamori-detect")
    if master.startswith("local"):
        # Local mode talks only to itself: no address of the machine is bound or advertised.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = builder.config("spark.driver.host", "127.0.0.1").config(
            "spark.driver.bindAddress", "127.0.0.1"
        )
        # The driver is the whole cluster here: Spark's 1 GB default ran out building the
        # broadcast joins of a 66-rule batch.
        builder = builder.config("spark.driver.memory", _LOCAL_DRIVER_MEMORY)
    for key, value in _CONF.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - Py4J / JVM start-up errors have no common base
        raise InputError(
            f"--spark-master {master}: cannot start Spark (is the master reachable?):"
            f" {_first_line(exc)}"
        ) from None
    # Failed queries are reported per rule, by name; Spark's own log of them is noise.
    session.sparkContext.setLogLevel("FATAL")
    from pyspark.logger import PySparkLogger

    PySparkLogger.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL + 1)
    _sessions[master] = session
    return session


def _first_line(exc: BaseException) -> str:
    # A Py4J error's own text only names the Java method called; the Java exception says why.
    java = getattr(exc, "java_exception", None)
    text = str(java.toString() if java is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def register(spark: SparkSession, tables: dict[str, TableInput]) -> list[DataFrame]:
    """The tables as temporary views, the log tables cached for the run. Returns the cached
    frames, for `unpersist` when the run is over."""
    from pyspark.sql import functions as F  # noqa: N812 - PySpark's own convention

    cached = []
    for name, table in tables.items():
        if table.data is not None:
            frame = spark.createDataFrame(table.data)
        else:
            frame = spark.read.option("mergeSchema", "true").parquet(*map(str, table.files))
            if table.since is not None and table.time_column:
                frame = frame.where(F.col(table.time_column) >= F.lit(table.since))
            frame = frame.cache()
            cached.append(frame)
        frame.createOrReplaceTempView(name)
    return cached


def _stacked(rules: list[Rule]) -> str:
    """One query: every rule's rows, tagged with its finding type, columns cast alike."""
    cols = ", ".join(f"CAST(r.{c} AS {_TYPES.get(c, 'STRING')}) AS {c}" for c in COLUMNS)
    return " UNION ALL ".join(
        f"SELECT {i} AS rule_no, {cols} FROM ({to_spark(rule.sql)}) r"  # noqa: S608 - our SQL
        for i, rule in enumerate(rules)
    )


def _rows(spark: SparkSession, sql: str) -> list[dict[str, Any]]:
    rows = spark.sql(sql).toArrow().to_pylist()
    for row in rows:
        for key in ("first_seen", "last_seen"):
            value = row.get(key)
            if isinstance(value, datetime):
                row[key] = value.astimezone(UTC)
    return rows


def run_rules_spark(
    spark: SparkSession,
    rules: Iterable[Rule],
    *,
    partition: str = "aws",
    batch_size: int = BATCH_SIZE,
) -> DetectResult:
    """Every rule over the registered views; a rule that fails is named, the rest run."""
    result = DetectResult()
    started = time.perf_counter()
    for name in TABLES:
        result.rows[name] = spark.table(name).count()
    by_source: dict[str, list[Rule]] = {}
    for rule in rules:
        by_source.setdefault(rule.data_source, []).append(rule)
    for group in by_source.values():
        for at in range(0, len(group), max(1, batch_size)):
            _run_batch(spark, group[at : at + batch_size], result, partition)
    result.seconds = time.perf_counter() - started
    return result


def _run_batch(
    spark: SparkSession, batch: list[Rule], result: DetectResult, partition: str
) -> None:
    """Run rules as one query; when it fails, each half again, down to the failing rule."""
    t0 = time.perf_counter()
    try:
        rows = _rows(spark, _stacked(batch))
    except Exception as exc:  # noqa: BLE001 - Spark analysis/execution errors share no base
        if len(batch) > 1:
            half = len(batch) // 2
            _run_batch(spark, batch[:half], result, partition)
            _run_batch(spark, batch[half:], result, partition)
        else:
            message = str(exc) if isinstance(exc, InputError) else _first_line(exc)
            result.errors.append(f"rule {batch[0].finding_type}: {message}")
        return
    for i, rule in enumerate(batch):
        add_findings(result, rule, [r for r in rows if r["rule_no"] == i], partition)
        # A batch is one Spark job: its time is shared out evenly.
        result.per_rule[rule.finding_type] = (time.perf_counter() - t0) / len(batch)


def detect_spark(
    data_dir: Path,
    intel: IntelSet | None,
    rules: Iterable[Rule],
    *,
    since: datetime | None = None,
    master: str = DEFAULT_MASTER,
    extra: Mapping[str, pa.Table] | None = None,
) -> DetectResult:
    """A whole run on Spark: session, tables (`engine.run_tables`), rules; the cached tables are
    released after."""
    spark = spark_session(master)
    cached = register(spark, run_tables(data_dir, intel, since=since, extra=extra))
    try:
        return run_rules_spark(spark, rules)
    finally:
        for frame in cached:
            frame.unpersist()
