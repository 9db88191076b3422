"""`mamori detect ...` as a user runs it, on generated logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mamori.cli.main import EXIT_USAGE, app
from mamori.detect.generator import TOR_EXIT_IPS
from tests.detect.logfiles import small_world

runner = CliRunner()
ACCT = "111111111111"


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scenarios = ["cloudtrail-logging-disabled", "tor-caller", "root-usage"]
    start = datetime(2026, 11, 1, tzinfo=UTC)
    root = tmp_path_factory.mktemp("logs")
    return small_world(
        root, start, scenarios, events_per_day=400, flows_per_day=300, dns_per_day=100
    )


def test_rules_list_names_every_detection() -> None:
    result = runner.invoke(app, ["detect", "rules", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert len(listed) >= 40
    assert {"finding_type", "severity", "data_source", "technique_id"} <= set(listed[0])
    assert "Stealth:IAMUser/CloudTrailLoggingDisabled" in {r["finding_type"] for r in listed}


def test_detect_json_then_rerun_reads_nothing_new(logs: Path, tmp_path: Path) -> None:
    tor = tmp_path / "tor.txt"
    tor.write_text("\n".join(TOR_EXIT_IPS))
    data = tmp_path / "data"
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    base = [
        "detect",
        "--cloudtrail",
        str(logs),
        "--data-dir",
        str(data),
        "--db",
        db,
        "--tor-exit-list",
        str(tor),
        "--format",
        "json",
    ]
    first = runner.invoke(app, base)
    assert first.exit_code == 0, first.output
    findings = json.loads(first.stdout)
    types = {f["generator_id"] for f in findings}
    assert {
        "Stealth:IAMUser/CloudTrailLoggingDisabled",
        "UnauthorizedAccess:IAMUser/TorIPCaller",
        "Policy:IAMUser/RootCredentialUsage",
    } <= types
    assert all(f["source"] == "detect" for f in findings)
    _check_evidence_records(findings)
    assert f"hub: {len(findings)} new, 0 updated" in first.stderr
    again = runner.invoke(app, base)
    assert again.exit_code == 0, again.output
    assert "0 file(s) (" in again.stderr or "ingested 0 file(s)" in again.stderr
    assert {f["id"] for f in json.loads(again.stdout)} == {f["id"] for f in findings}
    # Known findings wait for the update cadence (15 minutes by default)...
    assert f"hub: 0 new, 0 updated, {len(findings)} update(s) deferred" in again.stderr
    # ...and a recount of the same records does not add to their counts.
    third = runner.invoke(app, [*base, "--update-every", "0"])
    assert third.exit_code == 0, third.output
    assert f"hub: 0 new, {len(findings)} updated, 0 update(s) deferred" in third.stderr
    from mamori.hub import Store

    with Store.open(db) as store:
        for finding in findings:
            stored = store.get(finding["id"])
            assert stored is not None and stored.count == finding["count"]


def _check_evidence_records(findings: list[dict[str, object]]) -> None:
    """Each CloudTrail finding carries its evidence records' key fields, in id order."""
    trail = [f for f in findings if f["product_fields"]["DataSource"] == "cloudtrail"]  # type: ignore[index]
    assert trail
    for finding in trail:
        evidence = finding["evidence"]
        assert isinstance(evidence, dict)
        records = evidence["events"]
        assert [r["event_id"] for r in records] == evidence["event_ids"]
        for record in records:
            assert record["event_name"] and record["event_time"].startswith("2026-11-0")
            assert record["source_ip"] in evidence["detail"]["source_ips"]


def test_detect_one_rule(logs: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "detect",
            "--cloudtrail",
            str(logs),
            "--data-dir",
            str(tmp_path / "d"),
            "--no-store",
            "--format",
            "json",
            "--rule",
            "Policy:IAMUser/RootCredentialUsage",
        ],
    )
    assert result.exit_code == 0, result.output
    assert {f["generator_id"] for f in json.loads(result.stdout)} == {
        "Policy:IAMUser/RootCredentialUsage"
    }


def test_an_unknown_update_cadence_is_a_usage_error(logs: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["detect", "--cloudtrail", str(logs), "--no-store", "--update-every", "2h"]
    )
    assert result.exit_code == EXIT_USAGE
    assert "--update-every '2h'" in result.output


def test_unknown_rule_and_missing_input_are_usage_errors(tmp_path: Path) -> None:
    unknown = runner.invoke(
        app,
        [
            "detect",
            "--cloudtrail",
            str(tmp_path),
            "--no-store",
            "--rule",
            "Stealth:IAMUser/CloudTrailLogingDisabled",
        ],
    )
    assert unknown.exit_code == EXIT_USAGE
    assert "CloudTrailLoggingDisabled" in unknown.output  # the suggestion
    nothing = runner.invoke(app, ["detect", "--no-store"])
    assert nothing.exit_code == EXIT_USAGE


def test_a_corrupt_file_is_named_and_the_rest_detected(logs: Path, tmp_path: Path) -> None:
    bad = tmp_path / "AWSLogs" / ACCT / "CloudTrail" / "us-east-1" / "2026" / "11" / "01"
    bad.mkdir(parents=True)
    (bad / f"{ACCT}_CloudTrail_us-east-1_20261101T0000Z_bad.json.gz").write_bytes(b"\x1f\x8bjunk")
    result = runner.invoke(
        app,
        [
            "detect",
            "--cloudtrail",
            str(logs),
            "--cloudtrail",
            str(tmp_path / "AWSLogs"),
            "--data-dir",
            str(tmp_path / "d"),
            "--no-store",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    # Named once (rich may fold the long path, so count the file's own name).
    assert result.stderr.count("bad.json.gz") == 1
    assert json.loads(result.stdout)


def test_demo_logs_writes_layouts_and_labels(tmp_path: Path) -> None:
    out = tmp_path / "logs"
    result = runner.invoke(
        app,
        [
            "demo",
            "logs",
            "--out",
            str(out),
            "--events",
            "2000",
            "--days",
            "2",
            "--account",
            ACCT,
            "--region",
            "us-east-1",
            "--start",
            "2026-11-01",
        ],
    )
    assert result.exit_code == 0, result.output
    labels = json.loads((out / "labels.json").read_text())
    assert any(not lab["benign"] for lab in labels) and any(lab["benign"] for lab in labels)
    assert list((out / "AWSLogs" / ACCT / "CloudTrail" / "us-east-1").rglob("*.json.gz"))
    bad = runner.invoke(app, ["demo", "logs", "--out", str(out), "--start", "yesterday"])
    assert bad.exit_code == EXIT_USAGE
