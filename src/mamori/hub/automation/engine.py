"""One automation run: the rules of a file over the findings new or updated since its last run.

Each finding is turned once into its match document (ASFF with the Security Hub event
envelope) and matched against every enabled rule; a matching rule runs its actions in order,
and a failed action defers the rule's later ones for that finding to the next run. Every
outcome is written to the audit. An action done (or with nothing to do) is not repeated for
the same rule, action and finding while the finding says the same thing (its fingerprint), so
a re-run, an overlapping window or `all_findings` never notifies or remediates twice; a failed
or deferred one is tried again. A dry run decides and records the same, changes nothing, and
leaves the watermark where it was.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from mamori.core import Finding, utcnow
from mamori.exports.asff import to_asff
from mamori.hub.automation.actions import (
    ActionContext,
    ActionFn,
    ActionParams,
    Outcome,
    RunResources,
    deferred,
    failed,
    registry,
)
from mamori.hub.automation.audit import AuditLog, AuditRecord, DoneKey, updated_findings
from mamori.hub.automation.event import finding_event, fingerprint
from mamori.hub.automation.rules import Rule, RuleSet
from mamori.hub.store import Store

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mamori.hub.automation.remediate import AccountSessions

# A finding written while the last run read the store may carry an earlier updated_at than
# that run's end: each run looks this far behind its watermark (the audit keeps the overlap
# from acting twice).
OVERLAP = timedelta(minutes=5)


@dataclass
class RuleReport:
    matched: int = 0
    results: Counter[str] = field(default_factory=Counter)


@dataclass
class Failure:
    rule_id: str
    action: str
    finding_id: str
    resource_id: str
    error: str


@dataclass
class AutomationReport:
    run_id: str
    rules: str
    dry_run: bool
    since: datetime | None
    until: datetime
    examined: int = 0
    repeated: int = 0  # actions not run again: done before for the same finding content
    workflow_changes: int = 0  # findings whose workflow an action changed
    by_rule: dict[str, RuleReport] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)

    def count(self, result: str) -> int:
        return sum(r.results[result] for r in self.by_rule.values())


def action_key(step: int, params: ActionParams) -> str:
    """The action's place in its rule and its parameters: changing either makes it a new
    action that applies again."""
    digest = hashlib.sha256(params.model_dump_json().encode()).hexdigest()[:12]
    return f"{step}:{digest}"


def run_automation(
    store: Store,
    rules: RuleSet,
    *,
    dry_run: bool = False,
    all_findings: bool = False,
    aws: AccountSessions | None = None,
    env: Mapping[str, str] | None = None,
) -> AutomationReport:
    """Run `rules` over the findings written since their last run (every active finding with
    `all_findings`), and move their watermark unless this is a dry run."""
    audit = AuditLog(store)
    name = rules.name or "rules"
    until = utcnow()
    mark = None if all_findings else audit.watermark(name)
    since = mark - OVERLAP if mark is not None else None
    report = AutomationReport(uuid.uuid4().hex, name, dry_run, since, until)
    enabled = rules.enabled
    run = RunResources(store, aws if any(r.remediates for r in enabled) else None)
    if env is not None:
        run.env = env
    for rule in enabled:
        report.by_rule[rule.id] = RuleReport()
    for page in updated_findings(store, since, until):
        report.examined += len(page)
        matches = _matches(page, enabled)
        settled = audit.settled(name, {f.id for f, _, _ in matches})
        records: list[AuditRecord] = []
        for finding, print_, rule in matches:
            records += _apply(rule, finding, print_, settled, run, report, dry_run)
        audit.record(records)
    if not dry_run:
        audit.set_watermark(name, until, report.run_id, utcnow())
    return report


def _matches(page: list[Finding], rules: list[Rule]) -> list[tuple[Finding, str, Rule]]:
    found = []
    for finding in page:
        asff = to_asff(finding)
        event = finding_event(asff)
        hits = [rule for rule in rules if rule.matches(event)]
        if hits:
            print_ = fingerprint(asff)
            found += [(finding, print_, rule) for rule in hits]
    return found


def _apply(
    rule: Rule,
    finding: Finding,
    print_: str,
    settled: set[DoneKey],
    run: RunResources,
    report: AutomationReport,
    dry_run: bool,
) -> list[AuditRecord]:
    specs = registry()
    stats = report.by_rule[rule.id]
    stats.matched += 1
    ctx = ActionContext(rule.id, dry_run, run)
    records = []
    blocked = False
    for step, params in enumerate(rule.actions):
        key = action_key(step, params)
        if (rule.id, key, finding.id, print_) in settled:
            report.repeated += 1
            continue
        if blocked:
            outcome = deferred("an earlier action of this rule failed")
        else:
            outcome = _invoke(specs[params.type].fn, finding, params, ctx)
        blocked = blocked or outcome.status == "failed"
        stats.results[outcome.status] += 1
        if outcome.status == "failed":
            report.failures.append(
                Failure(rule.id, params.type, finding.id, finding.resource.id, outcome.error or "")
            )
        if outcome.status == "done" and params.type in ("suppress", "set_workflow"):
            report.workflow_changes += 1
        records.append(
            AuditRecord(
                at=utcnow(),
                run_id=report.run_id,
                rules=report.rules,
                rule_id=rule.id,
                action=params.type,
                action_key=key,
                finding_id=finding.id,
                fingerprint=print_,
                account_id=finding.account_id,
                resource_id=finding.resource.id,
                dry_run=dry_run,
                result=outcome.status,
                detail=outcome.detail,
                error=outcome.error,
            )
        )
    return records


def _invoke(fn: ActionFn, finding: Finding, params: ActionParams, ctx: ActionContext) -> Outcome:
    try:
        return fn(finding, params, ctx)
    except Exception as exc:  # noqa: BLE001 - one action's bug or outage must not stop the run
        return failed(f"{params.type} raised", f"{type(exc).__name__}: {exc}"[:1000])
