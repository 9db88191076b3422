"""How a stored finding changes when it is seen again, or no longer seen.

The workflow rules follow Security Hub's: a control that now passes is resolved, a resolved
problem that shows up again is reopened, and a person's decision to suppress (or to note that
someone was notified) is not overridden by a scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from mamori.core import (
    ComplianceStatus,
    Finding,
    RecordState,
    Workflow,
    WorkflowStatus,
    as_utc,
    utcnow,
)

SYSTEM_ACTOR = "mamori"

# Compliance outcomes that ask for action. NOT_AVAILABLE says nothing either way.
_FAILING = frozenset({ComplianceStatus.FAILED, ComplianceStatus.WARNING})
_OPEN = frozenset({WorkflowStatus.NEW, WorkflowStatus.NOTIFIED})


@dataclass(frozen=True)
class Prior:
    """What the store holds for a finding before a write: read from promoted columns only."""

    status: ComplianceStatus | None
    workflow: Workflow
    first_observed_at: datetime
    last_observed_at: datetime
    created_at: datetime
    count: int
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Transition:
    to: WorkflowStatus
    note: str

    def apply(self, at: datetime) -> Workflow:
        return Workflow(status=self.to, note=self.note, updated_by=SYSTEM_ACTOR, updated_at=at)


RESOLVED_PASSES = Transition(WorkflowStatus.RESOLVED, "resolved: now passes")
RESOLVED_GONE = Transition(WorkflowStatus.RESOLVED, "resolved: no longer observed")
REOPENED_FAILS = Transition(WorkflowStatus.NEW, "reopened: fails again")
REOPENED_SEEN = Transition(WorkflowStatus.NEW, "reopened: observed again")


def on_insert(finding: Finding) -> Transition | None:
    """A control first seen passing starts resolved: there is nothing to act on."""
    if finding.status is ComplianceStatus.PASSED and finding.workflow.status is WorkflowStatus.NEW:
        return RESOLVED_PASSES
    return None


def on_update(prior: Prior, status: ComplianceStatus | None) -> Transition | None:
    """A finding written again. A scan never overrides SUPPRESSED; a control that passes now
    is resolved; what was resolved and fails again (or, for a detection, is seen again) is
    reopened; anything else, NOTIFIED included, is kept."""
    current = prior.workflow.status
    if current is WorkflowStatus.SUPPRESSED:
        return None
    if status is ComplianceStatus.PASSED:
        if prior.status is not ComplianceStatus.PASSED and current in _OPEN:
            return RESOLVED_PASSES
        return None
    if current is not WorkflowStatus.RESOLVED:
        return None
    if status in _FAILING:
        return REOPENED_FAILS
    if status is None:
        # A detection written again is a new occurrence of what was resolved.
        return REOPENED_SEEN
    return None


def on_archive(status: ComplianceStatus | None, current: WorkflowStatus) -> Transition | None:
    """A failing control whose resource a complete scan no longer finds has nothing left to fix."""
    if status in _FAILING and current in _OPEN:
        return RESOLVED_GONE
    return None


def merge(prior: Prior, finding: Finding) -> tuple[Finding, Transition | None]:
    """The finding to store when `finding` is written over `prior`, and any workflow change."""
    now = utcnow()
    transition = on_update(prior, finding.status)
    merged = finding.model_copy(
        update={
            "first_observed_at": prior.first_observed_at,
            "created_at": prior.created_at,
            "last_observed_at": max(prior.last_observed_at, _utc(finding.last_observed_at)),
            "updated_at": now,
            "count": merged_count(prior, finding),
            "workflow": transition.apply(now) if transition else prior.workflow,
            "record_state": RecordState.ACTIVE,
        }
    )
    return merged, transition


def merged_count(prior: Prior, finding: Finding) -> int:
    """How many times a finding has been observed once `finding` is written over `prior`.

    A posture re-evaluation is the same observation again. A detection reports the records
    matching in the logs it read: when they overlap what the stored count covered (a re-run
    over the same, or a grown, log store recounts the earlier records) the larger total wins;
    records wholly after the stored ones are new repeats and add to it."""
    if finding.compliance is not None:
        return prior.count
    if _utc(finding.first_observed_at) <= _utc(prior.last_observed_at):
        return max(prior.count, finding.count)
    return prior.count + finding.count


def update_due(prior: Prior, finding: Finding, every: timedelta | None, now: datetime) -> bool:
    """Whether an update of a stored finding is written now or left for a later run.

    GuardDuty publishes new findings at once and repeats of known ones on a set cadence;
    deferring loses nothing here because a later run recounts the same records. A change of
    workflow (a resolved threat seen again) is never deferred."""
    if not every or prior.updated_at is None:
        return True
    if on_update(prior, finding.status) is not None:
        return True
    return _utc(prior.updated_at) <= now - every


_ZERO = timedelta(0)
_TIMESTAMPS = ("first_observed_at", "last_observed_at", "created_at", "updated_at")


def fresh(finding: Finding) -> Finding:
    """The finding to store on first sight: its own data, with timestamps in UTC."""
    update: dict[str, object] = {
        name: _utc(value) for name in _TIMESTAMPS if not _is_utc(value := getattr(finding, name))
    }
    transition = on_insert(finding)
    if transition:
        update["workflow"] = transition.apply(utcnow())
    elif (stamp := finding.workflow.updated_at) is not None and not _is_utc(stamp):
        update["workflow"] = finding.workflow.model_copy(update={"updated_at": _utc(stamp)})
    # Most findings arrive as the store keeps them: skip the copy then.
    return finding.model_copy(update=update) if update else finding


def _is_utc(value: datetime | None) -> bool:
    return value is None or value.utcoffset() == _ZERO


def _utc(value: datetime) -> datetime:
    aware = as_utc(value)
    assert aware is not None  # the Finding model never holds None here
    return aware
