"""SARIF 2.1.0 out (a valid log, one rule per check, fingerprints) and in (SAST results as
findings, severity from security-severity or level, re-imports update instead of copying, bad
results named and skipped), through the CLI against a real store."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.core import InputError, SeverityLabel
from mamori.exports import write_findings
from mamori.exports.sarif import read_sarif
from mamori.hub import Store
from tests.arbitrary import json_documents, read_or_refused
from tests.hub.builders import detection, posture

ACCOUNT = "123456789012"


def _exported(findings: list[Any]) -> dict[str, Any]:
    out = io.StringIO()
    assert write_findings(findings, "sarif", out) == len(findings)
    doc: dict[str, Any] = json.loads(out.getvalue())
    return doc


def test_export_is_one_run_with_a_rule_per_check() -> None:
    findings = [posture("a"), posture("b", severity="LOW"), detection("AKIA1")]
    doc = _exported(findings)
    assert doc["version"] == "2.1.0"
    [run] = doc["runs"]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(rules) == {"s3.bucket_public_access_blocked", "detect.root_console_login"}
    assert rules["detect.root_console_login"]["properties"]["security-severity"] == "9.5"
    results = run["results"]
    assert [r["partialFingerprints"]["mamoriFindingId/v1"] for r in results] == [
        f.id for f in findings
    ]
    assert [r["level"] for r in results] == ["error", "note", "error"]
    location = results[0]["locations"][0]["logicalLocations"][0]
    assert location["fullyQualifiedName"] == "arn:aws:s3:::a"


def test_empty_export_is_still_a_log() -> None:
    assert _exported([])["runs"][0]["results"] == []


def _report(results: list[Any], rules: list[Any] | None = None) -> dict[str, Any]:
    return {
        "version": "2.1.0",
        "runs": [
            {"tool": {"driver": {"name": "Bandit", "rules": rules or []}}, "results": results}
        ],
    }


def _result(rule: str = "B602", line: int = 10, **extra: Any) -> dict[str, Any]:
    return {
        "ruleId": rule,
        "message": {"text": "subprocess call with shell=True"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "app/run.py"},
                    "region": {"startLine": line},
                }
            }
        ],
        **extra,
    }


def _write(tmp_path: Path, doc: Any, name: str = "report.sarif") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("result", "rules", "label"),
    [
        (_result(), [{"id": "B602", "properties": {"security-severity": "9.1"}}], "CRITICAL"),
        (_result(properties={"security-severity": "7.5"}), [], "HIGH"),
        (_result(level="note"), [], "LOW"),
        (_result(), [{"id": "B602", "defaultConfiguration": {"level": "error"}}], "HIGH"),
        (_result(), [], "MEDIUM"),  # SARIF's default level is warning
    ],
)
def test_import_severity(tmp_path: Path, result: Any, rules: Any, label: str) -> None:
    imported = read_sarif(_write(tmp_path, _report([result], rules)), account_id=ACCOUNT)
    [finding] = imported.findings
    assert finding.severity.label is SeverityLabel(label)
    assert finding.resources[0].id == "app/run.py:10"
    assert finding.generator_id == "sarif:Bandit/B602"
    assert finding.product == "Bandit"


def test_reimport_updates_and_fingerprints_decide(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    doc = _report([_result(line=10), _result(line=20)])
    runner = CliRunner()
    first = runner.invoke(
        app, ["findings", "import", str(_write(tmp_path, doc)), "--account", ACCOUNT, "--db", url]
    )
    assert first.exit_code == 0, first.output
    assert "2 finding(s) imported (2 new, 0 updated), 0 skipped" in first.output
    again = runner.invoke(
        app, ["findings", "import", str(_write(tmp_path, doc)), "--account", ACCOUNT, "--db", url]
    )
    assert "(0 new, 2 updated)" in again.output
    # The same fingerprint at another line (code moved) is the same finding.
    moved = _report([_result(line=99, partialFingerprints={"primaryLocationLineHash": "abc:1"})])
    first_fp = read_sarif(_write(tmp_path, moved), account_id=ACCOUNT).findings[0]
    moved["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 5
    second_fp = read_sarif(_write(tmp_path, moved), account_id=ACCOUNT).findings[0]
    assert first_fp.id == second_fp.id
    with Store.open(url) as store:
        assert store.count() == 2


def test_bad_results_are_named_and_the_rest_imported(tmp_path: Path) -> None:
    doc = _report([_result(), "junk", {"message": {"text": "no rule"}}, _result(line=11)])
    imported = read_sarif(_write(tmp_path, doc), account_id=ACCOUNT)
    assert len(imported.findings) == 2
    assert imported.skipped == [
        "runs[0].results[1]: not an object",
        "runs[0].results[2]: no ruleId",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [("{", "not JSON"), ('{"version": "2.1.0"}', 'no "runs" list'), ("[]", "not a SARIF log")],
)
def test_files_that_are_not_sarif_are_refused(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_sarif(_write(tmp_path, content), account_id=ACCOUNT)


_SARIF_KEYS = [
    "runs",
    "results",
    "ruleId",
    "tool",
    "driver",
    "rules",
    "id",
    "level",
    "properties",
    "security-severity",
    "message",
    "text",
    "locations",
]


@settings(max_examples=80, deadline=None)
@given(json_documents(_SARIF_KEYS))
def test_any_json_is_imported_or_refused_cleanly(doc: Any) -> None:
    read_or_refused(lambda path: read_sarif(path, account_id=ACCOUNT), doc)


def test_cli_export_sarif_from_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    with Store.open(url) as store:
        store.write([posture("a"), detection("AKIA1")])
    out_file = tmp_path / "out.sarif"
    result = CliRunner().invoke(
        app,
        ["findings", "export", "--format", "sarif", "--output-file", str(out_file), "--db", url],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out_file.read_text(encoding="utf-8"))
    assert len(doc["runs"][0]["results"]) == 2
