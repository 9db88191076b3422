"""The scenario registry and the context a scenario writes its records and labels through."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mamori.detect.generator.cloudtrail import api_record, record_region, source_of
from mamori.detect.generator.model import (
    ATTACKER_IPS,
    AccountWorld,
    Actor,
    Instance,
    Label,
    Source,
)


@dataclass(frozen=True)
class ScenarioSpec:
    id: str
    finding_types: tuple[str, ...]
    source: Source
    description: str
    has_benign: bool = False
    mamori_type: bool = False  # the type name is Mamori's own: GuardDuty has none for it
    # An anomaly judged against the actor's history: it cannot show on the first day of the data
    # (detections learn there, as GuardDuty's models need a baseline), so it is placed later.
    needs_history: bool = False


@dataclass
class Context:
    """What a scenario sees: its account's world, a start time, and where to put records."""

    spec: ScenarioSpec
    rng: random.Random
    world: AccountWorld
    worlds: list[AccountWorld]
    regions: list[str]
    t0: datetime
    days: int
    start: datetime
    records: dict[tuple[str, str, str], list[tuple[datetime, Any]]] = field(default_factory=dict)
    labels: list[Label] = field(default_factory=list)

    def at(self, seconds: float) -> datetime:
        return self.t0 + timedelta(seconds=seconds)

    def trail(self, rec: dict[str, Any], t: datetime) -> None:
        account = rec["recipientAccountId"] or self.world.account_id
        self.records.setdefault(("cloudtrail", account, rec["awsRegion"]), []).append((t, rec))

    def flow(self, rec: dict[str, Any], t: datetime) -> None:
        key = ("vpc-flow", self.world.account_id, self.world.region)
        self.records.setdefault(key, []).append((t, rec))

    def dns(self, rec: dict[str, Any], t: datetime) -> None:
        self.records.setdefault(("dns", self.world.account_id, ""), []).append((t, rec))

    def label(
        self,
        actor: str,
        resource: str,
        first_seen: datetime,
        *,
        benign: bool = False,
        remote_ip: str = "",
        finding_type: str | None = None,
    ) -> None:
        """Record ground truth; `finding_type` picks one of the scenario's secondary types (the
        same activity can rightly raise several, e.g. an S3 call from a Tor exit node)."""
        kind = finding_type or self.spec.finding_types[0]
        if kind not in self.spec.finding_types:
            raise ValueError(f"scenario {self.spec.id}: {kind!r} is not one of its finding types")
        self.labels.append(
            Label(
                finding_type=kind,
                account_id=self.world.account_id,
                actor=actor,
                resource=resource,
                first_seen=first_seen,
                source=self.spec.source,
                benign=benign,
                mamori_type=self.spec.mamori_type,
                scenario=self.spec.id,
                remote_ip=remote_ip,
            )
        )

    def call(self, actor: Actor, seconds: float, service: str, name: str, **kw: Any) -> datetime:
        """Emit one API call `seconds` after the scenario start; return its time."""
        t = self.at(seconds)
        source = source_of(service)
        region = record_region(source, kw.pop("region", self.world.region), self.regions)
        self.trail(api_record(self.rng, actor, t, region, source, name, **kw), t)
        return t

    def outside_ip(self, n: int = 0) -> str:
        return ATTACKER_IPS[n % len(ATTACKER_IPS)]

    def person(self, n: int) -> Actor:
        return self.world.people[n % 4]

    def instance(self, n: int) -> Instance:
        # Scenario instances live in the VPC whose flow log records instance ids (v5).
        return [i for i in self.world.instances if i.vpc.flow_format == "v5"][n % 3]

    def other_account(self) -> str | None:
        others = [w.account_id for w in self.worlds if w.account_id != self.world.account_id]
        return others[0] if others else None


def denied(actor: Actor, service: str, name: str) -> tuple[str, str]:
    return "AccessDenied", f"User: {actor.arn} is not authorized to perform: {service}:{name}"


Runner = Callable[[Context], None]
SCENARIOS: dict[str, ScenarioSpec] = {}
RUNNERS: dict[str, Runner] = {}


def scenario(
    scenario_id: str,
    finding_type: str,
    source: Source,
    description: str,
    *,
    has_benign: bool = False,
    mamori_type: bool = False,
    also: tuple[str, ...] = (),
    needs_history: bool = False,
) -> Callable[[Runner], Runner]:
    def register(fn: Runner) -> Runner:
        if scenario_id in SCENARIOS:
            raise ValueError(f"scenario {scenario_id!r} registered twice")
        SCENARIOS[scenario_id] = ScenarioSpec(
            scenario_id,
            (finding_type, *also),
            source,
            description,
            has_benign,
            mamori_type,
            needs_history,
        )
        RUNNERS[scenario_id] = fn
        return fn

    return register
