"""Counts kept while evaluating: per rule, per outcome, and the groups of dropped or alerted
traffic that become findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mamori.perimeter.netfw.model import Policy

# Outcomes of one record or inferred connection.
PASS, DROP, REJECT, UNDETERMINED = 0, 1, 2, 3
OUTCOME_NAMES = {PASS: "passed", DROP: "dropped", REJECT: "rejected", UNDETERMINED: "undetermined"}


@dataclass
class RuleCounts:
    key: str
    group: str
    engine: str  # stateless, stateful, default
    action: str
    description: str = ""
    matched: int = 0
    passed: int = 0
    dropped: int = 0
    rejected: int = 0
    alerted: int = 0
    undetermined: int = 0

    def add_outcome(self, outcome: int, count: int) -> None:
        name = OUTCOME_NAMES[outcome]
        setattr(self, name, getattr(self, name) + count)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.key,
            "group": self.group,
            "engine": self.engine,
            "action": self.action,
            "description": self.description,
            "matched": self.matched,
            "passed": self.passed,
            "dropped": self.dropped,
            "rejected": self.rejected,
            "alerted": self.alerted,
            "undetermined": self.undetermined,
        }


@dataclass
class Group:
    """Dropped or alerted traffic of one source, decided by one rule."""

    count: int = 0
    packets: int = 0
    bytes: int = 0
    first: datetime | None = None
    last: datetime | None = None
    targets: dict[str, int] = field(default_factory=dict)
    uncertain: int = 0

    def add(
        self,
        count: int,
        packets: int,
        size: int,
        first: datetime | None,
        last: datetime | None,
        target: str,
        uncertain: int,
    ) -> None:
        self.count += count
        self.packets += packets
        self.bytes += size
        self.uncertain += uncertain
        if first is not None and (self.first is None or first < self.first):
            self.first = first
        if last is not None and (self.last is None or last > self.last):
            self.last = last
        if target in self.targets or len(self.targets) < 1000:
            self.targets[target] = self.targets.get(target, 0) + count


# (input: flows|dns, outcome: drop|reject|alert, account, region, resource type, resource id,
#  rule key)
GroupKey = tuple[str, str, str, str, str, str, str]


@dataclass
class Tally:
    """Everything one evaluation counts, for both inputs."""

    rules: dict[str, dict[str, RuleCounts]] = field(default_factory=dict)  # input -> key -> counts
    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    groups: dict[GroupKey, Group] = field(default_factory=dict)
    read_problems: list[str] = field(default_factory=list)

    def rule(
        self, source: str, key: str, *, group: str, engine: str, action: str, description: str = ""
    ) -> RuleCounts:
        table = self.rules.setdefault(source, {})
        found = table.get(key)
        if found is None:
            found = table[key] = RuleCounts(key, group, engine, action, description)
        return found

    def total(self, source: str, name: str, count: int) -> None:
        table = self.totals.setdefault(source, {})
        table[name] = table.get(name, 0) + count

    def group(self, key: GroupKey) -> Group:
        found = self.groups.get(key)
        if found is None:
            found = self.groups[key] = Group()
        return found


def register_rules(tally: Tally, policy: Policy, source: str, *, stateless: bool = True) -> None:
    """Every rule gets a row, matched or not: a rule that never matches is worth seeing."""
    for plain in policy.stateless_rules() if stateless else []:
        tally.rule(source, plain.key, group=plain.group, engine="stateless", action=plain.action)
    for rule in policy.stateful_rules():
        tally.rule(
            source,
            rule.key,
            group=rule.group,
            engine="stateful",
            action=rule.action.value,
            description=rule.msg,
        )
