"""Suppression rules (a mutelist): findings a team has decided not to act on, and why.

A file of rules in YAML (or JSON):

    rules:
      - id: sandbox-logging
        reason: Sandbox accounts keep no trail; accepted by the security board.
        owner: platform-team@example.com
        expires: 2027-03-31          # optional; after it the rule no longer suppresses
        match:                       # every key given must hold (AND); a list: any item (OR)
          accounts: ["111111111111"]
          checks: [cloudtrail.multi_region_enabled]
          regions: [eu-west-1]
          resources: ["arn:aws:s3:::build-cache"]   # exact ids of any of the resources
          resource_regex: "arn:aws:s3:::tmp-.*"      # whole-id match
          finding_types: ["Recon:EC2/Portscan"]     # any of the finding's types
          tags: {env: sandbox}                       # a resource with every one of these tags
          any: [{...}, {...}]                        # OR of conditions
          all: [{...}, {...}]                        # AND of conditions
          not: {...}

Validation is strict: an unknown key, an empty condition, a bad regex or date, a repeated id is
an error naming the rule and the key, and nothing is applied. Applying a mutelist moves the
active findings a rule matches to SUPPRESSED (with the rule, its reason, owner and expiry in
the workflow note and history) and back to NEW those it suppressed before that no rule in force
matches any more (expired, changed or removed). A person's own decisions are never touched.
Suppressed findings stay in the store, listed with their status and counted apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from mamori.core import Finding, WorkflowStatus
from mamori.hub.query import FindingFilter
from mamori.hub.rulefile import load_rule_file
from mamori.hub.store import Store

# Findings suppressed by a rule carry this prefix and the rule id as who decided.
MUTELIST_ACTOR = "mutelist:"
_PAGE = 1000


class Condition(BaseModel):
    """What a finding must be for a rule to suppress it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    accounts: list[str] | None = None
    regions: list[str] | None = None
    checks: list[str] | None = None
    finding_types: list[str] | None = None
    resources: list[str] | None = None
    resource_regex: str | None = None
    tags: dict[str, str] | None = None
    all_of: list[Condition] | None = Field(default=None, alias="all")
    any_of: list[Condition] | None = Field(default=None, alias="any")
    none_of: Condition | None = Field(default=None, alias="not")
    _compiled: list[Any] = PrivateAttr(default_factory=list)

    @field_validator("resource_regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Condition:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if not given:
            raise ValueError("a condition needs at least one key (it would match everything)")
        for name in given:
            value = getattr(self, name)
            if isinstance(value, list | dict) and not value:
                raise ValueError(f"{name} is empty (it could never match)")
        return self

    def model_post_init(self, context: Any, /) -> None:
        self._compiled = self._tests()

    def matches(self, finding: Finding) -> bool:
        return all(test(finding) for test in self._compiled)

    def _tests(self) -> list[Any]:
        """One test per key given; a finding matches when it passes them all."""
        tests: list[Any] = []
        if self.accounts is not None:
            tests.append(lambda f, v=set(self.accounts): f.account_id in v)
        if self.regions is not None:
            tests.append(lambda f, v=set(self.regions): f.region in v)
        if self.checks is not None:
            tests.append(lambda f, v=set(self.checks): f.generator_id in v)
        if self.finding_types is not None:
            tests.append(lambda f, v=set(self.finding_types): any(t in v for t in f.types))
        if self.resources is not None:
            tests.append(lambda f, v=set(self.resources): any(r.id in v for r in f.resources))
        if self.resource_regex is not None:
            pattern = re.compile(self.resource_regex)
            tests.append(lambda f: any(pattern.fullmatch(r.id) for r in f.resources))
        if self.tags is not None:
            wanted = self.tags.items()
            tests.append(
                lambda f: any(all(r.tags.get(k) == v for k, v in wanted) for r in f.resources)
            )
        if self.all_of is not None:
            tests.append(lambda f, cs=self.all_of: all(c.matches(f) for c in cs))
        if self.any_of is not None:
            tests.append(lambda f, cs=self.any_of: any(c.matches(f) for c in cs))
        if self.none_of is not None:
            tests.append(lambda f, c=self.none_of: not c.matches(f))
        return tests


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
    reason: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    expires: date | None = None
    match: Condition

    def in_force(self, today: date) -> bool:
        return self.expires is None or today <= self.expires

    def note(self) -> str:
        until = f", until {self.expires.isoformat()}" if self.expires else ""
        return f"{self.reason} (rule {self.id}, owner {self.owner}{until})"


class Mutelist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[Rule]

    @model_validator(mode="after")
    def _unique(self) -> Mutelist:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} is given twice")
            seen.add(rule.id)
        return self

    def rule_for(self, finding: Finding, today: date) -> Rule | None:
        """The first rule in force that matches the finding."""
        return next((r for r in self.rules if r.in_force(today) and r.match.matches(finding)), None)


