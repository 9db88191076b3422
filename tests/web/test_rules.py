"""The suppression and automation pages: rule files the server was started with, applying
the mutelist, the automation audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from mamori.hub import Store
from mamori.hub.automation import AuditLog, AuditRecord
from mamori.web.accounts import Accounts
from tests.hub.builders import OTHER_ACCOUNT
from tests.web.conftest import serve
from tests.web.data import PASSWORD, USER, fill

MUTELIST = """
rules:
  - id: sandbox
    reason: Sandbox account, accepted by the security board
    owner: secops@example.com
    match: {accounts: ["222222222222"]}
  - id: old
    reason: was a migration
    owner: ops@example.com
    expires: 2020-01-01
    match: {checks: [s3.bucket_access_logging]}
"""
AUTOMATION = """
name: response
rules:
  - id: tell-secops
    description: High findings to the channel
    pattern: {Severity: {Label: [HIGH, CRITICAL]}}
    actions:
      - type: webhook
        format: slack
        url: https://hooks.slack.example/services/T000/B000/SECRETTOKEN
"""


def _setup(db_url: str, tmp_path: Path) -> tuple[Path, Path]:
    with Store.open(db_url) as store:
        fill(store)
    with Accounts.open(db_url) as accounts:
        accounts.add_user(USER, PASSWORD)
    mutelist, automation = tmp_path / "mutelist.yaml", tmp_path / "automation.yaml"
    mutelist.write_text(MUTELIST, encoding="utf-8")
    automation.write_text(AUTOMATION, encoding="utf-8")
    return mutelist, automation


def test_mutelist_dry_run_then_apply(db_url: str, tmp_path: Path) -> None:
    mutelist, _ = _setup(db_url, tmp_path)
    with serve(db_url, mutelist=mutelist) as client:
        csrf = client.post("/api/login", json={"username": USER, "password": PASSWORD}).json()[
            "csrf_token"
        ]
        shown = client.get("/api/mutelist").json()
        assert [(r["id"], r["in_force"]) for r in shown["rules"]] == [
            ("sandbox", True),
            ("old", False),
        ]
        assert shown["source"] == "mutelist.yaml" and shown["suppressed"] == 0
        headers = {"X-CSRF-Token": csrf}
        dry = client.post("/api/mutelist/apply", json={"dry_run": True}, headers=headers).json()
        assert dry["suppressed"] == {"sandbox": 1} and dry["expired"] == ["old"]
        assert client.get("/api/mutelist").json()["suppressed"] == 0
        done = client.post("/api/mutelist/apply", json={"dry_run": False}, headers=headers)
        assert done.json()["suppressed"] == {"sandbox": 1}
        muted = client.get("/api/findings", params={"workflow": "SUPPRESSED"}).json()
        assert [f["account_id"] for f in muted["items"]] == [OTHER_ACCOUNT]
        history = client.get(f"/api/findings/{muted['items'][0]['id']}").json()["history"]
        assert history[-1]["by"] == "mutelist:sandbox"
        page = client.get("/mutelist").text
        assert "Sandbox account, accepted by the security board" in page
        assert "1 findings suppressed" in page


def test_mutelist_page_without_a_file_and_with_a_broken_one(db_url: str, tmp_path: Path) -> None:
    mutelist, _ = _setup(db_url, tmp_path)
    with serve(db_url) as client:
        client.post("/api/login", json={"username": USER, "password": PASSWORD})
        assert "--mutelist FILE" in client.get("/mutelist").text
        assert client.get("/api/mutelist").json()["rules"] == []
    with serve(db_url, mutelist=mutelist) as client:
        client.post("/api/login", json={"username": USER, "password": PASSWORD})
        mutelist.write_text("rules:\n  - id: x\n    colour: red\n", encoding="utf-8")
        page = client.get("/mutelist")
        assert page.status_code == 200 and "invalid mutelist" in page.text
        assert client.get("/api/mutelist").status_code == 400


def test_automation_rules_redacted_and_the_audit_log(db_url: str, tmp_path: Path) -> None:
    _, automation = _setup(db_url, tmp_path)
    with Store.open(db_url) as store:
        AuditLog(store).record(
            [
                AuditRecord(
                    at=datetime(2026, 11, 1, tzinfo=UTC),
                    run_id="run-1",
                    rules="response",
                    rule_id="tell-secops",
                    action="webhook",
                    action_key="0:webhook",
                    finding_id="mamori-abc",
                    fingerprint="f",
                    account_id="111111111111",
                    resource_id="arn:aws:s3:::public-1",
                    dry_run=False,
                    result="done",
                    detail="slack message to https://hooks.slack.example/…",
                )
            ]
        )
    with serve(db_url, automation=automation) as client:
        client.post("/api/login", json={"username": USER, "password": PASSWORD})
        data = client.get("/api/automation").json()
        [rule] = data["rules"]
        assert rule["id"] == "tell-secops" and data["name"] == "response"
        assert rule["actions"][0]["url"] == "https://hooks.slack.example/…"
        assert [a["rule_id"] for a in data["audit"]] == ["tell-secops"]
        page = client.get("/automation").text
        assert "SECRETTOKEN" not in page and "SECRETTOKEN" not in str(data)
        assert "tell-secops" in page and "arn:aws:s3:::public-1" in page
