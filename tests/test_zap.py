"""OWASP ZAP JSON reports in: a finding per alert and place, severity from the risk code, HTML
as text, re-imports updating, bad alerts named and skipped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.core import InputError, SeverityLabel
from mamori.exports.zap import read_zap
from mamori.hub import Store
from tests.arbitrary import json_documents, read_or_refused

ACCOUNT = "123456789012"


def _alert(plugin: str = "40012", risk: str = "3", **extra: Any) -> dict[str, Any]:
    return {
        "pluginid": plugin,
        "alertRef": plugin,
        "name": "Cross Site Scripting (Reflected)",
        "riskcode": risk,
        "confidence": "2",
        "desc": "<p>Reflected XSS &amp; friends</p>",
        "solution": "<p>Encode output.</p>",
        "reference": "<p>https://owasp.org/www-community/attacks/xss/</p>",
        "cweid": "79",
        "wascid": "8",
        "instances": [
            {
                "uri": "https://shop.example/search?q=x",
                "method": "GET",
                "param": "q",
                "attack": "<script>alert(1)</script>",
                "evidence": "<script>alert(1)</script>",
            },
            {"uri": "https://shop.example/item", "method": "POST", "param": "name"},
        ],
        **extra,
    }


def _report(alerts: list[Any]) -> dict[str, Any]:
    return {"@version": "2.16.0", "site": [{"@name": "https://shop.example", "alerts": alerts}]}


def _write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "zap.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def test_alerts_become_findings_per_place(tmp_path: Path) -> None:
    imported = read_zap(
        _write(tmp_path, _report([_alert(), _alert("10021", "1")])), account_id=ACCOUNT
    )
    assert imported.skipped == []
    xss = [f for f in imported.findings if f.generator_id == "zap:40012"]
    assert [f.resources[0].id for f in xss] == [
        "GET https://shop.example/search?q=x (q)",
        "POST https://shop.example/item (name)",
    ]
    first = xss[0]
    assert first.severity.label is SeverityLabel.HIGH
    assert first.description == "Reflected XSS & friends"
    assert first.remediation.text == "Encode output."
    assert first.evidence["attack"] == "<script>alert(1)</script>"  # kept as text
    assert first.product_fields["cweid"] == "79"
    low = next(f for f in imported.findings if f.generator_id == "zap:10021")
    assert low.severity.label is SeverityLabel.LOW


def test_bad_alerts_are_named_and_skipped(tmp_path: Path) -> None:
    doc = _report([_alert(), "junk", _alert(risk="9"), _alert(instances="x")])
    imported = read_zap(_write(tmp_path, doc), account_id=ACCOUNT)
    assert len(imported.findings) == 2
    assert imported.skipped == [
        "site[0].alerts[1]: not an object",
        "site[0].alerts[2]: no plugin id or risk code",
        "site[0].alerts[3]: instances is not a list",
    ]


@pytest.mark.parametrize(("content", "message"), [("{", "not JSON"), ("{}", "not a ZAP")])
def test_files_that_are_not_reports_are_refused(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_zap(_write(tmp_path, content), account_id=ACCOUNT)


@settings(max_examples=80, deadline=None)
@given(json_documents(["site", "alerts", "pluginid", "riskcode", "instances", "uri", "name"]))
def test_any_json_is_imported_or_refused_cleanly(doc: Any) -> None:
    read_or_refused(lambda path: read_zap(path, account_id=ACCOUNT), doc)


def test_cli_import_twice_updates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    path = _write(tmp_path, _report([_alert()]))
    args = ["findings", "import", str(path), "--format", "zap", "--account", ACCOUNT, "--db", url]
    runner = CliRunner()
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "2 finding(s) imported (2 new, 0 updated)" in first.output
    assert "(0 new, 2 updated)" in runner.invoke(app, args).output
    with Store.open(url) as store:
        assert store.count() == 2
    wrong = runner.invoke(app, [*args[:3], "--format", "nessus", "--db", url])
    assert wrong.exit_code != 0
