"""Findings pushed to AWS Security Hub with BatchImportFindings, and stale ones archived there.

Each finding goes to its home region (asff.home_region) in batches of at most 100 findings and
6 MB, the API's limits; throttling is retried by botocore's standard retry mode within the
rate limit. Findings Security Hub refuses are reported by id with its error. Archiving: a
finding the store holds as archived is sent as ARCHIVED; and in every region pushed, Mamori's
active findings in Security Hub that the store no longer holds as active (deleted, or pushed
from a store since pruned) are re-imported as ARCHIVED, as Security Hub expects of a provider.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import botocore.session
import orjson
from botocore.config import Config

from mamori.core import Finding, iso, utcnow
from mamori.exports.asff import home_region, product_arn, to_asff

MAX_FINDINGS = 100
MAX_BYTES = 6 * 1024 * 1024
# BatchImportFindings allows 10 requests a second (bursts of 30): throttled calls are retried
# with backoff rather than failing the push.
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


@dataclass
class PushReport:
    imported: int = 0
    archived_stale: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (finding id, why)
    regions: list[str] = field(default_factory=list)


def batches(items: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """ASFF findings in batches within BatchImportFindings' limits (count and request size)."""
    batch: list[dict[str, Any]] = []
    size = 0
    for item in items:
        item_size = len(orjson.dumps(item)) + 1
        if batch and (len(batch) >= MAX_FINDINGS or size + item_size > MAX_BYTES - 1024):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += item_size
    if batch:
        yield batch


def push(
    findings: Iterable[Finding],
    client_for: Callable[[str], Any],
    *,
    regions: Iterable[str] | None = None,
    archive_stale: bool = True,
) -> PushReport:
    """Import the findings into Security Hub (only those homed in `regions` when given);
    `client_for(region)` makes that region's client (CLIENT_CONFIG: retries for throttling)."""
    wanted = set(regions) if regions else None
    by_region: dict[str, list[Finding]] = {}
    for f in findings:
        region = home_region(f)
        if wanted is None or region in wanted:
            by_region.setdefault(region, []).append(f)
    report = PushReport(regions=sorted(wanted or by_region))
    for region in report.regions:
        client = client_for(region)
        held = by_region.get(region, [])
        report.imported += _import(client, (to_asff(f) for f in held), report)
        if archive_stale:
            active = {f.id for f in held if f.record_state.value == "ACTIVE"}
            stale = _stale(client, region, {f.account_id for f in held}, active)
            report.archived_stale += _import(client, stale, report)
    return report


def _import(client: Any, items: Iterable[dict[str, Any]], report: PushReport) -> int:
    """How many Security Hub took; the ones it refused are added to the report."""
    taken = 0
    for batch in batches(items):
        answer = client.batch_import_findings(Findings=batch)
        taken += int(answer.get("SuccessCount", 0))
        for failed in answer.get("FailedFindings", []):
            why = f"{failed.get('ErrorCode')}: {failed.get('ErrorMessage')}"
            report.failed.append((str(failed.get("Id")), why))
    return taken


@cache
def _input_fields() -> frozenset[str]:
    """The fields BatchImportFindings takes: GetFindings also returns ones it sets itself."""
    model = botocore.session.get_session().get_service_model("securityhub")
    shape: Any = model.shape_for("AwsSecurityFinding")  # a StructureShape
    return frozenset(shape.members)


def _stale(
    client: Any, region: str, accounts: set[str], active: set[str]
) -> Iterator[dict[str, Any]]:
    """Mamori's active findings in this region's Security Hub the store does not hold as active,
    as ARCHIVED re-imports."""
    now = iso(utcnow())
    fields = _input_fields()
    for account in sorted(accounts):
        filters = {
            "ProductArn": [{"Value": product_arn(region, account), "Comparison": "EQUALS"}],
            "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
        }
        for page in client.get_paginator("get_findings").paginate(Filters=filters):
            for found in page.get("Findings", []):
                # The filter says ACTIVE already; checked again, as not every endpoint applies it.
                if found.get("RecordState") == "ACTIVE" and found.get("Id") not in active:
                    kept = {k: v for k, v in found.items() if k in fields}
                    yield {**kept, "RecordState": "ARCHIVED", "UpdatedAt": now}
