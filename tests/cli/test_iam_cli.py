"""`mamori iam ...` as a user runs it."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mamori.cli.main import EXIT_USAGE, app
from tests.identity import gaad_sample as g
from tests.identity.conformance import CASES

runner = CliRunner()
ACCT = g.ACCOUNT
_policy, _allow, _user, _role = g.document, g.allow, g.user_entry, g.role_entry


@pytest.fixture
def gaad(tmp_path: Path) -> Path:
    trust_account = _policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
            "Action": "sts:AssumeRole",
        }
    )
    doc = {
        "UserDetailList": [
            _user("admin", _policy(_allow("*"))),
            _user(
                "keymaker",
                _policy(_allow("iam:CreateAccessKey", f"arn:aws:iam::{ACCT}:user/admin")),
                encode=True,
            ),
            _user("assumer", _policy(_allow("sts:AssumeRole"))),
            _user("reader", _policy(_allow("s3:GetObject"))),
        ],
        "GroupDetailList": [],
        "RoleDetailList": [_role("Ops", trust_account, _policy(_allow("*")))],
        "Policies": [],
    }
    path = tmp_path / "gaad.json.gz"
    path.write_bytes(gzip.compress(json.dumps(doc).encode()))
    return path


def test_simulate_requests_file_decides_every_conformance_case(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps(line) + "\n" for _, _, _, line in CASES))
    result = runner.invoke(app, ["iam", "simulate", "--requests", str(cases), "-f", "json"])
    assert result.exit_code == 0, result.output
    decided = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["id"] for d in decided] == [c[0] for c in CASES]
    assert [d["decision"] for d in decided] == [c[2] for c in CASES]
    assert all(isinstance(d["decided_by"], list) for d in decided)


def test_simulate_names_bad_lines_and_decides_the_rest(tmp_path: Path) -> None:
    good = CASES[1][3]
    cases = tmp_path / "cases.jsonl"
    cases.write_text("{oops\n" + json.dumps(good) + "\n")
    result = runner.invoke(app, ["iam", "simulate", "--requests", str(cases), "-f", "json"])
    assert result.exit_code == EXIT_USAGE
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert "error" in lines[0] and "cases.jsonl:1" in lines[0]["error"]
    assert lines[1]["decision"] == "Allow"


def test_simulate_a_principal_of_the_auth_details(gaad: Path) -> None:
    base = ["iam", "simulate", "--auth-details", str(gaad), "-f", "json"]
    result = runner.invoke(
        app,
        [
            *base,
            "--principal",
            f"arn:aws:iam::{ACCT}:user/keymaker",
            "--action",
            "iam:CreateAccessKey",
            "--action",
            "iam:DeleteUser",
            "--resource",
            f"arn:aws:iam::{ACCT}:user/admin",
            "--context",
            "aws:SourceIp=203.0.113.9",
        ],
    )
    assert result.exit_code == 0, result.output
    decided = {d["id"]: d for d in map(json.loads, result.stdout.splitlines())}
    assert decided["iam:CreateAccessKey"]["decision"] == "Allow"
    assert decided["iam:DeleteUser"]["decision"] == "ImplicitDeny"


def test_simulate_assume_role_uses_the_trust_policy(gaad: Path) -> None:
    result = runner.invoke(
        app,
        [
            "iam",
            "simulate",
            "--auth-details",
            str(gaad),
            "-f",
            "json",
            "--principal",
            f"arn:aws:iam::{ACCT}:user/reader",
            "--action",
            "sts:AssumeRole",
            "--resource",
            f"arn:aws:iam::{ACCT}:role/Ops",
        ],
    )
    assert result.exit_code == 0, result.output
    # trust names the account: the reader's identity policy must allow too, and does not
    assert json.loads(result.stdout)["decision"] == "ImplicitDeny"


def test_simulate_unknown_principal_is_a_usage_error(gaad: Path) -> None:
    result = runner.invoke(
        app,
        [
            "iam",
            "simulate",
            "--auth-details",
            str(gaad),
            "--principal",
            "arn:aws:iam::1:user/ghost",
            "--action",
            "s3:*",
        ],
    )
    assert result.exit_code == EXIT_USAGE
    assert "ghost" in result.output


def test_paths_json(gaad: Path) -> None:
    result = runner.invoke(app, ["iam", "paths", "--auth-details", str(gaad), "-f", "json"])
    assert result.exit_code == 0, result.output
    paths = json.loads(result.stdout)
    by = {(p["principal"].rsplit("/", 1)[-1], p["technique"]): p for p in paths}
    keymaker = by[("keymaker", "iam-create-access-key")]
    assert keymaker["target"] == f"arn:aws:iam::{ACCT}:user/admin"
    assert keymaker["target_is_admin"] is True
    assert keymaker["path"][0]["statements"]
    assert set(keymaker["path"][0]) >= {"technique", "from", "to", "statements"}
    assert by[("assumer", "sts-assume-role")]["target"] == f"arn:aws:iam::{ACCT}:role/Ops"
    assert not any(p["principal"].endswith("user/reader") for p in paths)


def test_paths_table_and_dot(gaad: Path) -> None:
    table = runner.invoke(app, ["iam", "paths", "--auth-details", str(gaad)])
    assert table.exit_code == 0, table.output
    assert "CreateAccessKey" in table.stdout
    dot = runner.invoke(app, ["iam", "paths", "--auth-details", str(gaad), "-f", "dot"])
    assert dot.stdout.startswith("digraph escalation {")
    assert '"AssumeRole"' in dot.stdout


def test_paths_rejects_a_file_that_is_not_auth_details(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"Users": []}')
    result = runner.invoke(app, ["iam", "paths", "--auth-details", str(bad)])
    assert result.exit_code == EXIT_USAGE
    assert "x.json" in result.output


def test_paths_needs_an_input() -> None:
    result = runner.invoke(app, ["iam", "paths"])
    assert result.exit_code == EXIT_USAGE


@pytest.fixture
def org_snapshot(tmp_path: Path) -> Path:
    from tests.identity import gaad_sample as g
    from tests.identity.test_model_org import _org_snapshot

    snapshot = _org_snapshot()
    iam = g.gaad_snapshot().accounts[g.ACCOUNT]["services"]["iam"]["global"]
    snapshot.put_service(g.ACCOUNT, "iam", "global", iam)
    path = tmp_path / "snap.json.gz"
    snapshot.save(path)
    return path


def test_guardrails_table_and_json(org_snapshot: Path) -> None:
    table = runner.invoke(app, ["iam", "guardrails", "--snapshot", str(org_snapshot)])
    assert table.exit_code == 0, table.output
    assert "444455556666" in table.stdout and "missing" in table.stdout
    result = runner.invoke(
        app, ["iam", "guardrails", "--snapshot", str(org_snapshot), "-f", "json"]
    )
    reports = json.loads(result.stdout)
    member = next(r for r in reports if r["account"] == "444455556666")
    assert member["controls"] and "never_allowed" in member


def test_guardrails_without_an_organisation_is_a_usage_error(tmp_path: Path) -> None:
    from mamori.inventory import Snapshot

    path = tmp_path / "empty.json"
    Snapshot().save(path)
    result = runner.invoke(app, ["iam", "guardrails", "--snapshot", str(path)])
    assert result.exit_code == EXIT_USAGE
    assert "no organisation" in result.output


def test_access_prints_findings(org_snapshot: Path) -> None:
    result = runner.invoke(app, ["iam", "access", "--snapshot", str(org_snapshot), "-f", "json"])
    assert result.exit_code == 0, result.output
    generators = {f["generator_id"] for f in json.loads(result.stdout)}
    assert generators and all(
        g.startswith(("identity.external-access", "identity.unused")) for g in generators
    )


def test_analyze_stores_every_identity_finding(org_snapshot: Path, tmp_path: Path) -> None:
    from mamori.hub import FindingFilter, Store

    db = f"sqlite:///{tmp_path / 'hub.db'}"
    result = runner.invoke(
        app, ["iam", "analyze", "--snapshot", str(org_snapshot), "--db", db, "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    with Store.open(db) as store:
        stored = store.count(FindingFilter(source="identity"))
        (record,) = store.scans(limit=1)
    assert stored == len(printed) > 0
    assert record.kind == "identity" and record.status == "completed"
    assert any(f["generator_id"].startswith("identity.guardrail.") for f in printed)


def test_simulate_takes_the_bucket_policy_from_the_snapshot(tmp_path: Path) -> None:
    from mamori.inventory import Snapshot
    from tests.identity import gaad_sample as g

    snapshot = g.gaad_snapshot()
    bucket_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::shared/*",
            }
        ],
    }
    snapshot.put_service(
        g.ACCOUNT,
        "s3",
        "global",
        {
            "account_public_access_block": None,
            "buckets": [
                {
                    "Name": "shared",
                    "_arn": "arn:aws:s3:::shared",
                    "_name": "shared",
                    "_region": "us-east-1",
                    "Policy": json.dumps(bucket_policy),
                }
            ],
        },
    )
    path = tmp_path / "snap.json"
    snapshot.save(path)
    principal = next(
        iter(Snapshot.load(path).accounts[g.ACCOUNT]["services"]["iam"]["global"]["users"])
    )["Arn"]
    base = ["iam", "simulate", "--snapshot", str(path), "--principal", principal, "-f", "json"]
    shared = runner.invoke(
        app, [*base, "--action", "s3:GetObject", "--resource", "arn:aws:s3:::shared/report.csv"]
    )
    assert shared.exit_code == 0, shared.output
    body = json.loads(shared.stdout)
    # the bucket policy names everyone: allowed without any identity policy for S3
    assert body["decision"] == "Allow"
    assert body["decided_by"][0]["kind"] == "resource"
    other = runner.invoke(
        app, [*base, "--action", "s3:DeleteObject", "--resource", "arn:aws:s3:::shared/report.csv"]
    )
    # the bucket policy grants reads only: whatever decides a delete, it is not that policy
    assert all(d.get("kind") != "resource" for d in json.loads(other.stdout)["decided_by"])
