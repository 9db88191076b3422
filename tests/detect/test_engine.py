"""The engine: Parquet views, intel tables, rules run to findings, errors named per rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mamori.core import InputError
from mamori.detect.engine import connect, run_rules
from mamori.detect.findings import severity_label
from mamori.detect.schema import EVENTS

ACCT = "111122223333"


@dataclass(frozen=True)
class FakeRule:
    finding_type: str
    sql: str
    severity: float = 8.0
    data_source: str = "cloudtrail"
    tactic: str = "TA0005 Defense Evasion"
    technique_id: str = "T1562.008"
    technique: str = "Impair Defenses: Disable Cloud Logs"
    title: str = "Trail stopped"
    description: str = "A trail was stopped."
    remediation: str = "Start it again."
    resource_type: str = "AwsCloudTrailTrail"
    remediate: Any = None  # no finding-specific remediation text


STOPPED = FakeRule(
    "Stealth:IAMUser/CloudTrailLoggingDisabled",
    """
    SELECT account_id, region, json_extract_string(request_parameters, '$.name') AS resource_id,
           principal_arn AS actor, min(event_time) AS first_seen, max(event_time) AS last_seen,
           count(*) AS event_count, list(event_id ORDER BY event_time NULLS LAST) AS evidence_ids,
           '{"trail": "x"}' AS detail
    FROM events WHERE event_name = 'StopLogging'
    GROUP BY account_id, region, resource_id, actor
    """,
)


def _event(i: int, name: str, when: datetime, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(EVENTS.columns)
    row.update(
        event_id=f"e{i}",
        event_time=when,
        account_id=ACCT,
        region="us-east-1",
        event_source="cloudtrail.amazonaws.com",
        event_name=name,
        principal_arn=f"arn:aws:iam::{ACCT}:user/mallory",
        request_parameters='{"name": "org-trail"}',
        resources=[],
        raw="{}",
    )
    row.update(extra)
    return row


def _write(data_dir: Path, rows: list[dict[str, Any]], part: str = "a") -> None:
    folder = data_dir / "events"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.Table.from_pylist(rows, schema=EVENTS.schema), folder / f"part-{part}.parquet"
    )


def test_rule_rows_become_aggregated_findings(tmp_path: Path) -> None:
    early = datetime(2026, 11, 1, 9, tzinfo=UTC)
    late = datetime(2026, 11, 3, 17, tzinfo=UTC)
    _write(tmp_path, [_event(1, "StopLogging", early), _event(2, "ListTrails", early)], "a")
    _write(tmp_path, [_event(3, "StopLogging", late)], "b")
    con = connect(tmp_path)
    result = run_rules(con, [STOPPED])
    assert result.errors == []
    assert result.rows["events"] == 3 and result.rows["flows"] == 0
    [finding] = result.findings
    assert finding.generator_id == STOPPED.finding_type
    assert finding.count == 2
    assert finding.first_observed_at == early and finding.last_observed_at == late
    assert finding.evidence["event_ids"] == ["e1", "e3"]
    assert finding.resource.id == "org-trail"
    assert finding.severity.label.value == "HIGH"
    assert finding.mitre[0].technique_id == "T1562.008"
    assert finding.types == ["TTPs/Defense Evasion"]
    # the same activity seen again is the same finding (GuardDuty-style aggregation)
    again = run_rules(connect(tmp_path), [STOPPED]).findings[0]
    assert again.id == finding.id


def test_since_limits_what_rules_see(tmp_path: Path) -> None:
    _write(tmp_path, [_event(1, "StopLogging", datetime(2026, 10, 1, tzinfo=UTC))])
    con = connect(tmp_path, since=datetime(2026, 11, 1, tzinfo=UTC))
    assert run_rules(con, [STOPPED]).findings == []


def test_a_broken_rule_is_named_and_the_others_run(tmp_path: Path) -> None:
    _write(tmp_path, [_event(1, "StopLogging", datetime(2026, 11, 1, tzinfo=UTC))])
    broken = FakeRule("Broken:IAMUser/Nope", "SELECT no_such_column FROM events")
    result = run_rules(connect(tmp_path), [broken, STOPPED])
    assert len(result.findings) == 1
    assert result.errors and result.errors[0].startswith("rule Broken:IAMUser/Nope")


def test_rows_without_an_account_are_reported_not_dropped(tmp_path: Path) -> None:
    _write(tmp_path, [_event(1, "StopLogging", datetime(2026, 11, 1, tzinfo=UTC), account_id=None)])
    result = run_rules(connect(tmp_path), [STOPPED])
    assert result.findings == []
    assert "could not be reported" in result.errors[0]


def test_empty_data_dir_runs_every_table_empty(tmp_path: Path) -> None:
    result = run_rules(connect(tmp_path), [STOPPED])
    assert result.findings == [] and result.errors == []
    assert set(result.rows) == {"events", "flows", "dns", "waf"}


@pytest.mark.parametrize("limit", ["lots", "1; DROP TABLE x", ""])
def test_bad_memory_limit_is_a_usage_error(tmp_path: Path, limit: str) -> None:
    with pytest.raises(InputError, match="memory-limit"):
        connect(tmp_path, memory_limit=limit or " ")


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (1.0, "LOW"),
        (3.9, "LOW"),
        (4.0, "MEDIUM"),
        (6.9, "MEDIUM"),
        (7.0, "HIGH"),
        (8.9, "HIGH"),
        (9.0, "CRITICAL"),
        (10.0, "CRITICAL"),
    ],
)
def test_guardduty_severity_bands(score: float, label: str) -> None:
    assert severity_label(score).value == label


def test_run_tables_are_decided_once_for_every_engine(tmp_path: Path) -> None:
    from mamori.detect.engine import run_tables

    since = datetime(2026, 11, 2, tzinfo=UTC)
    _write(tmp_path, [_event(1, "StopLogging", datetime(2026, 11, 1, tzinfo=UTC))])
    extra = pa.table({"principal": ["alice"]})
    tables = run_tables(tmp_path, since=since, extra={"baseline_x": extra})
    assert set(tables) == {
        "events",
        "flows",
        "dns",
        "waf",
        "intel_ip",
        "intel_domain",
        "trusted_ip",
        "baseline_x",
    }
    events = tables["events"]
    assert events.data is None and len(events.files) == 1
    assert (events.time_column, events.since) == ("event_time", since)
    # No files: an empty table of the contract's schema, so every rule still runs.
    assert tables["flows"].data is not None and tables["flows"].data.num_rows == 0
    assert tables["flows"].data.schema.names == tables["flows"].schema.names
    assert tables["intel_ip"].data is not None
    assert {"net_lo", "net_hi"} <= set(tables["intel_ip"].schema.names)
    assert tables["baseline_x"].data is extra
    # DuckDB registers exactly these: the since filter applies to the Parquet view.
    assert run_rules(connect(tmp_path, since=since), [STOPPED]).rows["events"] == 0


def test_a_part_from_an_older_mamori_is_refused_by_name(tmp_path: Path) -> None:
    from mamori.detect.schema import FLOWS

    older = pa.schema([f for f in FLOWS.schema if f.name not in ("src_scope", "dst_scope")])
    (tmp_path / "flows").mkdir(parents=True)
    pq.write_table(older.empty_table(), tmp_path / "flows" / "old.parquet")
    with pytest.raises(InputError, match=r"old\.parquet: written by an older Mamori.*src_scope"):
        connect(tmp_path)
