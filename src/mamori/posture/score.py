"""Security scores of the findings in a store, per standard and overall, and their history.

The same rules as `summary` (a control passes in an account when every check it maps to passed
there; suppressed failures count as passed, as accepted risks), computed from the store's
per-account check states so that a score never loads the findings themselves. Scores are
recorded as points after each scan and workflow change, for trend charts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from mamori.core import utcnow
from mamori.hub import ScorePoint, Store
from mamori.hub.records import pass_rate
from mamori.posture.standards import Standard, get_standard, load_standards
from mamori.posture.summary import Score, score_standard

OVERALL = "overall"  # every (account, check) pair with data, whatever the standard


@dataclass(frozen=True)
class StandardScore:
    standard: str
    title: str
    passed: int
    failed: int
    no_data: int
    manual: int

    @property
    def percent(self) -> float | None:
        return pass_rate(self.passed, self.failed)


@dataclass(frozen=True)
class ControlStatus:
    control_id: str
    title: str
    status: str  # PASSED, FAILED, NO_DATA or MANUAL
    checks: tuple[str, ...]
    failing_accounts: tuple[str, ...]
    failing_resources: int  # failing, unsuppressed findings of its checks
    note: str = ""


@dataclass
class _States:
    state: dict[tuple[str, str], str]
    failing: dict[str, dict[str, int]]  # check -> account -> failing findings
    accounts: list[str]


def _states(store: Store) -> _States:
    state: dict[tuple[str, str], str] = {}
    failing: dict[str, dict[str, int]] = defaultdict(dict)
    for cs in store.check_states():
        state[(cs.account_id, cs.check_id)] = cs.state
        if cs.failing:
            failing[cs.check_id][cs.account_id] = cs.failing
    return _States(state, failing, sorted({a for a, _ in state}))


def _overall(states: _States) -> Score:
    score = Score()
    for value in states.state.values():
        score.count(value)
    return score


def _of(standard: str, title: str, score: Score) -> StandardScore:
    return StandardScore(standard, title, score.passed, score.failed, score.no_data, score.manual)


def current_scores(store: Store) -> list[StandardScore]:
    """Every standard's score, then the overall one."""
    states = _states(store)
    scores = [
        _of(sid, f"{std.name} {std.version}", score_standard(std, states.state, states.accounts))
        for sid, std in sorted(load_standards().items())
    ]
    scores.append(_of(OVERALL, "All checks", _overall(states)))
    return scores


def control_status(store: Store, standard_id: str) -> list[ControlStatus]:
    """Each control of a standard, with the accounts and resources that fail it."""
    return standard_report(store, standard_id)[1]


def standard_report(store: Store, standard_id: str) -> tuple[StandardScore, list[ControlStatus]]:
    """A standard's score and its controls' status, from one read of the check states."""
    standard = get_standard(standard_id)
    states = _states(store)
    score = _of(
        standard.id,
        f"{standard.name} {standard.version}",
        score_standard(standard, states.state, states.accounts),
    )
    out: list[ControlStatus] = []
    for control in standard.controls:
        if control.manual and not control.checks:
            out.append(ControlStatus(control.id, control.title, "MANUAL", (), (), 0, control.note))
            continue
        alone = score_standard(_single(standard, control.id), states.state, states.accounts)
        failing_accounts = sorted({a for c in control.checks for a in states.failing.get(c, {})})
        resources = sum(n for c in control.checks for n in states.failing.get(c, {}).values())
        status = "FAILED" if alone.failed else "PASSED" if alone.passed else "NO_DATA"
        out.append(
            ControlStatus(
                control.id,
                control.title,
                status,
                control.checks,
                tuple(failing_accounts),
                resources,
                control.note,
            )
        )
    return score, out


def record_scores(store: Store, reason: str) -> list[StandardScore]:
    """Compute the current scores and keep them as the next point of each trend."""
    scores = current_scores(store)
    at = utcnow()
    store.record_scores(
        [ScorePoint(at, s.standard, s.passed, s.failed, s.no_data, reason) for s in scores]
    )
    return scores


def _single(standard: Standard, control_id: str) -> Standard:
    """The standard reduced to one control, to score that control alone."""
    controls = tuple(c for c in standard.controls if c.id == control_id)
    return Standard(
        standard.id, standard.name, standard.version, standard.description, standard.url, controls
    )
