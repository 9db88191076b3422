"""What a scan of the demo organisation must report: the planted items and their ledger.

`mamori.demo.catalogue` describes the resources; `mamori.demo.seed` creates them over boto3
and records each one as a `Planted` in the `DemoOrg` it returns.

Accounts are named by role ("mgmt", "prod", "dev") and regions by "home" (the first demo
region) and "away" (the second); both are resolved when seeding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Expected = Literal["FAILED", "PASSED"]
Role = Literal["mgmt", "prod", "dev"]
Where = Literal["home", "away"]
GLOBAL = "global"  # the region of IAM, S3 and Organizations findings and of account checks
DEMO_REGIONS = ("us-east-1", "eu-west-1")
PARTNER_ACCOUNT = "210987654321"  # an outside company Acme exchanges data with
OFFICE_CIDR = "203.0.113.0/24"  # Acme's office egress range (a documentation range)
WORLD4, WORLD6 = "0.0.0.0/0", "::/0"
OWN_ACCOUNT = "${account}"  # in a policy document: the id of the account it is created in


# -- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planted:
    check_id: str
    account_id: str
    region: str
    resource_arn: str
    expected: Expected
    what: str

    def describe(self) -> str:
        return (
            f"{self.check_id} expected {self.expected} on {self.resource_arn} "
            f"({self.account_id}, {self.region}): {self.what}"
        )


@dataclass
class DemoOrg:
    url: str
    organization_id: str
    management_account: str
    accounts: dict[str, str]  # account id -> account name, as Organizations lists them
    regions: tuple[str, ...]
    planted: list[Planted] = field(default_factory=list)

    @property
    def misconfigurations(self) -> list[Planted]:
        return [p for p in self.planted if p.expected == "FAILED"]

    @property
    def twins(self) -> list[Planted]:
        return [p for p in self.planted if p.expected == "PASSED"]

    def check_ids(self) -> set[str]:
        return {p.check_id for p in self.planted}


@dataclass(frozen=True)
class Plant:
    """What one catalogue resource must make its checks report."""

    expected: Expected
    checks: tuple[str, ...]
    what: str


def bad(what: str, *checks: str) -> Plant:
    return Plant("FAILED", checks, what)


def good(what: str, *checks: str) -> Plant:
    return Plant("PASSED", checks, what)


@dataclass
class Ledger:
    """Collects planted items while seeding, one per (check, account, resource)."""

    items: dict[tuple[str, str, str], Planted] = field(default_factory=dict)

    def record(self, plant: Plant | None, account: str, arn: str, region: str = GLOBAL) -> None:
        if plant is None:  # a supporting resource, planted for no check
            return
        for check_id in plant.checks:
            key = (check_id, account, arn)
            known = self.items.get(key)
            if known is not None and known.expected != plant.expected:
                raise ValueError(f"{check_id} on {arn} planted as both PASSED and FAILED")
            self.items[key] = Planted(check_id, account, region, arn, plant.expected, plant.what)

    def planted(self) -> list[Planted]:
        return sorted(self.items.values(), key=lambda p: (p.check_id, p.expected, p.resource_arn))
