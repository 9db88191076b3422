"""What the dashboard reads and changes, as plain functions over the store: the JSON API
answers with their results and the pages render the same results, so both go through one
query path. Every list is a paged SQL query and every count is counted by the database."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mamori.core import (
    ComplianceStatus,
    Finding,
    SeverityLabel,
    WorkflowStatus,
)
from mamori.hub import FindingFilter, Store
from mamori.hub.query import ORDER_FIELDS
from mamori.web import schemas as s
from mamori.web.schemas import Severity, Status, WorkflowValue

if TYPE_CHECKING:
    from mamori.posture.score import StandardScore

Order = Literal[tuple(f"{sign}{name}" for name in ORDER_FIELDS for sign in ("-", ""))]  # type: ignore[valid-type]

ACTIONABLE = [WorkflowStatus.NEW.value, WorkflowStatus.NOTIFIED.value]
DETECT = "detect"


class FindingQuery(BaseModel):
    """Filters, order and page of a findings list (query parameters of the API and pages)."""

    model_config = ConfigDict(extra="ignore")

    severity: list[Severity] = Field(default_factory=list)
    min_severity: Severity | None = None
    status: list[Status] = Field(default_factory=list)
    workflow: list[WorkflowValue] = Field(default_factory=list)
    source: s.Text | None = None
    account: list[s.Text] = Field(default_factory=list)
    region: list[s.Text] = Field(default_factory=list)
    check: list[s.Text] = Field(default_factory=list)
    resource_type: list[s.Text] = Field(default_factory=list)
    text: s.Text | None = Field(default=None, description="Substring of title or resource id.")
    archived: bool = Field(default=False, description="Include archived findings.")
    order: Order = "-severity"  # type: ignore[valid-type]
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=10_000_000)

    @field_validator("account", "region", "check", "resource_type")
    @classmethod
    def _given(cls, values: list[str]) -> list[str]:
        # An empty text box of a filter form means "any", not "the empty value".
        return [v for v in values if v]

    def filter(self) -> FindingFilter:
        return FindingFilter(
            severity=[v.value for v in self.severity] or None,
            min_severity=self.min_severity.value if self.min_severity else None,
            status=[v.value for v in self.status] or None,
            workflow=[v.value for v in self.workflow] or None,
            source=self.source or None,
            account_id=self.account or None,
            region=self.region or None,
            generator_id=self.check or None,
            resource_type=self.resource_type or None,
            text=self.text or None,
            record_state=None if self.archived else "ACTIVE",
        )


def findings_page(store: Store, q: FindingQuery) -> s.FindingPage:
    flt = q.filter()
    items = store.list_findings(flt, limit=q.limit, offset=q.offset, order=q.order)
    suppressed = WorkflowStatus.SUPPRESSED.value
    return s.FindingPage(
        total=store.count(flt),
        suppressed=store.count(replace(flt, workflow=[suppressed]))
        if not flt.workflow or suppressed in flt.workflow
        else 0,
        limit=q.limit,
        offset=q.offset,
        order=q.order,
        items=[s.FindingSummary.of(f) for f in items],
    )


def finding_detail(store: Store, finding_id: str) -> s.FindingDetail | None:
    finding = store.get(finding_id)
    if finding is None:
        return None
    history = [
        s.HistoryEntry(
            at=h["at"], from_status=h["from"], to_status=h["to"], by=h["by"], note=h["note"]
        )
        for h in store.history(finding_id)
    ]
    return s.FindingDetail(finding=finding, history=history)


def change_workflow(store: Store, change: s.WorkflowChange, by: str) -> s.WorkflowResult:
    """Apply a person's decision to each finding, as one bulk change; ids not in the store are
    reported, not fatal. A change to a posture finding moves the scores, so a score point is
    recorded."""
    wanted = list(dict.fromkeys(change.ids))
    updated = store.set_workflows(wanted, change.status, by=by, note=change.note or None)
    found = set(updated)
    if updated:
        from mamori.posture.score import record_scores

        record_scores(store, f"workflow change by {by}")
    return s.WorkflowResult(updated=updated, missing=[i for i in wanted if i not in found])


def insights(store: Store, by: str, flt: FindingFilter, limit: int = 50) -> list[s.InsightGroup]:
    return [
        s.InsightGroup(value=g.value, count=g.count, high_or_worse=g.high_or_worse, worst=g.worst)
        for g in store.insights(by, flt, limit=limit)
    ]


def scores(store: Store, *, live: bool = False) -> list[s.ScoreOut]:
    """Every standard's score, then the overall one: as of the last recorded point (after
    each scan, mutelist run and workflow change; cheap), or computed now with `live` (and
    when nothing was recorded yet)."""
    from mamori.posture import load_standards
    from mamori.posture.score import OVERALL, current_scores

    recorded = [] if live else store.latest_scores()
    if not recorded:
        return [_score_out(sc) for sc in current_scores(store)]
    known = load_standards()
    out: list[s.ScoreOut] = []
    for p in recorded:
        std = known.get(p.standard)
        if std is None and p.standard != OVERALL:
            continue  # a standard no longer shipped
        out.append(
            s.ScoreOut(
                standard=p.standard,
                title=f"{std.name} {std.version}" if std else "All checks",
                passed=p.passed,
                failed=p.failed,
                no_data=p.no_data,
                manual=sum(1 for c in std.controls if c.manual and not c.checks) if std else 0,
                percent=p.percent,
            )
        )
    # Standards in id order, the overall score last, as current_scores lists them.
    return sorted(out, key=lambda sc: (sc.standard == OVERALL, sc.standard))


def score_trend(
    store: Store, standard: str | None = None, limit: int = 500
) -> list[s.ScorePointOut]:
    return [
        s.ScorePointOut(
            at=p.at,
            standard=p.standard,
            passed=p.passed,
            failed=p.failed,
            no_data=p.no_data,
            percent=p.percent,
            reason=p.reason,
        )
        for p in store.score_history(standard, limit=limit)
    ]


def overview(store: Store) -> s.Overview:
    from mamori.posture import load_checks

    actionable = FindingFilter(min_severity=SeverityLabel.LOW.value, workflow=ACTIONABLE)
    failing = FindingFilter(status=[ComplianceStatus.FAILED.value], workflow=ACTIONABLE)
    checks = load_checks()
    top = [
        s.FailingCheck(
            check_id=g.value or "",
            title=checks[g.value].title if g.value in checks else (g.value or ""),
            failing=g.count,
            high_or_worse=g.high_or_worse,
            worst=g.worst,
        )
        for g in store.insights("check", failing, limit=10)
    ]
    threats = store.list_findings(FindingFilter(source=DETECT), limit=10, order="-last_observed_at")
    return s.Overview(
        scores=scores(store),
        trend=score_trend(store),
        active=store.count(FindingFilter()),
        actionable=store.count(actionable),
        suppressed=store.count(FindingFilter(workflow=[WorkflowStatus.SUPPRESSED.value])),
        by_severity=sorted(
            insights(store, "severity", actionable),
            key=lambda g: -SeverityLabel.parse(g.value or "INFORMATIONAL").rank,
        ),
        by_source=insights(store, "source", actionable),
        top_failing=top,
        recent_threats=[s.FindingSummary.of(f) for f in threats],
    )


def _score_out(sc: StandardScore) -> s.ScoreOut:
    return s.ScoreOut(
        standard=sc.standard,
        title=sc.title,
        passed=sc.passed,
        failed=sc.failed,
        no_data=sc.no_data,
        manual=sc.manual,
        percent=sc.percent,
    )


def compliance(store: Store, standard_id: str) -> s.Compliance:
    from mamori.posture import get_standard
    from mamori.posture.score import standard_report

    std = get_standard(standard_id)
    score, statuses = standard_report(store, std.id)
    controls = [
        s.ControlOut(
            control_id=c.control_id,
            title=c.title,
            status=c.status,
            checks=list(c.checks),
            failing_accounts=list(c.failing_accounts),
            failing_resources=c.failing_resources,
            note=c.note,
        )
        for c in statuses
    ]
    return s.Compliance(
        standard=s.StandardOut(
            id=std.id,
            name=std.name,
            version=std.version,
            description=std.description,
            url=std.url,
        ),
        score=_score_out(score),
        controls=controls,
    )


def standards() -> list[s.StandardOut]:
    from mamori.posture import load_standards

    return [
        s.StandardOut(
            id=std.id, name=std.name, version=std.version, description=std.description, url=std.url
        )
        for std in sorted(load_standards().values(), key=lambda x: x.id)
    ]


def identity(store: Store, selected: str | None, limit: int = 50, offset: int = 0) -> s.Identity:
    from mamori.identity.findings import ADMINISTRATOR, ESCALATION

    def page(generator: str, order: Order) -> s.FindingPage:  # type: ignore[valid-type]
        return findings_page(
            store, FindingQuery(check=[generator], order=order, limit=limit, offset=offset)
        )

    chosen = escalation(store, selected) if selected else None
    return s.Identity(
        escalations=page(ESCALATION, "-severity"),
        administrators=page(ADMINISTRATOR, "title"),
        selected=chosen,
    )


def escalation(store: Store, finding_id: str) -> s.EscalationGraph | None:
    from mamori.web.graphs import escalation_graph

    finding = store.get(finding_id)
    if finding is None or not isinstance(finding.evidence.get("paths"), list):
        return None
    return s.EscalationGraph(
        finding=s.FindingSummary.of(finding),
        paths=int(finding.evidence.get("path_count") or len(finding.evidence["paths"])),
        graph=escalation_graph(finding),
    )


TIMELINE_W = 1000.0
LANE_H = 34.0
_LANE_TOP = 30.0


def timeline(store: Store, q: FindingQuery) -> s.Timeline:
    """Detection findings placed by time (x: first to last seen) in a lane per ATT&CK tactic."""
    q = q.model_copy(update={"source": DETECT})
    flt = q.filter()
    found = store.list_findings(flt, limit=q.limit, offset=q.offset, order="-last_observed_at")
    total = store.count(flt)
    if not found:
        return s.Timeline(
            start=None, end=None, width=TIMELINE_W, height=0, lanes=[], points=[], total=total
        )
    start = min(f.first_observed_at for f in found)
    end = max(f.last_observed_at for f in found)
    span = max((end - start).total_seconds(), 1.0)
    lanes = sorted({_tactic(f) for f in found})

    def x(at: datetime) -> float:
        return round(TIMELINE_W * (at - start).total_seconds() / span, 1)

    points = [
        s.TimelinePoint(
            finding=s.FindingSummary.of(f),
            tactic=_tactic(f),
            x=x(f.first_observed_at),
            x_end=x(f.last_observed_at),
            y=_LANE_TOP + lanes.index(_tactic(f)) * LANE_H,
        )
        for f in found
    ]
    return s.Timeline(
        start=start,
        end=end,
        width=TIMELINE_W,
        height=_LANE_TOP + len(lanes) * LANE_H,
        lanes=lanes,
        points=points,
        total=total,
    )


def _tactic(f: Finding) -> str:
    if f.mitre:
        return f.mitre[0].tactic
    return f.types[0].split("/")[1] if f.types[0].startswith("TTPs/") else f.types[0]
