"""The JSON API's shapes (and so the OpenAPI description): what the routes answer and accept.
The pages render the same objects."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from mamori.core import ComplianceStatus, Finding, RecordState, SeverityLabel, WorkflowStatus
from mamori.investigate import Neighbourhood, Profile

# Free text from a query string or a form: printable, bounded (PostgreSQL refuses NUL bytes).
Text = Annotated[str, StringConstraints(max_length=512, pattern=r"^[^\x00-\x1f\x7f]*$")]
Note = Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\x00]*$")]
# Finding ids are printable text (PostgreSQL refuses NUL in any text it is asked to compare).
FindingId = Annotated[
    str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f]+$")
]


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


# Enum values as users type them too (`severity=high`).
Severity = Annotated[SeverityLabel, BeforeValidator(_upper)]
Status = Annotated[ComplianceStatus, BeforeValidator(_upper)]
WorkflowValue = Annotated[WorkflowStatus, BeforeValidator(_upper)]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class FindingSummary(_Out):
    """A finding as a list shows it."""

    id: str
    title: str
    severity: SeverityLabel
    status: ComplianceStatus | None
    workflow: WorkflowStatus
    record_state: RecordState
    source: str
    generator_id: str
    finding_type: str
    account_id: str
    region: str
    resource_type: str
    resource_id: str
    first_observed_at: datetime
    last_observed_at: datetime
    count: int

    @classmethod
    def of(cls, f: Finding) -> FindingSummary:
        return cls(
            id=f.id,
            title=f.title,
            severity=f.severity.label,
            status=f.status,
            workflow=f.workflow.status,
            record_state=f.record_state,
            source=f.source,
            generator_id=f.generator_id,
            finding_type=f.types[0],
            account_id=f.account_id,
            region=f.region,
            resource_type=f.resource.type,
            resource_id=f.resource.id,
            first_observed_at=f.first_observed_at,
            last_observed_at=f.last_observed_at,
            count=f.count,
        )


class FindingPage(_Out):
    total: int
    suppressed: int = Field(description="Of the total, how many are suppressed.")
    limit: int
    offset: int
    order: str
    items: list[FindingSummary]


class HistoryEntry(_Out):
    at: datetime
    from_status: WorkflowStatus
    to_status: WorkflowStatus
    by: str
    note: str | None


class FindingDetail(_Out):
    finding: Finding
    history: list[HistoryEntry]


class WorkflowChange(BaseModel):
    """A person's decision on findings: suppress, notified, resolved, or NEW to reopen."""

    model_config = ConfigDict(extra="forbid")

    ids: list[FindingId] = Field(min_length=1, max_length=500)
    status: WorkflowValue
    note: Note | None = None


class WorkflowResult(_Out):
    updated: list[str]
    missing: list[str] = Field(description="Ids that are not in the store.")


class InsightGroup(_Out):
    value: str | None
    count: int
    high_or_worse: int
    worst: SeverityLabel


class ScoreOut(_Out):
    standard: str
    title: str
    passed: int
    failed: int
    no_data: int
    manual: int
    percent: float | None


class ScorePointOut(_Out):
    at: datetime
    standard: str
    passed: int
    failed: int
    no_data: int
    percent: float | None
    reason: str


class FailingCheck(_Out):
    check_id: str
    title: str
    failing: int
    high_or_worse: int
    worst: SeverityLabel


class Overview(_Out):
    scores: list[ScoreOut]
    trend: list[ScorePointOut]
    active: int
    actionable: int = Field(description="NEW or NOTIFIED findings of LOW severity or worse.")
    suppressed: int
    by_severity: list[InsightGroup]
    by_source: list[InsightGroup]
    top_failing: list[FailingCheck]
    recent_threats: list[FindingSummary]


class ControlOut(_Out):
    control_id: str
    title: str
    status: str
    checks: list[str]
    failing_accounts: list[str]
    failing_resources: int
    note: str


class StandardOut(_Out):
    id: str
    name: str
    version: str
    description: str
    url: str | None


class Compliance(_Out):
    standard: StandardOut
    score: ScoreOut | None
    controls: list[ControlOut]


class GraphNode(_Out):
    id: str
    label: str
    kind: str
    x: float
    y: float
    href: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class GraphEdge(_Out):
    source: str
    target: str
    label: str
    detail: dict[str, Any] = Field(default_factory=dict)


class Graph(_Out):
    root: str = Field(description="The node the layout starts from.")
    width: float
    height: float
    nodes: list[GraphNode]
    edges: list[GraphEdge]


class EscalationGraph(_Out):
    finding: FindingSummary
    paths: int
    graph: Graph


class Identity(_Out):
    escalations: FindingPage
    administrators: FindingPage
    selected: EscalationGraph | None


class TimelinePoint(_Out):
    finding: FindingSummary
    tactic: str
    x: float
    x_end: float
    y: float


class Timeline(_Out):
    start: datetime | None
    end: datetime | None
    width: float
    height: float
    lanes: list[str]
    points: list[TimelinePoint]
    total: int


class MuteRule(_Out):
    id: str
    reason: str
    owner: str
    expires: str | None
    in_force: bool
    match: dict[str, Any]


class MutelistOut(_Out):
    source: str | None = Field(description="The mutelist file the server was started with.")
    rules: list[MuteRule]
    suppressed: int


class MuteReportOut(_Out):
    dry_run: bool
    suppressed: dict[str, int]
    reopened: int
    expired: list[str]
    examined: int


class MutelistApply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dry_run: bool = True


class Investigation(_Out):
    profile: Profile
    neighbourhood: Neighbourhood
    graph: Graph


class AuditEntry(_Out):
    at: datetime
    run_id: str
    rules: str
    rule_id: str
    action: str
    finding_id: str
    account_id: str
    resource_id: str
    dry_run: bool
    result: str
    detail: str
    error: str | None


class AutomationRule(_Out):
    id: str
    description: str
    enabled: bool
    pattern: dict[str, Any]
    actions: list[dict[str, Any]] = Field(description="Each action's parameters (URLs redacted).")


class AutomationOut(_Out):
    source: str | None = Field(description="The rules file the server was started with.")
    name: str | None
    rules: list[AutomationRule]
    audit: list[AuditEntry] = Field(description="The latest audit records, newest first.")


class Problem(_Out):
    detail: str


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class Me(_Out):
    user: str
    csrf_token: str
    expires_at: datetime
