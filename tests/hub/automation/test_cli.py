"""`mamori automate` end to end on moto: scan, dry run, run (webhook + remediation), re-scan
shows the control passing, the audit lists what was done; bad input exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import yaml
from moto import mock_aws
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.hub import FindingFilter, Store
from tests.hub.automation.receiver import receiver

runner = CliRunner()
CHECK = "s3.bucket_public_access_block"


def _scan(db: str) -> None:
    result = runner.invoke(
        app, ["scan", "--region", "us-east-1", "--check", CHECK, "--db", db, "--no-identity"]
    )
    assert result.exit_code == 0, result.output


def _status(db: str) -> str | None:
    with Store.open(db) as store:
        (found,) = store.list_findings(FindingFilter(generator_id=[CHECK]))
    return found.status.value if found.status else None


def test_scan_automate_rescan(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    with receiver() as rx, mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="marketing-site")
        _scan(db)
        assert _status(db) == "FAILED"
        rules = tmp_path / "automation.yaml"
        rules.write_text(
            yaml.safe_dump(
                {
                    "rules": [
                        {
                            "id": "block-public-buckets",
                            "pattern": {
                                "GeneratorId": [CHECK],
                                "Compliance": {"Status": ["FAILED"]},
                            },
                            "actions": [
                                {
                                    "type": "webhook",
                                    "format": "teams",
                                    "url_env": "MAMORI_TEST_HOOK",
                                },
                                {"type": "s3.block_public_access"},
                                {"type": "set_workflow", "status": "NOTIFIED"},
                            ],
                        }
                    ]
                }
            ),
            encoding="utf-8",
        )
        env = {"MAMORI_TEST_HOOK": rx.url}
        args = ["automate", "--rules", str(rules), "--db", db]
        dry = runner.invoke(app, [*args, "--dry-run", "--json"], env=env)
        assert dry.exit_code == 0, dry.output
        plan = json.loads(dry.stdout)
        assert plan["dry_run"] and plan["by_rule"]["block-public-buckets"]["planned"] == 3
        assert rx.requests == [] and _status(db) == "FAILED"

        run = runner.invoke(app, args, env=env)
        assert run.exit_code == 0, run.output
        assert "block-public-buckets" in run.stdout and len(rx.requests) == 1
        assert "s3cr3t" not in run.output
        again = runner.invoke(app, [*args, "--json"], env=env)
        assert json.loads(again.stdout)["by_rule"]["block-public-buckets"]["done"] == 0
        assert len(rx.requests) == 1  # not notified twice

        _scan(db)
        assert _status(db) == "PASSED"  # the next scan finds the control passing
        audit = runner.invoke(app, ["automate", "audit", "--db", db, "--json"])
        assert audit.exit_code == 0, audit.output
        records = json.loads(audit.stdout)
    done = [(r["action"], r["result"]) for r in records if not r["dry_run"]]
    assert sorted(done) == [
        ("s3.block_public_access", "done"), ("set_workflow", "done"), ("webhook", "done"),
    ]  # fmt: skip
    assert all("s3cr3t" not in r["detail"] for r in records)


def test_bad_rules_exit_2_and_name_the_rule(tmp_path: Path) -> None:
    rules = tmp_path / "automation.yaml"
    rules.write_text(
        "rules:\n  - id: r1\n    pattern: {Region: [{prefx: eu}]}\n"
        "    actions: [{type: suppress, reason: x}]\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["automate", "--rules", str(rules), "--db", "sqlite://"])
    assert result.exit_code == 2
    assert "rules[0] (r1).pattern: Region[0]: unknown filter 'prefx'" in result.output
    check = runner.invoke(app, ["automate", "validate", "--rules", str(rules)])
    assert check.exit_code == 2
    missing = runner.invoke(app, ["automate", "--db", "sqlite://"])
    assert missing.exit_code == 2 and "--rules" in missing.output


def test_actions_list_and_remediation_policy() -> None:
    listed = runner.invoke(app, ["automate", "actions"])
    assert listed.exit_code == 0 and "ec2.quarantine_instance" in listed.stdout
    policy = json.loads(runner.invoke(app, ["automate", "actions", "--policy"]).stdout)
    actions = set(policy["Statement"][0]["Action"])
    assert {"s3:PutBucketPublicAccessBlock", "iam:UpdateAccessKey", "cloudtrail:StartLogging",
            "ec2:EnableEbsEncryptionByDefault", "iam:DetachRolePolicy",
            "ec2:RevokeSecurityGroupIngress", "ec2:ModifyInstanceAttribute"} <= actions  # fmt: skip


def test_the_documented_rules_file_is_valid(tmp_path: Path) -> None:
    import re

    doc = (Path(__file__).resolve().parents[3] / "docs" / "automation.md").read_text("utf-8")
    example = re.findall(r"```yaml\n(.*?)```", doc, re.DOTALL)[0]
    path = tmp_path / "automation.yaml"
    path.write_text(example, encoding="utf-8")
    result = runner.invoke(app, ["automate", "validate", "--rules", str(path)])
    assert result.exit_code == 0, result.output
    assert "10 rule(s)" in result.stdout
