"""`mamori waf logs` as a user runs it: over the generator's AWS-layout logs (its labels and its
files are the ground truth) and over what Mamori's own WafLogger writes (a round trip)."""

from __future__ import annotations

import gzip
import io
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.cli.waf_logs import render_summary
from mamori.detect.generator.waf import WafGenerated, generate_waf
from mamori.detect.readers.waf import read_waf
from mamori.detect.waf_report import ACTIONS, summarize
from mamori.perimeter.waf import WafLogger
from tests.arbitrary import json_documents
from tests.perimeter.waf.builders import byte_match, compile_acl, field, req, rule

runner = CliRunner()
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _run(*args: str) -> Any:
    return runner.invoke(app, ["waf", "logs", *args])


def _json(*args: str) -> dict[str, Any]:
    result = _run(*args, "--no-store", "--format", "json")
    assert result.exit_code == 0, result.output
    # The ingest line and errors go to stderr; stdout holds the one document.
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WafGenerated]:
    root = tmp_path_factory.mktemp("waf-logs")
    return root, generate_waf(root / "logs", start=T0, hours=4, requests_per_minute=50)


@pytest.fixture(scope="module")
def report(generated: tuple[Path, WafGenerated]) -> dict[str, Any]:
    root, _ = generated
    return _json("--input", str(root / "logs"), "--data-dir", str(root / "data"), "--top", "50")


def _records(folder: Path) -> list[dict[str, Any]]:
    """The generator's records read straight from its files, apart from Mamori's readers."""
    return [
        json.loads(line)
        for path in sorted(folder.rglob("*.log.gz"))
        for line in gzip.decompress(path.read_bytes()).splitlines()
    ]


def test_summary_counts_equal_what_was_written(
    generated: tuple[Path, WafGenerated], report: dict[str, Any]
) -> None:
    root, gen = generated
    records = _records(root / "logs")
    summary = report["summary"]
    assert summary["requests"] == gen.records == len(records)
    actions = Counter(r["action"] for r in records)
    assert summary["by_action"] == {a: actions.get(a, 0) for a in ACTIONS}
    assert actions["BLOCK"] > 0
    blocked = Counter(r["httpRequest"]["clientIp"] for r in records if r["action"] == "BLOCK")
    assert {c["client_ip"]: c["requests"] for c in summary["top_blocked_clients"]} == blocked
    rules = Counter((r["terminatingRuleId"], r["action"]) for r in records)
    assert {
        (t["rule"], t["action"]): t["requests"] for t in summary["by_terminating_rule"]
    } == rules
    labels = Counter(label["name"] for r in records for label in r.get("labels", []))
    assert {t["label"]: t["requests"] for t in summary["top_labels"]} == labels
    assert sum(h["requests"] for h in summary["hourly"]) == gen.records
    assert len({h["hour"] for h in summary["hourly"]}) == 4
    assert summary["counted_rules"], "the counted SQL injection is listed"


def test_flood_and_scan_findings_appear(
    generated: tuple[Path, WafGenerated], report: dict[str, Any]
) -> None:
    _, gen = generated
    found = {f["generator_id"] for f in report["findings"]}
    expected = {label.finding_type for label in gen.labels if not label.benign}
    assert {"Impact:WebACL/HTTPFlood", "Recon:WebACL/WebScan"} <= expected <= found
    assert all(f["generator_id"].split(":")[1].startswith("WebACL/") for f in report["findings"])


def test_json_schema(report: dict[str, Any]) -> None:
    assert set(report) == {"summary", "findings", "ingest", "errors"}
    assert set(report["summary"]) >= {
        "requests", "first", "last", "web_acls", "by_action", "by_terminating_rule",
        "counted_rules", "top_blocked_clients", "top_blocked_uris", "top_blocked_countries",
        "top_blocked_user_agents", "top_labels", "hourly",
    }  # fmt: skip
    assert report["ingest"]["files_read"] > 0 and report["errors"] == []
    hour = report["summary"]["hourly"][0]
    assert set(hour) == {"hour", "host", "requests", "blocked"}
    assert datetime.fromisoformat(hour["hour"]) == T0


def test_second_run_reads_nothing_again_and_sums_the_same(
    generated: tuple[Path, WafGenerated], report: dict[str, Any]
) -> None:
    root, _ = generated
    again = _json("--input", str(root / "logs"), "--data-dir", str(root / "data"), "--top", "50")
    assert again["ingest"]["files_read"] == 0 and again["ingest"]["files_skipped"] > 0
    assert again["summary"] == report["summary"]


HOSTILE = "\x1b[2J\x1b]8;;http://evil/\x07[bold red]pwn[/] \u202eevil"


