"""The check registry: one decorated function per check.

A check declares its metadata in the decorator and its logic in a few lines over the Snapshot:

    @check(id="s3.bucket_versioning", service="s3", over="buckets", ...)
    def bucket_versioning(bucket: Res, ctx: CheckContext) -> Verdict: ...

`over` says what the function is called for: a resource list key of the service (once per
resource), ACCOUNT (once per account; resource is the account) or REGION (once per account and
region; resource is the account in that region). Returning None means "does not apply".

A check about one service's policy over another's resources (WAF over load balancers, Shield
over load balancers and distributions) names those lists as "service:key", one or several:
`over=("elbv2:load_balancers", "cloudfront:distributions")`.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mamori.core import ComplianceStatus, DataUnavailable, SeverityLabel
from mamori.inventory.snapshot import GLOBAL, Res, Snapshot

ACCOUNT = "@account"
REGION = "@region"
_ID = re.compile(r"^[a-z0-9]+(\.[a-z0-9_]+)+$")
DEFAULT_TYPES = ("Software and Configuration Checks/Industry and Regulatory Standards",)


@dataclass(frozen=True)
class Verdict:
    status: ComplianceStatus
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


def passed(reason: str, **details: Any) -> Verdict:
    return Verdict(ComplianceStatus.PASSED, reason, details)


def failed(reason: str, **details: Any) -> Verdict:
    return Verdict(ComplianceStatus.FAILED, reason, details)


def verdict(ok: bool, good: str, bad: str, **details: Any) -> Verdict:
    return passed(good, **details) if ok else failed(bad, **details)


@dataclass(frozen=True)
class CheckSpec:
    id: str
    title: str
    severity: SeverityLabel
    service: str
    over: str
    resource_type: str
    description: str
    remediation: str
    remediation_cli: str | None
    references: tuple[str, ...]
    requires: tuple[str, ...]  # every snapshot service the check reads (the listed ones first)
    types: tuple[str, ...]
    fn: Callable[..., Any]
    # (service, key) of every resource list the check runs over; empty for ACCOUNT and REGION.
    lists: tuple[tuple[str, str], ...] = ()
    # ASFF resource type per "service:key" list, where it differs from `resource_type`.
    list_types: Mapping[str, str] = field(default_factory=dict)

    @property
    def regional(self) -> bool:
        return self.over != ACCOUNT


CHECKS: dict[str, CheckSpec] = {}


def check(
    *,
    id: str,  # noqa: A002 - reads as the check metadata it is
    title: str,
    severity: str,
    service: str,
    over: str | tuple[str, ...],
    resource_type: str,
    description: str,
    remediation: str,
    remediation_cli: str | None = None,
    references: Iterable[str] = (),
    requires: Iterable[str] = (),
    types: Iterable[str] = DEFAULT_TYPES,
    resource_types: Mapping[str, str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    if not _ID.match(id):
        raise ValueError(f"check id {id!r} must look like 'service.snake_case_name'")
    lists = _lists(service, over)
    # A check over other services' lists needs their collectors, not one of its own service.
    needs = [owner for owner, _ in lists] or [service]

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        if id in CHECKS:
            raise ValueError(f"check {id!r} registered twice")
        CHECKS[id] = CheckSpec(
            id=id,
            title=title,
            severity=SeverityLabel.parse(severity),
            service=service,
            over=over if isinstance(over, str) else ", ".join(over),
            resource_type=resource_type,
            description=description,
            remediation=remediation,
            remediation_cli=remediation_cli,
            references=tuple(references),
            requires=tuple(dict.fromkeys((*needs, *requires))),
            types=tuple(types),
            fn=fn,
            lists=lists,
            list_types=dict(resource_types or {}),
        )
        return fn

    return wrap


def _lists(service: str, over: str | tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    names = [over] if isinstance(over, str) else list(over)
    if names in ([ACCOUNT], [REGION]):
        return ()
    out = []
    for name in names:
        owner, _, key = name.rpartition(":")
        if not key or name in (ACCOUNT, REGION):
            raise ValueError(f"over {name!r}: expected 'key' or 'service:key'")
        out.append((owner or service, key))
    return tuple(out)


def load_checks() -> dict[str, CheckSpec]:
    from mamori.posture import checks

    for mod in pkgutil.iter_modules(checks.__path__):
        importlib.import_module(f"{checks.__name__}.{mod.name}")
    return CHECKS


class CheckContext:
    """What a check sees: the snapshot, scoped to one account (and region)."""

    def __init__(self, snapshot: Snapshot, account_id: str, region: str) -> None:
        self.snapshot = snapshot
        self.account_id = account_id
        self.region = region
        self.partition = snapshot.partition

    def data(self, service: str, key: str, region: str | None = None) -> Any:
        return self.snapshot.data(self.account_id, service, self._region(service, region), key)

    def resources(self, service: str, key: str, region: str | None = None) -> list[Res]:
        return self.snapshot.resources(self.account_id, service, self._region(service, region), key)

    def regions(self, service: str) -> list[str]:
        return [r for r in self.snapshot.regions_of(self.account_id, service) if r != GLOBAL]

    def across_regions(self, service: str, key: str) -> Iterator[tuple[str, list[Res]]]:
        """(region, resources) for every collected region; raises if any is unavailable."""
        regions = self.regions(service)
        if not regions:
            raise DataUnavailable(f"{service}.{key}", "NotCollected", "no region collected")
        for region in regions:
            yield region, self.resources(service, key, region)

    def _region(self, service: str, region: str | None) -> str:
        if region is not None:
            return region
        have = self.snapshot.services(self.account_id).get(service, {})
        if GLOBAL in have:
            return GLOBAL
        return self.region

    def account_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    def region_arn(self) -> str:
        # An account in one region has no ARN of its own; this one is stable and readable.
        return f"arn:{self.partition}:mamori:{self.region}:{self.account_id}:account-region"
