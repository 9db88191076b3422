"""Filters, ordering and paging of stored findings, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mamori.core import Finding, InputError, WorkflowStatus
from mamori.hub import FindingFilter, ScanScope, Store
from mamori.hub.query import ORDER_FIELDS
from tests.hub.builders import ACCOUNT, OTHER_ACCOUNT, at, detection, posture

# name -> finding; names are what the expectations below refer to.
CORPUS: dict[str, Finding] = {
    "crit": posture("crit", severity="CRITICAL", title="Admin access wide open", observed=at(1)),
    "high": posture("high", severity="HIGH", region="eu-west-1", observed=at(2)),
    "med": posture(
        "med",
        severity="MEDIUM",
        status="PASSED",
        generator="s3.bucket_versioning",
        account=OTHER_ACCOUNT,
        title="Bucket 100%_done versioning",
        observed=at(3),
    ),
    "low": posture(
        "low",
        severity="LOW",
        status="WARNING",
        region="global",
        observed=at(4),
        resource_type="AwsAccount",
        generator="iam.root_mfa",
    ),
    "info": posture("info", severity="INFORMATIONAL", status="NOT_AVAILABLE", observed=at(5)),
    "det": detection("AKIAQUERY", observed=at(6)),
}


@pytest.fixture(scope="module")
def loaded(module_db_url: str) -> Iterator[Store]:
    """The corpus, stored once per backend; the tests using it only read."""
    store = Store.open(module_db_url)
    store.write(CORPUS.values())
    store.set_workflow(CORPUS["high"].id, WorkflowStatus.SUPPRESSED, by="alice")
    yield store
    store.close()


def _names(findings: list[Finding]) -> list[str]:
    by_id = {f.id: name for name, f in CORPUS.items()}
    return [by_id[f.id] for f in findings]


FILTERS: list[tuple[dict[str, Any], set[str]]] = [
    ({}, set(CORPUS)),
    ({"severity": ["critical", "Low"]}, {"crit", "det", "low"}),
    ({"min_severity": "high"}, {"crit", "high", "det"}),
    ({"min_severity": "medium", "severity": ["MEDIUM", "LOW"]}, {"med"}),
    ({"status": ["failed"]}, {"crit", "high"}),
    ({"status": ["WARNING", "not_available"]}, {"low", "info"}),
    ({"workflow": ["suppressed"]}, {"high"}),
    ({"workflow": ["RESOLVED"]}, {"med"}),  # first seen passing
    ({"source": "detect"}, {"det"}),
    ({"account_id": [OTHER_ACCOUNT]}, {"med"}),
    ({"account_id": [ACCOUNT, OTHER_ACCOUNT], "region": ["global", "eu-west-1"]}, {"low", "high"}),
    ({"generator_id": ["iam.root_mfa", "s3.bucket_versioning"]}, {"low", "med"}),
    ({"resource_type": ["AwsIamAccessKey"]}, {"det"}),
    ({"text": "ADMIN ACCESS"}, {"crit"}),  # case-insensitive, in the title
    ({"text": "arn:aws:s3:::hi"}, {"high"}),  # in the resource id
    ({"text": "100%_"}, {"med"}),  # '%' and '_' are literal, not wildcards
    ({"text": "1%0"}, set()),
    ({"severity": []}, set(CORPUS)),  # an empty list does not filter
    ({"record_state": "archived"}, set()),
]


@pytest.mark.parametrize(("kwargs", "expected"), FILTERS, ids=[str(k) for k, _ in FILTERS])
def test_filters(loaded: Store, kwargs: dict[str, Any], expected: set[str]) -> None:
    flt = FindingFilter(**kwargs)
    assert set(_names(loaded.list_findings(flt))) == expected
    assert loaded.count(flt) == len(expected)


def test_filter_by_scan(store: Store) -> None:
    store.write([CORPUS["crit"]])
    scan = store.begin_scan("posture", ScanScope("posture", (ACCOUNT,), ("us-east-1",)))
    store.write([CORPUS["high"], CORPUS["low"]], scan_id=scan)
    assert set(_names(store.list_findings(FindingFilter(scan_id=scan)))) == {"high", "low"}


def _sort_key(field: str) -> Any:
    def key(f: Finding) -> Any:
        return f.severity.label.rank if field == "severity" else getattr(f, field)

    return key


@pytest.mark.parametrize("field", sorted(ORDER_FIELDS))
@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_ordering(loaded: Store, field: str, descending: bool) -> None:
    order = f"-{field}" if descending else field
    got = loaded.list_findings(order=order)
    keys = [_sort_key(field)(f) for f in got]
    assert keys == sorted(keys, reverse=descending)
    assert len(got) == len(CORPUS)


def test_default_order_is_worst_first(loaded: Store) -> None:
    assert _names(loaded.list_findings()) == ["det", "crit", "high", "med", "low", "info"]


def test_ties_break_most_recent_first(store: Store) -> None:
    store.write([posture(f"b{i}", severity="HIGH", observed=at(i)) for i in range(5)])
    got = store.list_findings(order="-severity")
    assert [f.last_observed_at for f in got] == [at(i) for i in reversed(range(5))]


@pytest.mark.parametrize("order", ["-severity", "title", "-region", "account_id"])
def test_pages_cover_everything_once(store: Store, order: str) -> None:
    # Many equal sort keys: only a stable tie-break keeps pages from overlapping.
    store.write(
        posture(f"b{i:02d}", severity=["HIGH", "LOW"][i % 2], title="same", observed=at(1))
        for i in range(23)
    )
    pages = [store.list_findings(order=order, limit=5, offset=o) for o in range(0, 30, 5)]
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3, 0]
    ids = [f.id for page in pages for f in page]
    assert ids == [f.id for f in store.list_findings(order=order, limit=100)]
    assert len(set(ids)) == 23


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.list_findings(order="severity_rank"), "cannot order findings by"),
        (lambda s: s.list_findings(order="--title"), "cannot order findings by"),
        (lambda s: s.list_findings(FindingFilter(severity=["urgent"])), "unknown severity"),
        (lambda s: s.count(FindingFilter(min_severity="huge")), "unknown severity"),
        (lambda s: s.count(FindingFilter(status=["OK"])), "unknown compliance status"),
        (lambda s: s.count(FindingFilter(workflow=["DONE"])), "unknown workflow status"),
        (lambda s: s.count(FindingFilter(record_state="deleted")), "unknown record state"),
        (lambda s: s.list_findings(limit=-1), "limit must not be negative"),
        (lambda s: s.list_findings(offset=-5), "offset must not be negative"),
    ],
)
def test_bad_queries_are_input_errors(loaded: Store, call: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        call(loaded)
