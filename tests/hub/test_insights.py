"""Insights: findings grouped by one field with counts, on both backends, and from the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.core import InputError, SeverityLabel
from mamori.hub import FindingFilter, Insight, Store
from tests.hub.builders import ACCOUNT, OTHER_ACCOUNT, detection, posture


def _fill(store: Store) -> None:
    store.write(
        [
            posture("a", severity="HIGH"),
            posture("b", severity="LOW"),
            posture("c", status="PASSED", severity="CRITICAL"),
            posture("d", account=OTHER_ACCOUNT, severity="MEDIUM", region="eu-west-1"),
            detection("AKIA1", region="[red]x[/]"),
        ]
    )


def test_group_by_account_counts_and_worst(store: Store) -> None:
    _fill(store)
    assert store.insights("account") == [
        Insight(ACCOUNT, 4, 3, SeverityLabel.CRITICAL),
        Insight(OTHER_ACCOUNT, 1, 0, SeverityLabel.MEDIUM),
    ]
    failed = store.insights("account", FindingFilter(status=["failed"]))
    assert [(g.value, g.count) for g in failed] == [(ACCOUNT, 2), (OTHER_ACCOUNT, 1)]
    by_status = {g.value: g.count for g in store.insights("status")}
    assert by_status == {"FAILED": 3, "PASSED": 1, None: 1}  # a detection has no status


def test_unknown_field_is_refused(store: Store) -> None:
    with pytest.raises(InputError, match="cannot group findings by 'colour'"):
        store.insights("colour")


def test_cli_insights_escape_values(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    with Store.open(url) as store:
        _fill(store)
    runner = CliRunner()
    table = runner.invoke(app, ["findings", "insights", "--by", "region", "--db", url])
    assert table.exit_code == 0, table.output
    assert "[red]x[/]" in table.output  # printed as text, not taken as markup
    raw = runner.invoke(app, ["findings", "insights", "--by", "check", "--json", "--db", url])
    rows = json.loads(raw.output)
    assert rows[0] == {
        "value": "s3.bucket_public_access_blocked",
        "count": 4,
        "high_or_worse": 2,
        "worst": "CRITICAL",
    }


def test_group_by_finding_type_and_tactic(store: Store) -> None:
    _fill(store)
    by_type = {g.value: g.count for g in store.insights("type")}
    assert by_type == {
        "Software and Configuration Checks/AWS Security Best Practices": 4,
        "TTPs/Initial Access/Policy:IAMUser-RootCredentialUsage": 1,
    }
    by_tactic = {g.value: g.count for g in store.insights("tactic")}
    assert by_tactic == {None: 4, "Initial Access": 1}
