"""`mamori waf validate` and `mamori waf test` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mamori.cli.main import app
from tests.perimeter.waf.builders import byte_match, field, rule, sqli, web_acl_doc

runner = CliRunner()


def _acl(tmp_path: Path) -> Path:
    path = tmp_path / "webacl.json"
    path.write_text(json.dumps(web_acl_doc(
        rule("sqli", 0, sqli(field("QueryString"), "URL_DECODE")),
        rule("ua", 1, byte_match("curl", field("SingleHeader", Name="user-agent")), "Count",
             labels=("client:curl",)),
    )))  # fmt: skip
    return path


def test_validate_prints_capacity(tmp_path: Path) -> None:
    result = runner.invoke(app, ["waf", "validate", str(_acl(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "WebACL test-acl: valid, 2 rule(s), 40 WCU" in result.output


def test_validate_refuses_with_exit_2_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    doc = web_acl_doc(rule("r", 0, sqli(field("QueryString"))))
    doc["WebACL"]["Rules"][0]["Statement"]["SqliMatchStatement"]["SensitivityLevel"] = "MAX"
    path.write_text(json.dumps(doc))
    result = runner.invoke(app, ["waf", "validate", str(path)])
    assert result.exit_code == 2
    assert "SqliMatchStatement.SensitivityLevel" in result.output
    missing = runner.invoke(app, ["waf", "validate", str(tmp_path / "none.json")])
    assert missing.exit_code == 2 and "cannot read" in missing.output


def test_test_json_lines_one_verdict_per_request(tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    lines = [
        {"id": "a", "method": "GET", "uri": "/?id=1%27%20OR%201%3D1--", "headers": {},
         "client_ip": "192.0.2.1"},
        {"id": "b", "method": "GET", "uri": "/", "headers": {"User-Agent": "curl/8"}},
        "not json at all",
        {"id": "c", "headers": 5},
        {"id": "d", "method": "POST", "uri": "/x", "body": "hello"},
    ]  # fmt: skip
    requests.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    result = runner.invoke(
        app,
        ["waf", "test", "--web-acl", str(_acl(tmp_path)), "--requests", str(requests),
         "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    by_id = {r["id"]: r for r in rows}
    assert by_id["a"]["action"] == "BLOCK" and by_id["a"]["terminating_rule"] == "sqli"
    assert by_id["b"]["action"] == "ALLOW"
    assert by_id["b"]["labels"] == ["awswaf:111122223333:webacl:test-acl:client:curl"]
    assert by_id["d"]["terminating_rule"] == "Default_Action"
    assert set(by_id) == {"a", "b", "d"}
    assert "requests.jsonl:3: not JSON" in result.stderr
    assert "requests.jsonl:4: headers" in result.stderr


def test_test_table_escapes_request_ids(tmp_path: Path) -> None:
    requests = tmp_path / "r.jsonl"
    requests.write_text(json.dumps({"id": "[bold]x[/bold]", "uri": "/"}) + "\n")
    result = runner.invoke(
        app, ["waf", "test", "--web-acl", str(_acl(tmp_path)), "--requests", str(requests)]
    )
    assert result.exit_code == 0, result.output
    assert "[bold]x[/bold]" in result.stdout
