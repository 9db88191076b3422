"""Generated logs with known attacks, ingested and detected as `mamori detect` does, for the
investigation tests: a developer's stolen access key used from a new network with a new client
(iam-anomalous-behaviour) and an instance role's session used from outside AWS
(instance-credential-exfiltration)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mamori.core import Finding
from mamori.detect.generator import LEARNING
from mamori.detect.generator.model import ATTACKER_IPS, build_world
from mamori.detect.generator.scenarios_iam import STOLEN_KEY_AGENT, STOLEN_KEY_IP
from mamori.detect.run import DetectRequest, run_detect
from mamori.hub import Store
from tests.detect.logfiles import small_world

ACCOUNT = "111111111111"
REGION = "us-east-1"
START = datetime(2026, 11, 1, tzinfo=UTC)
SCENARIOS = ["iam-anomalous-behaviour", "instance-credential-exfiltration"]
# The generator's world for that account (seed 7, the generator's default).
_WORLD = build_world(7, ACCOUNT, REGION, 0)
DAVE = _WORLD.people[3]  # the developer whose key is stolen
EXFIL_INSTANCE = [i for i in _WORLD.instances if i.vpc.flow_format == "v5"][1]
EXFIL_SESSION = EXFIL_INSTANCE.role
EXFIL_IP = ATTACKER_IPS[0]
ATTACK_IP, ATTACK_AGENT = STOLEN_KEY_IP, STOLEN_KEY_AGENT


@dataclass(frozen=True)
class World:
    logs: Path
    data_dir: Path
    db_url: str
    findings: list[Finding]


def write_logs(root: Path) -> Path:
    return small_world(
        root,
        START,
        SCENARIOS,
        events_per_day=400,
        flows_per_day=300,
        dns_per_day=100,
    )


def detect(logs: Path, data_dir: Path, db_url: str) -> list[Finding]:
    """`mamori detect` over the logs: ingest, rules, hub, and the graph's update after it."""
    req = DetectRequest(
        cloudtrail=[str(logs)],
        vpc_flow=[str(logs)],
        dns=[str(logs)],
        data_dir=data_dir,
        learning=LEARNING,
    )
    with Store.open(db_url) as store:
        run = run_detect(req, store)
    assert run.ingest.errors == [], run.ingest.errors
    assert run.result.errors == [], run.result.errors
    return run.result.findings
