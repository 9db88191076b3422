"""The counts table kept by triggers matches the findings through every kind of change, and
counts and insights answered from it equal those counted over the findings themselves."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from mamori.hub import FindingFilter, ScanScope, Store
from mamori.hub.query import counted
from tests.hub.builders import ACCOUNT, OTHER_ACCOUNT, at, detection, posture

_DIMS = (
    "source, generator_id, severity_label, severity_rank, coalesce(compliance_status, ''), "
    "workflow_status, record_state"
)


def _tables(store: Store) -> tuple[dict[tuple, int], dict[tuple, int]]:
    engine = store._engine
    with engine.connect() as conn:
        direct = {
            tuple(r[:-1]): r[-1]
            for r in conn.execute(
                text(f"SELECT {_DIMS}, count(*) FROM findings GROUP BY {_DIMS}")  # noqa: S608
            )
        }
        kept = {
            tuple(r[:-1]): r[-1]
            for r in conn.execute(
                text(
                    "SELECT source, generator_id, severity_label, severity_rank, "
                    "compliance_status, workflow_status, record_state, n "
                    "FROM finding_counts WHERE n <> 0"
                )
            )
        }
    return direct, kept


def _same(store: Store) -> None:
    direct, kept = _tables(store)
    assert kept == direct


FILTERS = [
    FindingFilter(),
    FindingFilter(record_state=None),
    FindingFilter(min_severity="high", status=["failed"]),
    FindingFilter(workflow=["suppressed"]),
    FindingFilter(source="detect", severity=["critical"]),
    FindingFilter(generator_id=["s3.bucket_public_access_block"], status=["passed"]),
]


def _answers_agree(store: Store) -> None:
    # The counted path against the findings table: a filter the counts cannot answer (an
    # account list naming every account) forces the slow path with the same meaning.
    for flt in FILTERS:
        assert counted(flt)
        slow = FindingFilter(**{**flt.__dict__, "account_id": [ACCOUNT, OTHER_ACCOUNT]})
        assert not counted(slow)
        assert store.count(flt) == store.count(slow)
        for by in ("severity", "status", "workflow", "source", "check"):
            assert store.insights(by, flt) == store.insights(by, slow), (by, flt)


def test_counts_follow_every_change(store: Store) -> None:
    store.write(
        [
            posture("a"),
            posture("b", status="PASSED", generator="s3.bucket_public_access_block"),
            posture("c", account=OTHER_ACCOUNT, severity="LOW"),
            detection("AKIA1"),
            detection("AKIA2", region="eu-west-1"),
        ]
    )
    _same(store)
    _answers_agree(store)
    # An update that changes counted fields and one that changes none.
    store.write([posture("a", status="PASSED", observed=at(1)), detection("AKIA1", observed=at(2))])
    _same(store)
    (found,) = store.list_findings(
        FindingFilter(generator_id=["detect.root_console_login"], region=["eu-west-1"])
    )
    store.set_workflow(found.id, "SUPPRESSED", by="alice")
    _same(store)
    scan = store.begin_scan("posture", ScanScope("posture", (OTHER_ACCOUNT,), ("us-east-1",)))
    store.finish_scan(scan, counts={})  # archives account 2's posture finding
    _same(store)
    _answers_agree(store)
    with store._engine.begin() as conn:  # a DBA's cleanup: counts follow deletes too
        conn.execute(text("DELETE FROM findings WHERE record_state = 'ARCHIVED'"))
    _same(store)
    assert store.count(FindingFilter(record_state=None)) == 4


_OPS = st.lists(
    st.tuples(
        st.sampled_from(["write", "workflow", "archive"]),
        st.integers(0, 5),
        st.sampled_from(["PASSED", "FAILED", "NOT_AVAILABLE"]),
        st.sampled_from(["NEW", "NOTIFIED", "SUPPRESSED", "RESOLVED"]),
    ),
    max_size=15,
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=_OPS)
def test_counts_match_after_any_sequence(tmp_path: Path, ops: list) -> None:
    url = f"sqlite:///{tmp_path / f'c{abs(hash(tuple(ops)))}.db'}"
    with Store.open(url) as store:
        for step, (op, n, status, workflow) in enumerate(ops):
            account = ACCOUNT if n % 2 else OTHER_ACCOUNT
            if op == "write":
                store.write(
                    [
                        posture(f"r{n}", account=account, status=status, observed=at(step)),
                        detection(f"AKIA{n}", observed=at(step)),
                    ]
                )
            elif op == "workflow":
                for f in store.list_findings(FindingFilter(record_state=None), limit=3):
                    store.set_workflow(f.id, workflow, by="t")
            else:
                scan = store.begin_scan("posture", ScanScope("posture", (account,), ("us-east-1",)))
                store.finish_scan(scan, counts={})
        _same(store)
        _answers_agree(store)


def test_concurrent_writers_both_land(store: Store) -> None:
    # Two writers whose batches touch the same count rows in opposite orders: on PostgreSQL
    # one may be chosen as a deadlock victim, and its batch is written again.
    import threading

    def findings(account: str) -> list:
        return [
            posture(
                f"b{i}",
                account=account,
                status=("FAILED", "PASSED")[i % 2],
                severity=("HIGH", "LOW")[(i // 2) % 2],
            )
            for i in range(200)
        ]

    first, second = findings(ACCOUNT), findings(OTHER_ACCOUNT)[::-1]
    errors: list[BaseException] = []

    def run(items: list) -> None:
        try:
            store.write(items, batch_size=20)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(x,)) for x in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.count() == 400
    _same(store)
