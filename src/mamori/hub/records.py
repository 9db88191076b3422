"""Plain values the store hands in and out besides findings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mamori.core import Finding, SeverityLabel


@dataclass(frozen=True)
class ScanScope:
    """What a scan looked at. A finished scan archives only findings inside its scope."""

    source: str
    accounts: tuple[str, ...]
    regions: tuple[str, ...]  # "global" stands for global resources (IAM, S3 account settings)


@dataclass
class UpsertStats:
    inserted: int = 0
    updated: int = 0
    resolved: int = 0  # workflow set to RESOLVED because a control now passes
    reopened: int = 0  # workflow set back to NEW because a resolved problem is seen again
    deferred: int = 0  # known findings whose update waits for the update cadence

    def __add__(self, other: UpsertStats) -> UpsertStats:
        return UpsertStats(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.resolved + other.resolved,
            self.reopened + other.reopened,
            self.deferred + other.deferred,
        )

    @property
    def written(self) -> int:
        return self.inserted + self.updated


@dataclass
class ScanRecord:
    id: str
    kind: str
    scope: ScanScope
    started_at: datetime
    finished_at: datetime | None
    status: str
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)


def status_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Findings per compliance status ("NONE" for findings without one), plus "total"."""
    counts: dict[str, int] = {}
    total = 0
    for f in findings:
        key = f.status.value if f.status else "NONE"
        counts[key] = counts.get(key, 0) + 1
        total += 1
    counts["total"] = total
    return counts


@dataclass(frozen=True)
class Insight:
    """One group of an insight: findings sharing a value of the grouped field."""

    value: str | None
    count: int
    high_or_worse: int
    worst: SeverityLabel


@dataclass(frozen=True)
class CheckState:
    """How one check stands in one account, over its active findings: FAILED when any failing
    finding is not suppressed, PASSED when the rest passed or were suppressed (a risk accepted,
    as Security Hub counts it), NO_DATA when none could be evaluated."""

    account_id: str
    check_id: str
    state: str
    failing: int  # failing, unsuppressed findings (resources) of the check in the account


@dataclass(frozen=True)
class ScorePoint:
    """A standard's score at one moment; "overall" stands for every check in every standard."""

    at: datetime
    standard: str
    passed: int
    failed: int
    no_data: int
    reason: str

    @property
    def percent(self) -> float | None:
        return pass_rate(self.passed, self.failed)


def pass_rate(passed: int, failed: int) -> float | None:
    """A score in percent; None when nothing was assessed (no data is not 0% nor 100%)."""
    assessed = passed + failed
    return None if assessed == 0 else 100.0 * passed / assessed
