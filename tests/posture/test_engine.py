"""The engine on hand-built snapshots: gaps and malformed data never read as PASSED."""

from __future__ import annotations

from pathlib import Path

from mamori.inventory import Snapshot
from mamori.inventory.snapshot import unavailable
from mamori.posture import select_checks
from mamori.posture.engine import evaluate

ACCT = "111122223333"


def _snapshot(buckets: object, account_pab: object = None) -> Snapshot:
    snap = Snapshot(regions=["us-east-1"])
    snap.put_service(
        ACCT, "s3", "global", {"buckets": buckets, "account_public_access_block": account_pab}
    )
    return snap


def _bucket(name: str, **attrs: object) -> dict[str, object]:
    base: dict[str, object] = {
        "Name": name,
        "_arn": f"arn:aws:s3:::{name}",
        "_region": "eu-west-1",
        "Policy": None,
        "PolicyStatus": None,
        "Acl": {"Grants": []},
        "PublicAccessBlock": None,
        "Encryption": None,
        "Versioning": {"Status": "Disabled", "MFADelete": "Disabled"},
        "Logging": None,
    }
    base.update(attrs)
    return base


def _statuses(snap: Snapshot, check: str) -> dict[str, str]:
    specs = select_checks([check])
    return {f.resource.id: f.compliance.status.value for f in evaluate(snap, specs) if f.compliance}


def test_unreadable_attribute_is_not_available() -> None:
    snap = _snapshot([_bucket("a", Policy=unavailable("AccessDenied", "no")), _bucket("b")])
    got = _statuses(snap, "s3.bucket_policy_not_public")
    assert got == {"arn:aws:s3:::a": "NOT_AVAILABLE", "arn:aws:s3:::b": "PASSED"}


def test_unreadable_list_gives_one_not_available_for_the_scope() -> None:
    snap = _snapshot(unavailable("AccessDenied", "ListBuckets denied"))
    got = _statuses(snap, "s3.bucket_versioning_enabled")
    assert got == {f"arn:aws:iam::{ACCT}:root": "NOT_AVAILABLE"}


def test_malformed_policy_document_is_reported_not_crashing() -> None:
    snap = _snapshot([_bucket("bad", Policy="{not json"), _bucket("good")])
    specs = select_checks(["s3.bucket_policy_not_public"])
    findings = {f.resource.id: f for f in evaluate(snap, specs)}
    bad = findings["arn:aws:s3:::bad"]
    assert bad.compliance is not None
    assert bad.compliance.status.value == "NOT_AVAILABLE"
    assert "bucket policy of arn:aws:s3:::bad: not valid JSON" in bad.compliance.status_reasons[0]
    assert findings["arn:aws:s3:::good"].compliance.status.value == "PASSED"  # type: ignore[union-attr]


def test_hand_edited_wrong_types_do_not_stop_the_scan() -> None:
    snap = _snapshot([_bucket("x", Versioning="enabled?"), "not-a-bucket", _bucket("y")])
    got = _statuses(snap, "s3.bucket_versioning_enabled")
    assert got["arn:aws:s3:::x"] == "NOT_AVAILABLE"
    assert got["arn:aws:s3:::y"] == "FAILED"


def test_resource_region_comes_from_the_resource() -> None:
    snap = _snapshot([_bucket("a")])
    (finding,) = evaluate(snap, select_checks(["s3.bucket_versioning_enabled"]))
    assert finding.region == "eu-west-1"
    assert finding.resource.region == "eu-west-1"
    assert finding.compliance is not None
    assert finding.compliance.controls.get("aws-foundational-security-best-practices-1.0.0") == [
        "S3.14"
    ]


def test_reloaded_snapshot_gives_the_same_findings(tmp_path: Path) -> None:
    snap = _snapshot(
        [_bucket("a"), _bucket("b", Policy=unavailable("AccessDenied"))], {"BlockPublicAcls": True}
    )
    path = tmp_path / "s.json"
    snap.save(path)
    specs = select_checks(services=["s3"])
    before = sorted(
        (f.id, f.compliance.status.value) for f in evaluate(snap, specs) if f.compliance
    )
    after = sorted(
        (f.id, f.compliance.status.value)
        for f in evaluate(Snapshot.load(path), specs)
        if f.compliance
    )
    assert before == after and before
