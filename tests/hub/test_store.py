"""Upserts, workflow rules, scope archiving and scan records, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from mamori.core import Finding, InputError, RecordState, StoreError, WorkflowStatus, utcnow
from mamori.hub import FindingFilter, ScanScope, Store, UpsertStats
from tests.hub.builders import ACCOUNT, OTHER_ACCOUNT, at, detection, posture


def _workflow(store: Store, f: Finding) -> WorkflowStatus:
    stored = store.get(f.id)
    assert stored is not None
    return stored.workflow.status


def _transitions(store: Store, f: Finding) -> list[tuple[str, str]]:
    return [(h["from"], h["to"]) for h in store.history(f.id)]


def test_upsert_updates_instead_of_duplicating(store: Store) -> None:
    first = store.write([posture(observed=at(0))])
    again = store.write([posture(observed=at(5))])

    assert first == UpsertStats(inserted=1)
    assert again == UpsertStats(updated=1)
    assert store.count() == 1
    stored = store.get(posture().id)
    assert stored is not None
    assert stored.first_observed_at == at(0)
    assert stored.created_at == at(0)
    assert stored.last_observed_at == at(5)
    assert stored.updated_at > at(5)  # the store's clock, not the finding's
    assert stored.count == 1  # a posture re-evaluation is not a repeat


def test_update_replaces_the_finding_data(store: Store) -> None:
    store.write([posture(severity="LOW", title="old title")])
    store.write([posture(severity="CRITICAL", title="new title")])

    stored = store.get(posture().id)
    assert stored is not None
    assert (stored.title, stored.severity.label) == ("new title", "CRITICAL")
    assert store.count(FindingFilter(severity=["critical"])) == 1
    assert store.count(FindingFilter(text="old title")) == 0


def test_an_older_observation_does_not_move_last_observed_back(store: Store) -> None:
    store.write([posture(observed=at(10))])
    store.write([posture(observed=at(2))])
    stored = store.get(posture().id)
    assert stored is not None
    assert stored.last_observed_at == at(10)


def test_detections_aggregate_repeats(store: Store) -> None:
    store.write([detection(observed=at(0))])
    store.write([detection(observed=at(1))])
    store.write([detection(observed=at(2), count=3)])
    stored = store.get(detection().id)
    assert stored is not None
    assert stored.count == 5
    assert (stored.first_observed_at, stored.last_observed_at) == (at(0), at(2))


def test_a_recount_over_the_same_records_is_not_added_again(store: Store) -> None:
    # A detection run re-reads the whole log store: the same two records, then a third.
    store.write([detection(observed=at(0), until=at(1), count=2)])
    store.write([detection(observed=at(0), until=at(1), count=2)])
    stored = store.get(detection().id)
    assert stored is not None and stored.count == 2
    store.write([detection(observed=at(0), until=at(3), count=3)])
    stored = store.get(detection().id)
    assert stored is not None
    assert stored.count == 3
    assert (stored.first_observed_at, stored.last_observed_at) == (at(0), at(3))


def test_updates_wait_for_the_cadence_new_findings_do_not(store: Store) -> None:
    now = utcnow()
    store.write([detection(observed=now - timedelta(minutes=5), count=1)])
    every = timedelta(hours=1)
    later = detection(observed=now - timedelta(minutes=5), until=now, count=4)
    stats = store.write([later, detection("AKIANEW", observed=now)], update_every=every)
    assert (stats.inserted, stats.updated, stats.deferred) == (1, 0, 1)
    stored = store.get(later.id)
    assert stored is not None and stored.count == 1
    assert store.get(detection("AKIANEW").id) is not None
    # Without a cadence (or once it has passed) the update is written.
    stats = store.write([later])
    assert (stats.updated, stats.deferred) == (1, 0)
    stored = store.get(later.id)
    assert stored is not None and stored.count == 4


def test_a_resolved_threat_seen_again_is_not_deferred(store: Store) -> None:
    now = utcnow()
    first = detection(observed=now)
    store.write([first])
    store.set_workflow(first.id, "RESOLVED", by="analyst")
    stats = store.write(
        [detection(observed=now + timedelta(minutes=1))], update_every=timedelta(hours=6)
    )
    assert (stats.updated, stats.deferred, stats.reopened) == (1, 0, 1)


def test_failed_then_passed_resolves(store: Store) -> None:
    store.write([posture(status="FAILED")])
    stats = store.write([posture(status="PASSED")])

    assert stats == UpsertStats(updated=1, resolved=1)
    stored = store.get(posture().id)
    assert stored is not None
    assert stored.workflow.status is WorkflowStatus.RESOLVED
    assert (stored.workflow.updated_by, stored.workflow.note) == ("mamori", "resolved: now passes")
    [entry] = store.history(posture().id)
    assert (entry["from"], entry["to"], entry["by"]) == ("NEW", "RESOLVED", "mamori")
    assert entry["note"] == "resolved: now passes"


def test_passed_again_is_not_resolved_twice(store: Store) -> None:
    store.write([posture(status="FAILED")])
    store.write([posture(status="PASSED")])
    stats = store.write([posture(status="PASSED")])
    assert stats == UpsertStats(updated=1)
    assert len(store.history(posture().id)) == 1


def test_failing_again_reopens(store: Store) -> None:
    f = posture()
    store.write([posture(status="FAILED")])
    store.write([posture(status="PASSED")])
    stats = store.write([posture(status="FAILED")])

    assert stats == UpsertStats(updated=1, reopened=1)
    assert _workflow(store, f) is WorkflowStatus.NEW
    assert _transitions(store, f) == [("NEW", "RESOLVED"), ("RESOLVED", "NEW")]
    assert store.history(f.id)[-1]["note"] == "reopened: fails again"


def test_a_control_first_seen_passing_starts_resolved(store: Store) -> None:
    store.write([posture(status="PASSED")])
    assert _workflow(store, posture()) is WorkflowStatus.RESOLVED
    assert store.history(posture().id) == []  # the initial state is not a change
    store.write([posture(status="FAILED")])
    assert _workflow(store, posture()) is WorkflowStatus.NEW


@pytest.mark.parametrize("kept", [WorkflowStatus.SUPPRESSED, WorkflowStatus.NOTIFIED])
def test_a_person_s_decision_is_kept_while_failing(store: Store, kept: WorkflowStatus) -> None:
    f = posture()
    store.write([posture(status="FAILED")])
    store.set_workflow(f.id, kept, by="alice", note="accepted risk")
    store.write([posture(status="FAILED"), posture("bucket-2")])

    stored = store.get(f.id)
    assert stored is not None
    assert stored.workflow.status is kept
    assert (stored.workflow.updated_by, stored.workflow.note) == ("alice", "accepted risk")


def test_suppressed_survives_pass_and_fail(store: Store) -> None:
    f = posture()
    store.write([posture(status="FAILED")])
    store.set_workflow(f.id, "suppressed", by="alice")
    for status in ("PASSED", "FAILED", "PASSED"):
        stats = store.write([posture(status=status)])
        assert (stats.resolved, stats.reopened) == (0, 0)
        assert _workflow(store, f) is WorkflowStatus.SUPPRESSED
    assert _transitions(store, f) == [("NEW", "SUPPRESSED")]


def test_notified_is_resolved_when_it_passes(store: Store) -> None:
    f = posture()
    store.write([posture(status="FAILED")])
    store.set_workflow(f.id, WorkflowStatus.NOTIFIED, by="pager")
    store.write([posture(status="PASSED")])
    assert _workflow(store, f) is WorkflowStatus.RESOLVED


def test_a_resolved_detection_seen_again_reopens(store: Store) -> None:
    f = detection()
    store.write([detection()])
    store.set_workflow(f.id, WorkflowStatus.RESOLVED, by="alice", note="rotated the key")
    stats = store.write([detection(observed=at(3))])
    assert stats.reopened == 1
    assert _workflow(store, f) is WorkflowStatus.NEW
    assert store.history(f.id)[-1]["note"] == "reopened: observed again"


def test_not_available_keeps_the_workflow(store: Store) -> None:
    f = posture()
    store.write([posture(status="FAILED")])
    store.write([posture(status="NOT_AVAILABLE")])
    assert _workflow(store, f) is WorkflowStatus.NEW
    store.write([posture(status="PASSED")])
    store.write([posture(status="NOT_AVAILABLE")])
    assert _workflow(store, f) is WorkflowStatus.RESOLVED


def test_the_same_id_twice_in_one_batch(store: Store) -> None:
    stats = store.write(
        [posture(status="FAILED", observed=at(0)), posture(status="PASSED", observed=at(1))]
    )
    assert stats == UpsertStats(inserted=1, updated=1, resolved=1)
    stored = store.get(posture().id)
    assert stored is not None
    assert (stored.first_observed_at, stored.last_observed_at) == (at(0), at(1))
    assert stored.workflow.status is WorkflowStatus.RESOLVED
    assert _transitions(store, posture()) == [("NEW", "RESOLVED")]


def test_batches_are_committed_as_they_go(store: Store) -> None:
    def killed_midway() -> Iterator[Finding]:
        for i in range(250):
            yield posture(f"bucket-{i}")
        raise RuntimeError("scan killed")

    with pytest.raises(RuntimeError, match="scan killed"):
        store.write(killed_midway(), batch_size=100)
    assert store.count() == 200  # two full batches; the third never reached the database


def test_stats_add_up_across_batches(store: Store) -> None:
    store.write([posture(f"bucket-{i}") for i in range(0, 10, 2)])
    stats = store.write((posture(f"bucket-{i}") for i in range(10)), batch_size=3)
    assert stats == UpsertStats(inserted=5, updated=5)
    assert stats.written == 10


def test_batch_size_must_be_positive(store: Store) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        store.write([posture()], batch_size=0)


def test_get_unknown_is_none(store: Store) -> None:
    assert store.get("mamori-does-not-exist") is None
    assert store.history("mamori-does-not-exist") == []


def test_set_workflow_rejects_unknown_finding_and_status(store: Store) -> None:
    store.write([posture()])
    with pytest.raises(InputError, match="no finding"):
        store.set_workflow("mamori-nope", WorkflowStatus.SUPPRESSED, by="alice")
    with pytest.raises(InputError, match="unknown workflow status 'ignored'"):
        store.set_workflow(posture().id, "ignored", by="alice")


def test_set_workflow_records_history(store: Store) -> None:
    f = posture()
    store.write([f])
    store.set_workflow(f.id, WorkflowStatus.NOTIFIED, by="pager", note="ticket SEC-1")
    store.set_workflow(f.id, WorkflowStatus.SUPPRESSED, by="alice", note="exception #7")
    history = store.history(f.id)
    assert [(h["from"], h["to"], h["by"], h["note"]) for h in history] == [
        ("NEW", "NOTIFIED", "pager", "ticket SEC-1"),
        ("NOTIFIED", "SUPPRESSED", "alice", "exception #7"),
    ]
    assert all(h["finding_id"] == f.id and h["at"].tzinfo is not None for h in history)
    assert store.count(FindingFilter(workflow=["suppressed"])) == 1


def test_timestamps_come_back_aware_utc(store: Store) -> None:
    tokyo = timezone(timedelta(hours=9))
    local = datetime(2025, 3, 1, 9, 0, tzinfo=tokyo)
    store.write([posture(observed=local)])
    stored = store.get(posture().id)
    assert stored is not None
    assert stored.first_observed_at == local
    assert stored.first_observed_at.utcoffset() == timedelta(0)
    [newest] = store.list_findings(order="-first_observed_at")
    assert newest.first_observed_at == local


# -- scans and archiving --------------------------------------------------------------------


def _seed_for_scope(store: Store) -> dict[str, Finding]:
    seeded = {
        "in_scope_stale": posture("stale", status="FAILED"),
        "in_scope_stale_passed": posture("stale-ok", status="PASSED"),
        "in_scope_suppressed": posture("accepted", status="FAILED"),
        "in_scope_global": posture("global-thing", region="global"),
        "in_scope_seen": posture("seen"),
        "other_account": posture("theirs", account=OTHER_ACCOUNT),
        "other_region": posture("far", region="eu-west-1"),
        "other_source": detection("AKIAOTHER"),
    }
    store.write(seeded.values())
    store.set_workflow(seeded["in_scope_suppressed"].id, "SUPPRESSED", by="alice")
    return seeded


def test_finished_scan_archives_only_what_it_covered_and_missed(store: Store) -> None:
    seeded = _seed_for_scope(store)
    scope = ScanScope(source="posture", accounts=(ACCOUNT,), regions=("us-east-1", "global"))
    scan = store.begin_scan("posture", scope)
    store.write([seeded["in_scope_seen"]], scan_id=scan)

    archived = store.finish_scan(scan, counts={"findings": 1})

    assert archived == 4
    state = {k: store.get(f.id) for k, f in seeded.items()}
    gone = {k for k, f in state.items() if f and f.record_state is RecordState.ARCHIVED}
    assert gone == {
        "in_scope_stale",
        "in_scope_stale_passed",
        "in_scope_suppressed",
        "in_scope_global",
    }
    stale = state["in_scope_stale"]
    assert stale is not None
    assert stale.workflow.status is WorkflowStatus.RESOLVED
    assert stale.workflow.note == "resolved: no longer observed"
    assert _transitions(store, stale) == [("NEW", "RESOLVED")]
    assert _workflow(store, seeded["in_scope_suppressed"]) is WorkflowStatus.SUPPRESSED
    assert _workflow(store, seeded["in_scope_stale_passed"]) is WorkflowStatus.RESOLVED
    # The default listing is active findings; record_state=None shows the archive too.
    assert store.count() == 4
    assert store.count(FindingFilter(record_state="archived")) == 4
    assert store.count(FindingFilter(record_state=None)) == 8


def test_an_incomplete_scan_archives_nothing(store: Store) -> None:
    _seed_for_scope(store)
    scope = ScanScope(source="posture", accounts=(ACCOUNT,), regions=("us-east-1", "global"))
    failed = store.begin_scan("posture", scope)
    assert store.finish_scan(failed, status="failed", errors=[{"error": "throttled"}]) == 0
    opted_out = store.begin_scan("posture", scope)
    assert store.finish_scan(opted_out, archive=False) == 0
    assert store.count(FindingFilter(record_state="ARCHIVED")) == 0


def test_an_archived_finding_found_again_is_reactivated(store: Store) -> None:
    f = posture("flaky", status="FAILED")
    store.write([f])
    scope = ScanScope(source="posture", accounts=(ACCOUNT,), regions=("us-east-1",))
    store.finish_scan(store.begin_scan("posture", scope))
    assert _workflow(store, f) is WorkflowStatus.RESOLVED

    rescan = store.begin_scan("posture", scope)
    stats = store.write([f], scan_id=rescan)
    assert store.finish_scan(rescan) == 0
    stored = store.get(f.id)
    assert stored is not None
    assert (stored.record_state, stored.workflow.status) == (RecordState.ACTIVE, WorkflowStatus.NEW)
    assert stats.reopened == 1
    assert store.count(FindingFilter(scan_id=rescan)) == 1


def test_scans_are_recorded(store: Store) -> None:
    scope = ScanScope(
        source="posture", accounts=(ACCOUNT, OTHER_ACCOUNT), regions=("global", "us-east-1")
    )
    first = store.begin_scan("posture", scope)
    second = store.begin_scan("detect", ScanScope("detect", (ACCOUNT,), ("us-east-1",)))
    store.finish_scan(
        first,
        counts={"passed": 3, "failed": 2},
        errors=[{"service": "s3", "region": "us-east-1", "code": "AccessDenied"}],
    )

    records = {r.id: r for r in store.scans()}
    assert set(records) == {first, second}
    done, running = records[first], records[second]
    assert done.kind == "posture"
    assert done.scope == scope
    assert done.status == "completed"
    assert done.counts == {"passed": 3, "failed": 2}
    assert done.errors == [{"service": "s3", "region": "us-east-1", "code": "AccessDenied"}]
    assert done.finished_at is not None and done.finished_at >= done.started_at
    assert done.started_at.tzinfo is not None
    assert (running.status, running.finished_at, running.counts) == ("running", None, {})
    assert len(store.scans(limit=1)) == 1


def test_finishing_an_unknown_scan_fails(store: Store) -> None:
    with pytest.raises(StoreError, match="no scan"):
        store.finish_scan("0" * 32)


def test_bulk_workflow_changes_the_found_and_names_the_rest(store: Store) -> None:
    found = [posture(f"b{i}") for i in range(3)]
    store.write(found)
    ids = [found[2].id, "missing", found[0].id, found[0].id, found[1].id]
    changed = store.set_workflows(ids, "notified", by="bob", note="ticket SEC-1")
    assert changed == [found[2].id, found[0].id, found[1].id]  # order kept, repeats once
    for f in found:
        assert _workflow(store, f) is WorkflowStatus.NOTIFIED
        assert store.history(f.id)[-1] | {"at": None} == {
            "finding_id": f.id,
            "at": None,
            "from": "NEW",
            "to": "NOTIFIED",
            "by": "bob",
            "note": "ticket SEC-1",
        }
    assert store.count(FindingFilter(workflow=["notified"])) == 3
    assert store.set_workflows(["missing"], "resolved", by="bob") == []
    with pytest.raises(InputError, match="unknown workflow status"):
        store.set_workflows([found[0].id], "closed", by="bob")
