"""The CLI as a user runs it (Typer's runner, real code underneath)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from mamori.cli.main import EXIT_FAIL_ON, EXIT_RUNTIME, EXIT_USAGE, app
from mamori.inventory import Snapshot

runner = CliRunner()
ACCT = "111122223333"


@pytest.fixture
def snapshot_file(tmp_path: Path) -> Path:
    snap = Snapshot(regions=["us-east-1"])
    snap.put_service(
        ACCT,
        "s3",
        "global",
        {
            "account_public_access_block": None,
            "buckets": [
                {
                    "Name": "open",
                    "_arn": "arn:aws:s3:::open",
                    "_region": "us-east-1",
                    "Policy": None,
                    "PolicyStatus": None,
                    "Acl": {
                        "Grants": [
                            {
                                "Grantee": {
                                    "URI": "http://acs.amazonaws.com/groups/global/AllUsers"
                                },
                                "Permission": "READ",
                            }
                        ]
                    },
                    "PublicAccessBlock": None,
                    "Encryption": None,
                    "Versioning": {"Status": "Disabled", "MFADelete": "Disabled"},
                    "Logging": None,
                }
            ],
        },
    )
    path = tmp_path / "snap.json"
    snap.save(path)
    return path


def test_checks_list_json() -> None:
    result = runner.invoke(app, ["checks", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    ids = {r["id"] for r in rows}
    assert "s3.bucket_acl_not_public" in ids
    assert all(r["severity"] and r["remediation"] for r in rows)


def test_checks_list_by_standard() -> None:
    result = runner.invoke(
        app, ["checks", "list", "--standard", "cis-aws-foundations", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert all("cis-aws-foundations-3.0.0" in r["controls"] for r in rows)


def test_unknown_standard_is_a_usage_error() -> None:
    result = runner.invoke(app, ["checks", "list", "--standard", "nist-9000"])
    assert result.exit_code == EXIT_USAGE
    assert "unknown standard 'nist-9000'" in result.output


def test_permissions_is_a_valid_read_only_policy() -> None:
    result = runner.invoke(app, ["permissions"])
    assert result.exit_code == 0, result.output
    policy = json.loads(result.output)
    actions = policy["Statement"][0]["Action"]
    assert "s3:ListAllMyBuckets" in actions
    assert "s3:GetEncryptionConfiguration" in actions
    assert "s3:GetAccountPublicAccessBlock" in actions
    writes = ("Put", "Create", "Delete", "Update", "Attach", "Detach", "Set")
    # GenerateCredentialReport only asks IAM to build the read-only report.
    assert not [a for a in actions if a.split(":")[1].startswith(writes)]


def test_offline_scan_json_and_fail_on(snapshot_file: Path) -> None:
    result = runner.invoke(
        app,
        [
            "scan",
            "--snapshot",
            str(snapshot_file),
            "--format",
            "json",
            "--no-store",
            "--service",
            "s3",
        ],
    )
    assert result.exit_code == 0, result.output
    start = result.stdout.index("[")
    findings, _ = json.JSONDecoder().raw_decode(result.stdout[start:])
    acl = [f for f in findings if f["generator_id"] == "s3.bucket_acl_not_public"]
    assert acl and acl[0]["compliance"]["status"] == "FAILED"
    failing = runner.invoke(
        app, ["scan", "--snapshot", str(snapshot_file), "--no-store", "--fail-on", "critical"]
    )
    assert failing.exit_code == EXIT_FAIL_ON, failing.output
    assert "s3.bucket_acl_not_public" in failing.output


def test_offline_scan_writes_asff_file(snapshot_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "findings.json"
    result = runner.invoke(
        app,
        [
            "scan",
            "--snapshot",
            str(snapshot_file),
            "--no-store",
            "--format",
            "asff",
            "--output-file",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    items = doc["Findings"] if isinstance(doc, dict) else doc
    assert items and all(i["ProductFields"]["CheckId"] == i["GeneratorId"] for i in items)


def test_bad_snapshot_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    result = runner.invoke(app, ["scan", "--snapshot", str(bad), "--no-store"])
    assert result.exit_code == EXIT_USAGE
    assert "bad.json" in result.output and "not valid JSON" in result.output


def test_bad_fail_on_value_is_a_usage_error(snapshot_file: Path) -> None:
    result = runner.invoke(
        app, ["scan", "--snapshot", str(snapshot_file), "--no-store", "--fail-on", "severe"]
    )
    assert result.exit_code == EXIT_USAGE


def test_unreachable_database_is_a_runtime_error(snapshot_file: Path) -> None:
    result = runner.invoke(
        app,
        [
            "scan",
            "--snapshot",
            str(snapshot_file),
            "--db",
            "postgresql+psycopg://u:secret@127.0.0.1:9/none",
        ],
    )
    assert result.exit_code == EXIT_RUNTIME
    assert "secret" not in result.output
    assert "127.0.0.1:9" in result.output


def test_inventory_then_offline_scan(tmp_path: Path) -> None:
    snap = tmp_path / "inv.json.gz"
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="ledger-archive")
        collected = runner.invoke(
            app, ["inventory", "--region", "us-east-1", "--service", "s3", "-o", str(snap)]
        )
        assert collected.exit_code == 0, collected.output
    # Offline: no AWS at all, the same result as the live inventory.
    result = runner.invoke(
        app, ["scan", "--snapshot", str(snap), "--no-store", "--format", "json", "--all"]
    )
    assert result.exit_code == 0, result.output
    start = result.stdout.index("[")
    findings, _ = json.JSONDecoder().raw_decode(result.stdout[start:])
    versioning = [f for f in findings if f["generator_id"] == "s3.bucket_versioning_enabled"]
    assert versioning[0]["resources"][0]["id"] == "arn:aws:s3:::ledger-archive"
    assert versioning[0]["compliance"]["status"] == "FAILED"


def test_unknown_service_is_a_usage_error(tmp_path: Path) -> None:
    with mock_aws():
        result = runner.invoke(
            app, ["inventory", "--region", "us-east-1", "--service", "s4", "-o", "x.json"]
        )
    assert result.exit_code == EXIT_USAGE
    assert "unknown service(s): s4" in result.output


def test_demo_rejects_a_single_region() -> None:
    result = runner.invoke(app, ["demo", "--region", "us-east-1", "--db", "sqlite://"])
    assert result.exit_code == EXIT_USAGE
    assert "spans 2 regions" in result.output
