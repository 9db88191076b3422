"""Security scores from the store: per standard and overall, suppressions counted as accepted
risks, control status, the recorded history, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.core import InputError
from mamori.hub import CheckState, ScanScope, ScorePoint, Store
from mamori.posture.score import (
    OVERALL,
    ControlStatus,
    control_status,
    current_scores,
    record_scores,
)
from mamori.posture.summary import _check_states
from tests.hub.builders import ACCOUNT, OTHER_ACCOUNT, at, detection, posture

CIS = "cis-aws-foundations-3.0.0"
# CIS 2.1.4 maps to both of these; 2.1.1 to the first alone.
BLOCK = "s3.bucket_public_access_block"
ACCOUNT_BLOCK = "s3.account_public_access_block"
SSL = "s3.bucket_ssl_requests_only"


def _by_standard(store: Store) -> dict[str, tuple[int, int, int]]:
    return {s.standard: (s.passed, s.failed, s.no_data) for s in current_scores(store)}


def _control(store: Store, control_id: str) -> ControlStatus:
    return next(c for c in control_status(store, CIS) if c.control_id == control_id)


def test_a_control_fails_when_any_check_fails_in_an_account(store: Store) -> None:
    store.write(
        [
            posture("a", generator=BLOCK, status="PASSED"),
            posture("b", generator=BLOCK, status="FAILED"),
            posture("acct", generator=ACCOUNT_BLOCK, status="PASSED"),
            posture("c", generator=BLOCK, status="PASSED", account=OTHER_ACCOUNT),
            posture("d", generator=SSL, status="NOT_AVAILABLE", account=OTHER_ACCOUNT),
            detection(),  # no compliance status: never part of a score
        ]
    )
    states = {(c.account_id, c.check_id): (c.state, c.failing) for c in store.check_states()}
    assert states == {
        (ACCOUNT, BLOCK): ("FAILED", 1),
        (ACCOUNT, ACCOUNT_BLOCK): ("PASSED", 0),
        (OTHER_ACCOUNT, BLOCK): ("PASSED", 0),
        (OTHER_ACCOUNT, SSL): ("NO_DATA", 0),
    }
    c214 = _control(store, "2.1.4")
    assert (c214.status, c214.failing_accounts, c214.failing_resources) == (
        "FAILED",
        (ACCOUNT,),
        1,
    )
    assert _control(store, "2.1.1").status == "NO_DATA"
    cis = next(s for s in current_scores(store) if s.standard == CIS)
    # (account, control) pairs: 2.1.4 fails in one account and passes in the other.
    assert (cis.passed, cis.failed) == (1, 1)
    assert cis.percent == 50.0
    overall = next(s for s in current_scores(store) if s.standard == OVERALL)
    assert (overall.passed, overall.failed, overall.no_data) == (2, 1, 1)


def test_suppressing_a_failure_raises_the_score(store: Store) -> None:
    failing = posture("b", generator=BLOCK, status="FAILED")
    store.write([failing, posture("acct", generator=ACCOUNT_BLOCK, status="PASSED")])
    before = _by_standard(store)[CIS]
    assert before[:2] == (0, 1)
    store.set_workflow(failing.id, "SUPPRESSED", by="alice", note="accepted: public website")
    after = _by_standard(store)[CIS]
    assert after[:2] == (1, 0)
    assert _control(store, "2.1.4").failing_resources == 0
    store.set_workflow(failing.id, "NEW", by="alice")
    assert _by_standard(store)[CIS][:2] == (0, 1)


def test_archived_findings_do_not_count(store: Store) -> None:
    scope_scan = store.begin_scan("posture", ScanScope("posture", (ACCOUNT,), ("us-east-1",)))
    store.write([posture("gone", generator=BLOCK, status="FAILED")])
    store.finish_scan(scope_scan, counts={}, archive=True)  # the bucket was not seen: archived
    assert store.check_states() == []


def test_unknown_standard_is_an_input_error(store: Store) -> None:
    with pytest.raises(InputError, match="unknown standard 'nope'"):
        control_status(store, "nope")


def test_history_keeps_points_in_order(store: Store) -> None:
    assert store.latest_scores() == []
    store.write([posture("b", generator=BLOCK, status="FAILED")])
    first = record_scores(store, "scan 1")
    store.write([posture("b", generator=BLOCK, status="PASSED", observed=at(1))])
    record_scores(store, "scan 2")
    points = store.score_history(CIS)
    assert [(p.reason, p.failed, p.passed) for p in points] == [
        ("scan 1", 1, 0),
        ("scan 2", 0, 1),
    ]
    assert points[0].percent == 0.0 and points[1].percent == 100.0
    assert len(store.score_history()) == 2 * len(first)  # every standard and overall
    assert [p.reason for p in store.score_history(CIS, limit=1)] == ["scan 2"]
    assert store.score_history("nope") == []
    latest = {p.standard: p for p in store.latest_scores()}
    assert set(latest) == {s.standard for s in first}
    assert latest[CIS].reason == "scan 2" and latest[CIS].passed == 1


def test_score_point_percent_without_data() -> None:
    point = ScorePoint(at(0), CIS, 0, 0, 3, "x")
    assert point.percent is None


_STATUSES = st.sampled_from(["PASSED", "FAILED", "WARNING", "NOT_AVAILABLE"])
_WORKFLOWS = st.sampled_from(["NEW", "NOTIFIED", "SUPPRESSED", "RESOLVED"])


_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SETTINGS
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([ACCOUNT, OTHER_ACCOUNT]),
            st.sampled_from([BLOCK, ACCOUNT_BLOCK, SSL]),
            st.integers(0, 3),
            _STATUSES,
            _WORKFLOWS,
        ),
        max_size=12,
    )
)
def test_sql_states_equal_the_summary_rule(tmp_path: Path, rows: list) -> None:
    # The store's SQL and summary's Python must agree on every mix of status and workflow.
    url = f"sqlite:///{tmp_path / f'h{abs(hash(tuple(rows)))}.db'}"
    with Store.open(url) as store:
        findings = [
            posture(f"r{n}", account=acct, generator=check, status=status)
            for acct, check, n, status, _ in rows
        ]
        store.write(findings)
        for f, (*_, workflow) in zip(findings, rows, strict=True):
            if workflow != "NEW":
                store.set_workflow(f.id, workflow, by="test")
        stored = store.list_findings(limit=1000)
        expected = _check_states(stored)
        got = {(c.account_id, c.check_id): c.state for c in store.check_states()}
        assert got == expected
        assert all(isinstance(c, CheckState) for c in store.check_states())


def test_cli_score_and_workflow(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    failing = posture("b", generator=BLOCK, status="FAILED")
    with Store.open(url) as store:
        store.write([failing, posture("acct", generator=ACCOUNT_BLOCK, status="PASSED")])
    runner = CliRunner()

    def cis_percent() -> float | None:
        res = runner.invoke(app, ["score", "--json", "--db", url, "--standard", CIS])
        assert res.exit_code == 0, res.output
        doc = json.loads(res.output)
        assert any(c["control"] == "2.1.4" for c in doc["controls"])
        return next(s["percent"] for s in doc["scores"] if s["standard"] == CIS)

    assert cis_percent() == 0.0
    res = runner.invoke(
        app,
        ["findings", "workflow", failing.id, "--status", "suppressed", "--note", "ok", "--db", url],
    )
    assert res.exit_code == 0, res.output
    assert cis_percent() == 100.0
    res = runner.invoke(app, ["score", "--db", url, "--history", "5"])
    assert res.exit_code == 0, res.output
    assert "workflow set by" in res.output
    with Store.open(url) as store:
        assert store.history(failing.id)[-1]["note"] == "ok"
    bad = runner.invoke(app, ["findings", "workflow", "nope", "--status", "resolved", "--db", url])
    assert bad.exit_code == 2
    assert "no finding 'nope'" in bad.output
    bad = runner.invoke(app, ["score", "--db", url, "--standard", "nope"])
    assert bad.exit_code == 2