def load_mutelist(path: Path) -> Mutelist:
    """The mutelist in `path`; InputError naming the file, rule and key of every problem."""
    return load_rule_file(path, Mutelist, "mutelist")


@dataclass
class MuteReport:
    suppressed: dict[str, int] = field(default_factory=dict)  # rule id -> findings suppressed
    reopened: int = 0  # suppressed by a rule no longer in force or matching
    expired: list[str] = field(default_factory=list)  # rule ids past their date
    examined: int = 0


def apply_mutelist(
    store: Store, mutelist: Mutelist, *, today: date, by: str = "", dry_run: bool = False
) -> MuteReport:
    """Suppress the active findings a rule in force matches, and reopen those a rule suppressed
    that none matches now. With dry_run, only count."""
    report = MuteReport(expired=[r.id for r in mutelist.rules if not r.in_force(today)])
    changes: list[tuple[str, WorkflowStatus, str, str]] = []
    offset = 0
    while True:
        page = store.list_findings(
            FindingFilter(), limit=_PAGE, offset=offset, order="first_observed_at"
        )
        offset += len(page)
        for finding in page:
            report.examined += 1
            change = _change(finding, mutelist.rule_for(finding, today), by)
            if change is None:
                continue
            changes.append((finding.id, *change))
            if change[0] is WorkflowStatus.SUPPRESSED:
                rid = change[1].removeprefix(MUTELIST_ACTOR)
                report.suppressed[rid] = report.suppressed.get(rid, 0) + 1
            else:
                report.reopened += 1
        if len(page) < _PAGE:
            break
    if not dry_run:
        # One bulk change per (status, rule, note): a rule suppressing 50,000 findings is a
        # few transactions, not 50,000.
        groups: dict[tuple[WorkflowStatus, str, str], list[str]] = {}
        for finding_id, status, actor, note in changes:
            groups.setdefault((status, actor, note), []).append(finding_id)
        for (status, actor, note), ids in groups.items():
            store.set_workflows(ids, status, by=actor, note=note)
    return report


def _change(finding: Finding, rule: Rule | None, by: str) -> tuple[WorkflowStatus, str, str] | None:
    """(status, actor, note) to move the finding to, or None to leave it as it is."""
    workflow = finding.workflow
    by_rule = workflow.status is WorkflowStatus.SUPPRESSED and (
        workflow.updated_by or ""
    ).startswith(MUTELIST_ACTOR)
    if rule is not None:
        actor = MUTELIST_ACTOR + rule.id
        if workflow.status is WorkflowStatus.SUPPRESSED and (
            not by_rule or (workflow.updated_by == actor and workflow.note == rule.note())
        ):
            return None  # already suppressed by this rule as it is now, or by a person
        if workflow.status is WorkflowStatus.RESOLVED:
            return None  # nothing to act on either way
        return WorkflowStatus.SUPPRESSED, actor, rule.note()
    if by_rule:
        note = f"reopened: {workflow.updated_by} no longer suppresses it"
        return WorkflowStatus.NEW, by or MUTELIST_ACTOR.rstrip(":"), note
    return None
