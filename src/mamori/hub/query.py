"""Filters and orderings over stored findings, turned into SQL over the promoted columns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, or_

from mamori.core import (
    ComplianceStatus,
    InputError,
    RecordState,
    SeverityLabel,
    WorkflowStatus,
)
from mamori.hub.models import FindingRow


@dataclass
class FindingFilter:
    """Which findings to list. Every set field must match; an empty list means "any"."""

    severity: list[str] | None = None  # labels, case-insensitive
    min_severity: str | None = None
    status: list[str] | None = None  # compliance status, case-insensitive
    workflow: list[str] | None = None
    source: str | None = None
    account_id: list[str] | None = None
    region: list[str] | None = None
    generator_id: list[str] | None = None
    resource_type: list[str] | None = None
    record_state: str | None = RecordState.ACTIVE.value  # None: active and archived
    text: str | None = None  # substring of the title or the resource id, case-insensitive
    scan_id: str | None = None  # findings last written by this scan


E = TypeVar("E", bound=StrEnum)


def parse_enum(enum: type[E], value: str, what: str) -> E:
    """A user's spelling of an enum value, case-insensitive; an unknown one is an InputError."""
    try:
        return enum(value.strip().upper())
    except ValueError:
        choices = ", ".join(e.value for e in enum)
        raise InputError(f"unknown {what} {value!r} (expected one of: {choices})") from None


def _severity(value: str) -> SeverityLabel:
    try:
        return SeverityLabel.parse(value)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _same(value: str) -> str:
    return value


# List-valued filter fields: the column each matches (by name: findings and finding_counts
# share them) and how its values are read.
_IN_FILTERS: tuple[tuple[str, str, Callable[[str], str]], ...] = (
    ("severity", "severity_label", lambda v: _severity(v).value),
    (
        "status",
        "compliance_status",
        lambda v: parse_enum(ComplianceStatus, v, "compliance status").value,
    ),
    (
        "workflow",
        "workflow_status",
        lambda v: parse_enum(WorkflowStatus, v, "workflow status").value,
    ),
    ("account_id", "account_id", _same),
    ("region", "region", _same),
    ("generator_id", "generator_id", _same),
    ("resource_type", "resource_type", _same),
)

# What finding_counts can answer: filters on these fields only (the rest must be unset).
_COUNTED_FILTERS = frozenset(
    {"severity", "min_severity", "status", "workflow", "source", "generator_id", "record_state"}
)


def counted(flt: FindingFilter | None) -> bool:
    """Whether the counts table alone answers a count or group-by under this filter."""
    flt = flt or FindingFilter()
    return all(
        name in _COUNTED_FILTERS or not getattr(flt, name) for name in flt.__dataclass_fields__
    )


def conditions(flt: FindingFilter | None, table: Any = FindingRow) -> list[ColumnElement[bool]]:
    """The filter as WHERE conditions on `table`: findings, or finding_counts when `counted`."""
    # No filter means the default one: active findings, like Security Hub's console.
    flt = flt or FindingFilter()
    where: list[ColumnElement[bool]] = []
    for name, column, read in _IN_FILTERS:
        values: Sequence[str] | None = getattr(flt, name)
        if values:
            where.append(getattr(table, column).in_(sorted({read(v) for v in values})))
    if flt.min_severity:
        where.append(table.severity_rank >= _severity(flt.min_severity).rank)
    if flt.source:
        where.append(table.source == flt.source)
    if flt.record_state:
        where.append(
            table.record_state == parse_enum(RecordState, flt.record_state, "record state").value
        )
    if flt.scan_id:
        where.append(FindingRow.last_scan_id == flt.scan_id)
    if flt.text:
        # autoescape: a '%' or '_' the user types is matched literally, not as a wildcard.
        where.append(
            or_(
                FindingRow.title.icontains(flt.text, autoescape=True),
                FindingRow.resource_id.icontains(flt.text, autoescape=True),
            )
        )
    return where


ORDER_FIELDS: dict[str, Any] = {
    "severity": FindingRow.severity_rank,
    "last_observed_at": FindingRow.last_observed_at,
    "first_observed_at": FindingRow.first_observed_at,
    "title": FindingRow.title,
    "account_id": FindingRow.account_id,
    "region": FindingRow.region,
    "generator_id": FindingRow.generator_id,
}


def ordering(order: str) -> list[ColumnElement[Any]]:
    """`field` ascending, `-field` descending; ties by last seen, then by id, in the same
    direction, so that equal keys list in a stable order, pages never overlap, and the
    default order (worst, most recent first) walks an index without sorting."""
    descending = order.startswith("-")
    name = order[1:] if descending else order
    column = ORDER_FIELDS.get(name)
    if column is None:
        choices = ", ".join(ORDER_FIELDS)
        raise InputError(
            f"cannot order findings by {order!r} (fields: {choices}; prefix '-' for descending)"
        )
    keys = [column]
    if column is not FindingRow.last_observed_at:
        keys.append(FindingRow.last_observed_at)
    keys.append(FindingRow.id)
    return [k.desc() if descending else k.asc() for k in keys]


# Fields findings can be grouped by (insights): the name a user gives -> the column.
GROUP_FIELDS: dict[str, Any] = {
    "account": FindingRow.account_id,
    "region": FindingRow.region,
    "resource_type": FindingRow.resource_type,
    "check": FindingRow.generator_id,
    "severity": FindingRow.severity_label,
    "status": FindingRow.compliance_status,
    "workflow": FindingRow.workflow_status,
    "source": FindingRow.source,
    "type": FindingRow.finding_type,
    "tactic": FindingRow.mitre_tactic,
}


def group_column(by: str, table: Any = FindingRow) -> Any:
    """The column of `table` that the insight field `by` names; None when `table` lacks it."""
    column = GROUP_FIELDS.get(by.strip().lower())
    if column is None:
        choices = ", ".join(GROUP_FIELDS)
        raise InputError(f"cannot group findings by {by!r} (fields: {choices})")
    return getattr(table, column.key, None)
