"""run_scan end to end on moto: live collection, streaming into the hub, re-scans, interrupts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from mamori.aws import AwsOptions
from mamori.core import WorkflowStatus
from mamori.hub import FindingFilter, Store
from mamori.inventory import COLLECTORS, load_collectors
from mamori.inventory.framework import CollectorSpec
from mamori.posture.scan import ScanRequest, run_scan

REQ = ScanRequest(
    aws=AwsOptions(max_attempts=2, retry_mode="standard"),
    regions=["us-east-1"],
    services=["s3"],
    workers=1,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    yield s
    s.close()


def _versioning(store: Store) -> tuple[str, str]:
    (f,) = store.list_findings(FindingFilter(generator_id=["s3.bucket_versioning_enabled"]))
    assert f.compliance is not None
    return f.compliance.status.value, f.workflow.status.value


def test_rescan_updates_and_resolves(store: Store) -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="ledger")
        first = run_scan(REQ, store)
        assert _versioning(store) == ("FAILED", "NEW")
        total = store.count()
        s3.put_bucket_versioning(Bucket="ledger", VersioningConfiguration={"Status": "Enabled"})
        second = run_scan(REQ, store)
    assert store.count() == total  # updated in place, not duplicated
    assert _versioning(store) == ("PASSED", WorkflowStatus.RESOLVED.value)
    assert first.api_calls > 0 and second.findings
    scans = store.scans()
    assert [s.status for s in scans] == ["completed", "completed"]
    assert scans[0].counts["total"] == len(second.findings)
    # Each scan records a score point per standard: the trend saw the fix.
    overall = store.score_history("overall")
    assert [p.reason for p in overall] == [f"scan {scans[1].id}", f"scan {scans[0].id}"]
    assert overall[1].passed == overall[0].passed + 1


def test_snapshot_saved_and_rescanned_offline(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "snap.json.gz"
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="ledger")
        live = run_scan(ScanRequest(**{**REQ.__dict__, "snapshot_out": path}), None)
    offline = run_scan(ScanRequest(snapshot_in=path, services=["s3"]), None)
    assert sorted((f.id, f.status) for f in live.findings) == sorted(
        (f.id, f.status) for f in offline.findings
    )


def test_interrupted_scan_keeps_what_it_found(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = load_collectors()["s3"]
    seen: list[str] = []

    def boom(ctx: object) -> None:
        # workers=1: accounts are collected one after the other; stop during the second.
        seen.append(str(getattr(ctx, "account_id", "")))
        if len(seen) > 1:
            raise KeyboardInterrupt
        real.fn(ctx)  # type: ignore[arg-type]

    monkeypatch.setitem(COLLECTORS, "s3", CollectorSpec("s3", real.scope, real.calls, boom))
    with mock_aws():
        org = boto3.client("organizations", region_name="us-east-1")
        org.create_organization(FeatureSet="ALL")
        org.create_account(AccountName="member", Email="m@example.com")
        member = org.list_accounts()["Accounts"]
        for acct in member:
            creds = boto3.client("sts", region_name="us-east-1").assume_role(
                RoleArn=f"arn:aws:iam::{acct['Id']}:role/OrganizationAccountAccessRole",
                RoleSessionName="seed",
            )["Credentials"]
            boto3.client(
                "s3",
                region_name="us-east-1",
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
            ).create_bucket(Bucket=f"bucket-{acct['Id']}")
        req = ScanRequest(
            **{**REQ.__dict__, "org": True, "role_name": "OrganizationAccountAccessRole"}
        )
        with pytest.raises(KeyboardInterrupt):
            run_scan(req, store)
    first, second = seen
    kept = store.list_findings(FindingFilter(account_id=[first]), limit=1000)
    assert any(f.resource.id == f"arn:aws:s3:::bucket-{first}" for f in kept)
    assert not store.list_findings(FindingFilter(account_id=[second]))
    (record,) = store.scans()
    assert record.status == "interrupted"


def test_access_advisor_is_collected_only_when_asked() -> None:
    from mamori.posture.scan import _identity_services

    assert "iam_access" not in _identity_services(access_advisor=False)
    assert {"iam", "organizations", "lambda"} <= _identity_services(access_advisor=False)
    assert "iam_access" in _identity_services(access_advisor=True)