def _own_logs(folder: Path) -> Counter[str]:
    """Requests through an ACL that blocks a user agent, logged by WafLogger; their actions."""
    acl = compile_acl(
        rule("bad-agent", 0, byte_match("evil", field("SingleHeader", Name="user-agent"))),
        rule("tag", 1, byte_match("/api", field("UriPath")), "Count", labels=("api",)),
    )
    folder.mkdir(parents=True, exist_ok=True)
    logger = WafLogger(folder / "waf.log")
    actions: Counter[str] = Counter()
    try:
        for n in range(30):
            agent = HOSTILE if n % 3 == 0 else "curl/8.5"
            request = req(f"/api/{n}", headers=(("Host", "app.example"), ("User-Agent", agent)))
            verdict = acl.evaluate(request)
            logger.log(acl, request, verdict, request_id=f"r{n}")
            actions[verdict.action] += 1
    finally:
        logger.close()
    return actions


def test_own_logs_round_trip(tmp_path: Path) -> None:
    actions = _own_logs(tmp_path / "logs")
    doc = _json("--input", str(tmp_path / "logs"), "--data-dir", str(tmp_path / "data"))
    summary = doc["summary"]
    assert actions == Counter(BLOCK=10, ALLOW=20)
    assert {a: n for a, n in summary["by_action"].items() if n} == actions
    assert summary["counted_rules"] == [{"rule": "tag", "requests": 20}]
    assert summary["top_blocked_user_agents"] == [{"user_agent": HOSTILE, "requests": 10}]
    assert summary["hourly"][0]["host"] == "app.example"


def test_hostile_user_agent_printed_as_text(tmp_path: Path) -> None:
    _own_logs(tmp_path / "logs")
    result = _run(
        "--input", str(tmp_path / "logs"), "--data-dir", str(tmp_path / "d"), "--no-store"
    )
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert "\\x1b[2J" in result.stdout and "[bold red]pwn[/]" in result.stdout
    assert "\\u202eevil" in result.stdout


def test_corrupt_file_named_rest_processed(tmp_path: Path) -> None:
    actions = _own_logs(tmp_path / "logs")
    bad = tmp_path / "logs" / "broken.log.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00 truncated")
    doc = _json("--input", str(tmp_path / "logs"), "--data-dir", str(tmp_path / "data"))
    assert doc["summary"]["requests"] == sum(actions.values())
    assert any(str(bad) in e for e in doc["errors"]), doc["errors"]


def test_bad_path_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = _run("--input", str(missing), "--data-dir", str(tmp_path / "d"), "--no-store")
    assert result.exit_code == 2
    assert "no such file or folder" in result.output
    assert not (tmp_path / "d").exists(), "nothing ingested before the input is checked"


def test_findings_stored_in_the_hub(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    generate_waf(root, start=T0, hours=3, requests_per_minute=20)
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    args = ("--input", str(root), "--data-dir", str(tmp_path / "data"), "--db", db)
    result = _run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)["findings"]
    listed = runner.invoke(app, ["findings", "list", "--db", db, "--format", "json"])
    assert listed.exit_code == 0, listed.output
    stored = {f["id"] for f in json.loads(listed.stdout)}
    assert findings and {f["id"] for f in findings} <= stored


_RECORD_KEYS = (
    "timestamp", "action", "terminatingRuleId", "terminatingRuleType", "webaclId", "httpRequest",
    "clientIp", "country", "uri", "headers", "name", "value", "labels",
    "nonTerminatingMatchingRules", "ruleId", "ruleGroupList", "ruleGroupId",
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=st.lists(json_documents(_RECORD_KEYS), max_size=6),
    agent=st.text(max_size=20),
)
def test_any_records_sum_up_and_render_as_text(records: list[Any], agent: str) -> None:
    """Whatever the records hold, the summary SQL runs and its table shows no control
    character; a valid record with any user agent is counted under it."""
    valid = {
        "timestamp": 1_793_491_200_000,
        "action": "BLOCK",
        "webaclId": "acl",
        "httpRequest": {
            "clientIp": "192.0.2.1",
            "headers": [{"name": "User-Agent", "value": agent}],
        },
    }
    data = b"\n".join(json.dumps(r).encode() for r in [*records, valid])
    tables = list(read_waf(data, "f.log"))
    con = duckdb.connect()
    con.register("waf", pa.concat_tables(tables))
    summary = summarize(con, ["f.log"], top=5)
    assert summary.by_action["BLOCK"] >= 1
    assert agent in {u["user_agent"] for u in summary.top_blocked_user_agents}
    buffer = io.StringIO()
    render_summary(Console(file=buffer, width=300, color_system=None), summary)
    printed = buffer.getvalue()
    assert all(c.isprintable() or c in " \n" for c in printed)
