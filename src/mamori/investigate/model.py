"""What `profile` and `neighbourhood` return: plain pydantic models, JSON-able with
`model_dump(mode="json")` (times as ISO 8601 text), which a web API can return as they are.

Every text field may hold what a log carried (user agents, resource names): it is data, to be
escaped wherever it is shown.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Entity(_Model):
    kind: str
    id: str
    label: str
    account_id: str | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    records: int = 0  # log records it appears in
    # Addresses, where enrichment (MMDB files) says.
    country: str | None = None
    asn: int | None = None
    as_org: str | None = None


class Related(_Model):
    """An entity related to the profiled one: `direction` "out" reads "profiled relation
    related" (a key called_from an address), "in" the other way round."""

    relation: str
    direction: str  # out | in
    kind: str
    id: str
    label: str
    first_seen: datetime
    last_seen: datetime
    records: int
    failures: int  # API errors, rejected flows, failed DNS answers
    new: bool  # first seen within the new-behaviour window


class RelationCount(_Model):
    relation: str
    direction: str
    kind: str
    entities: int  # how many related entities there are (Related lists the top ones)


class DailyCalls(_Model):
    day: date
    service: str  # eventSource, e.g. iam.amazonaws.com
    calls: int
    failures: int


class ApiUse(_Model):
    service: str
    api: str
    calls: int
    failures: int
    first_seen: datetime
    last_seen: datetime
    new: bool


class NewItem(_Model):
    """Something the entity did or met for the first time within the window."""

    dimension: str  # api | country | asn | or the kind of a related entity (ip, user_agent...)
    value: str
    relation: str = ""  # for related entities: how they are related
    first_seen: datetime
    records: int = 0


class NewBehaviour(_Model):
    window_start: datetime
    window_end: datetime  # the entity's last sighting
    days: float
    # False when the entity was first seen inside the window: then everything is new, and
    # nothing is unusual for it yet.
    earlier_history: bool
    items: list[NewItem]


class RelatedFinding(_Model):
    id: str
    generator_id: str
    title: str
    severity: str
    severity_score: int
    account_id: str
    region: str
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    count: int = 1
    via: list[str]  # where the finding names the entity: actor, resource, evidence, detail...
    source: str = "detect"
    workflow: str | None = None  # from the hub, when one was given
    record_state: str | None = None


class Profile(_Model):
    entity: Entity
    seen: bool  # False: no ingested record (and no finding) names it
    message: str = ""
    graph_built_at: str = ""
    activity: list[DailyCalls] = []  # API calls by service per UTC day
    apis: list[ApiUse] = []  # most called first
    related: list[Related] = []  # the top ones of each relation
    relations: list[RelationCount] = []
    new_behaviour: NewBehaviour | None = None
    findings: list[RelatedFinding] = []  # worst first


class Node(_Model):
    key: str  # "kind:id", what edges refer to
    kind: str
    id: str
    label: str
    depth: int  # hops from the centre
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    records: int = 0
    severity: str | None = None  # findings
    country: str | None = None  # addresses, where enrichment says
    asn: int | None = None


class Edge(_Model):
    source: str  # node key
    target: str
    relation: str
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    records: int = 0
    failures: int = 0


class Neighbourhood(_Model):
    center: str
    depth: int
    nodes: list[Node]
    edges: list[Edge]
    truncated: bool  # more was related than `limit` nodes show
