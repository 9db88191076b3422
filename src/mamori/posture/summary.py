"""Scores and counts over posture findings, computed the way Security Hub scores standards:
in an account, a control passes when every resource it evaluated passed, fails when any
failed, and has no data when it evaluated nothing or could not read its data; the score is
passed / (passed + failed) controls. Across accounts, (account, control) pairs are counted."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from mamori.core import ComplianceStatus, Finding, SeverityLabel, WorkflowStatus
from mamori.hub.records import pass_rate
from mamori.posture.registry import load_checks
from mamori.posture.standards import Standard, load_standards


@dataclass
class Score:
    passed: int = 0
    failed: int = 0
    no_data: int = 0
    manual: int = 0

    def count(self, result: str) -> None:
        if result == "FAILED":
            self.failed += 1
        elif result == "PASSED":
            self.passed += 1
        else:
            self.no_data += 1

    @property
    def percent(self) -> float | None:
        return pass_rate(self.passed, self.failed)


@dataclass
class FailingCheck:
    check_id: str
    title: str
    severity: SeverityLabel
    resources: int
    accounts: int


@dataclass
class Summary:
    total: int
    by_status: dict[str, int]
    failing_by_severity: dict[SeverityLabel, int]
    standards: dict[str, tuple[Standard, Score]]
    accounts: dict[str, Score]
    account_standards: dict[str, dict[str, Score]]
    top_failing: list[FailingCheck]
    not_available: list[tuple[str, str]] = field(default_factory=list)  # (check, reason)


def effective_status(f: Finding) -> str:
    """What a compliance finding counts as in a score: a suppressed failure is a risk someone
    accepted, so it counts as passed (Security Hub's rule); WARNING and NOT_AVAILABLE are no
    data. `Store.check_states` applies the same rule in SQL (a test holds the two together)."""
    assert f.compliance is not None
    status = f.compliance.status
    if status is ComplianceStatus.FAILED:
        return "PASSED" if f.workflow.status is WorkflowStatus.SUPPRESSED else "FAILED"
    return "PASSED" if status is ComplianceStatus.PASSED else "NO_DATA"


def _check_states(findings: Iterable[Finding]) -> dict[tuple[str, str], str]:
    """(account, check) -> FAILED / PASSED / NO_DATA."""
    state: dict[tuple[str, str], str] = {}
    for f in findings:
        if f.compliance is None:
            continue
        key = (f.account_id, f.generator_id)
        state[key] = _combine([state.get(key, "NO_DATA"), effective_status(f)])
    return state


def _combine(states: list[str]) -> str:
    if "FAILED" in states:
        return "FAILED"
    if "PASSED" in states:
        return "PASSED"
    return "NO_DATA"


def score_standard(std: Standard, state: dict[tuple[str, str], str], accounts: list[str]) -> Score:
    """Controls are scored per account, as Security Hub does in each account; over several
    accounts the figures add up (account, control) pairs, so one failing member does not
    hide how the others stand."""
    score = Score()
    for control in std.controls:
        if control.manual and not control.checks:
            score.manual += 1
            continue
        for account in accounts:
            score.count(_combine([state.get((account, c), "NO_DATA") for c in control.checks]))
    return score


def summarize(findings: list[Finding], top: int = 10) -> Summary:
    posture = [f for f in findings if f.compliance is not None]
    state = _check_states(posture)
    accounts = sorted({f.account_id for f in posture})
    by_status = Counter(f.compliance.status.value for f in posture if f.compliance)
    failing = [f for f in posture if f.is_failing]
    by_sev = Counter(f.severity.label for f in failing)
    standards = load_standards()
    std_scores = {
        sid: (std, score_standard(std, state, accounts)) for sid, std in standards.items()
    }
    acct_scores: dict[str, Score] = {}
    acct_std: dict[str, dict[str, Score]] = {}
    for acct in accounts:
        s = Score()
        for (a, _check), st in state.items():
            if a == acct:
                s.count(st)
        acct_scores[acct] = s
        acct_std[acct] = {sid: score_standard(std, state, [acct]) for sid, std in standards.items()}
    registry = load_checks()
    resources: dict[str, set[str]] = defaultdict(set)
    accts: dict[str, set[str]] = defaultdict(set)
    for f in failing:
        resources[f.generator_id].add(f.resource.id)
        accts[f.generator_id].add(f.account_id)
    ranked = sorted(
        resources,
        key=lambda c: (-registry[c].severity.rank if c in registry else 0, -len(resources[c]), c),
    )
    top_failing = [
        FailingCheck(
            c,
            registry[c].title if c in registry else c,
            registry[c].severity if c in registry else SeverityLabel.MEDIUM,
            len(resources[c]),
            len(accts[c]),
        )
        for c in ranked[:top]
    ]
    unavailable = sorted(
        {
            (
                f.generator_id,
                f.compliance.status_reasons[0]
                if f.compliance and f.compliance.status_reasons
                else "",
            )
            for f in posture
            if f.compliance and f.compliance.status is ComplianceStatus.NOT_AVAILABLE
        }
    )
    return Summary(
        len(posture),
        dict(by_status),
        dict(by_sev),
        std_scores,
        acct_scores,
        acct_std,
        top_failing,
        unavailable,
    )
