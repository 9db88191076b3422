"""What every seeding step shares: the emulated organisation's clients and the ledger of
planted items (`Seed`), and small helpers for tags and AWS managed policy ARNs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mamori.demo.planted import (
    GLOBAL,
    Ledger,
    Plant,
    Role,
    Where,
)
from mamori.demo.server import (
    DemoConnection,
)


@dataclass
class Seed:
    conn: DemoConnection
    accounts: dict[Role, str]
    regions: dict[Where, str]
    ledger: Ledger = field(default_factory=Ledger)
    keys: dict[str, str] = field(default_factory=dict)  # alias -> key ARN
    ids: dict[tuple[str, str], str] = field(default_factory=dict)  # (vpc, name) -> EC2 id
    created_policies: set[tuple[Role, str]] = field(default_factory=set)

    def c(self, service: str, role: Role, where: Where = "home") -> Any:
        return self.conn.client(service, self.accounts[role], self.regions[where])

    def record(self, plant: Plant | None, role: Role, arn: str, where: Where | None = None) -> None:
        region = self.regions[where] if where else GLOBAL
        self.ledger.record(plant, self.accounts[role], arn, region)

    def account_arn(self, role: Role) -> str:
        return f"arn:aws:iam::{self.accounts[role]}:root"

    def region_arn(self, role: Role, where: Where) -> str:
        return f"arn:aws:mamori:{self.regions[where]}:{self.accounts[role]}:account-region"

    def ec2_arn(self, role: Role, kind: str, ident: str) -> str:
        return f"arn:aws:ec2:{self.regions['home']}:{self.accounts[role]}:{kind}/{ident}"


def tags(kind: str, name: str) -> list[dict[str, Any]]:
    return [
        {
            "ResourceType": kind,
            "Tags": [{"Key": "Name", "Value": name}, {"Key": "owner", "Value": "acme"}],
        }
    ]


def aws_policy(name: str) -> str:
    return f"arn:aws:iam::aws:policy/{name}"
