"""Unused access: each scenario with a twin on the other side of the window, unavailable data
as NOT_AVAILABLE, and a snapshot collected from moto."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from mamori.core import ComplianceStatus, Finding, InputError, SeverityLabel
from mamori.identity.model import model_from_auth_details, model_from_snapshot
from mamori.identity.unused import (
    UNUSED_KEY,
    UNUSED_PASSWORD,
    UNUSED_ROLE,
    UNUSED_SERVICES,
    unused_access,
)
from mamori.inventory import GLOBAL, Snapshot, collect
from mamori.inventory.snapshot import unavailable
from tests.inventory.collecting import ACCOUNT as MOTO_ACCOUNT
from tests.inventory.collecting import REGION, moto_account

ACCOUNT = "111111111111"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
DENIED = unavailable("AccessDenied", "not allowed")


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def user_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


def role_arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ACCOUNT}:role{path}{name}"


def user(name: str, *, keys: Any = (), profile: Any = None, created: float = 1000) -> dict:
    return {
        "UserName": name,
        "UserId": f"AIDA{name.upper()}",
        "Arn": user_arn(name),
        "Path": "/",
        "CreateDate": ago(created),
        "AccessKeys": list(keys) if isinstance(keys, tuple | list) else keys,
        "MFADevices": [],
        "LoginProfile": profile,
    }


def key(
    key_id: str,
    *,
    created: float,
    last_used: float | None,
    status: str = "Active",
    last: Any = None,
) -> dict:
    used = (
        last
        if last is not None
        else (
            {"LastUsedDate": ago(last_used), "ServiceName": "s3", "Region": "us-east-1"}
            if last_used is not None
            else {"ServiceName": "N/A", "Region": "N/A"}
        )
    )
    return {"AccessKeyId": key_id, "Status": status, "CreateDate": ago(created), "LastUsed": used}


def role(
    name: str,
    *,
    created: float,
    last_used: float | None,
    path: str = "/",
    raw_last: Any = "default",
) -> dict:
    out = {
        "RoleName": name,
        "RoleId": f"AROA{name.upper()}",
        "Arn": role_arn(name, path),
        "Path": path,
        "CreateDate": ago(created),
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
    }
    if raw_last == "default":
        out["RoleLastUsed"] = {"LastUsedDate": ago(last_used)} if last_used is not None else {}
    elif raw_last is not None:
        out["RoleLastUsed"] = raw_last
    return out


def report_row(name: str, *, password_last_used: str, changed: float = 1000) -> dict:
    return {
        "user": name,
        "arn": user_arn(name),
        "password_enabled": "true",
        "password_last_used": password_last_used,
        "password_last_changed": ago(changed),
        "user_creation_time": ago(changed),
        "mfa_active": "false",
    }


def snapshot(
    *, users: Any = (), roles: Any = (), report: Any = None, advisor: Any = "absent"
) -> Snapshot:
    snap = Snapshot()
    snap.put_service(
        ACCOUNT,
        "iam",
        GLOBAL,
        {
            "users": list(users),
            "groups": [],
            "policies": [],
            "roles": list(roles),
            "credential_report": report if report is not None else [],
        },
    )
    if advisor != "absent":
        snap.put_service(ACCOUNT, "iam_access", GLOBAL, {"last_accessed": advisor})
    return snap


def run(snap: Snapshot, window: float = 90) -> list[Finding]:
    return unused_access(model_from_snapshot(snap), snap, window_days=window, now=NOW)


def of(findings: list[Finding], generator: str) -> dict[str, Finding]:
    return {f.resource.id: f for f in findings if f.generator_id == generator}


def status(finding: Finding) -> ComplianceStatus:
    assert finding.compliance is not None
    return finding.compliance.status


# -- access keys ---------------------------------------------------------------------------------


def test_key_unused_100_days_fails_and_10_days_passes() -> None:
    snap = snapshot(
        users=[
            user("alice", keys=[key("AKIAOLD", created=400, last_used=100)]),
            user("bob", keys=[key("AKIANEW", created=400, last_used=10)]),
        ]
    )
    found = of(run(snap), UNUSED_KEY)
    assert status(found["AKIAOLD"]) is ComplianceStatus.FAILED
    assert found["AKIAOLD"].severity.label is SeverityLabel.MEDIUM
    assert found["AKIAOLD"].evidence["days_unused"] == 100
    assert [r.id for r in found["AKIAOLD"].resources] == ["AKIAOLD", user_arn("alice")]
    assert status(found["AKIANEW"]) is ComplianceStatus.PASSED
    assert found["AKIANEW"].severity.label is SeverityLabel.INFORMATIONAL


def test_key_never_used_counts_only_once_older_than_the_window() -> None:
    snap = snapshot(
        users=[
            user(
                "alice",
                keys=[
                    key("AKIAOLD", created=100, last_used=None),
                    key("AKIANEW", created=10, last_used=None),
                ],
            )
        ]
    )
    found = of(run(snap), UNUSED_KEY)
    assert status(found["AKIAOLD"]) is ComplianceStatus.FAILED
    assert "never used" in found["AKIAOLD"].description
    assert status(found["AKIANEW"]) is ComplianceStatus.PASSED


def test_inactive_keys_are_not_judged() -> None:
    snap = snapshot(
        users=[user("alice", keys=[key("AKIAOFF", created=400, last_used=300, status="Inactive")])]
    )
    assert of(run(snap), UNUSED_KEY) == {}


def test_the_window_is_configurable() -> None:
    snap = snapshot(users=[user("alice", keys=[key("AKIA1", created=400, last_used=60)])])
    assert status(of(run(snap, window=30), UNUSED_KEY)["AKIA1"]) is ComplianceStatus.FAILED
    assert status(of(run(snap, window=90), UNUSED_KEY)["AKIA1"]) is ComplianceStatus.PASSED


def test_unreadable_keys_are_not_available_never_unused() -> None:
    snap = snapshot(
        users=[
            user("alice", keys=DENIED),
            user("bob", keys=[key("AKIABOB", created=400, last_used=None, last=DENIED)]),
        ]
    )
    found = of(run(snap), UNUSED_KEY)
    alice = found[user_arn("alice")]
    assert status(alice) is ComplianceStatus.NOT_AVAILABLE
    assert "alice" in alice.description and "AccessDenied" in alice.description
    assert status(found["AKIABOB"]) is ComplianceStatus.NOT_AVAILABLE
    assert "bob" in found["AKIABOB"].title


# -- console passwords ---------------------------------------------------------------------------


PROFILE = {"UserName": "x", "CreateDate": ago(500)}


def test_password_unused_and_used() -> None:
    snap = snapshot(
        users=[
            user("alice", profile=PROFILE),
            user("bob", profile=PROFILE),
            user("carol", profile=PROFILE),
            user("dave", profile=None),
        ],
        report=[
            report_row("alice", password_last_used=ago(200)),
            report_row("bob", password_last_used=ago(5)),
            report_row("carol", password_last_used="no_information"),
        ],
    )
    found = of(run(snap), UNUSED_PASSWORD)
    assert status(found[user_arn("alice")]) is ComplianceStatus.FAILED
    assert found[user_arn("alice")].severity.label is SeverityLabel.MEDIUM
    assert status(found[user_arn("bob")]) is ComplianceStatus.PASSED
    carol = found[user_arn("carol")]
    assert status(carol) is ComplianceStatus.FAILED and "never used" in carol.description
    assert user_arn("dave") not in found  # no console password at all


def test_password_never_used_but_new_is_not_unused() -> None:
    snap = snapshot(
        users=[user("erin", profile={"CreateDate": ago(3)}, created=3)],
        report=[report_row("erin", password_last_used="no_information", changed=3)],
    )
    assert status(of(run(snap), UNUSED_PASSWORD)[user_arn("erin")]) is ComplianceStatus.PASSED


def test_password_use_unknown_when_the_credential_report_is_unreadable() -> None:
    snap = snapshot(users=[user("alice", profile=PROFILE)], report=DENIED)
    finding = of(run(snap), UNUSED_PASSWORD)[user_arn("alice")]
    assert status(finding) is ComplianceStatus.NOT_AVAILABLE
    assert "credential report" in finding.description


# -- roles ---------------------------------------------------------------------------------------


def test_role_unused_100_days_and_used_10_days() -> None:
    snap = snapshot(
        roles=[
            role("old", created=500, last_used=100),
            role("busy", created=500, last_used=10),
            role("never", created=200, last_used=None),
            role("fresh", created=5, last_used=None),
        ]
    )
    found = of(run(snap), UNUSED_ROLE)
    assert status(found[role_arn("old")]) is ComplianceStatus.FAILED
    assert found[role_arn("old")].severity.label is SeverityLabel.LOW
    assert status(found[role_arn("busy")]) is ComplianceStatus.PASSED
    assert status(found[role_arn("never")]) is ComplianceStatus.FAILED
    assert status(found[role_arn("fresh")]) is ComplianceStatus.PASSED


def test_service_linked_roles_are_left_out() -> None:
    snap = snapshot(
        roles=[
            role(
                "AWSServiceRoleForSupport",
                created=900,
                last_used=None,
                path="/aws-service-role/support.amazonaws.com/",
            )
        ]
    )
    assert of(run(snap), UNUSED_ROLE) == {}


def test_role_without_role_last_used_is_not_available() -> None:
    snap = snapshot(
        roles=[
            role("quiet", created=500, last_used=None, raw_last=None),
            role("hidden", created=500, last_used=None, raw_last=DENIED),
        ]
    )
    found = of(run(snap), UNUSED_ROLE)
    assert status(found[role_arn("quiet")]) is ComplianceStatus.NOT_AVAILABLE
    assert status(found[role_arn("hidden")]) is ComplianceStatus.NOT_AVAILABLE
    assert "hidden" in found[role_arn("hidden")].description


# -- services (Access Advisor) ------------------------------------------------------------------


def advice(arn: str, *services: tuple[str, float | None]) -> dict:
    return {
        "_arn": arn,
        "JobStatus": "COMPLETED",
        "ServicesLastAccessed": [
            {
                "ServiceNamespace": ns,
                "ServiceName": ns.upper(),
                "TotalAuthenticatedEntities": 0 if days is None else 1,
                **({"LastAuthenticated": ago(days)} if days is not None else {}),
            }
            for ns, days in services
        ],
    }


def test_services_not_accessed_in_the_window() -> None:
    snap = snapshot(
        roles=[role("app", created=500, last_used=1), role("tidy", created=500, last_used=1)],
        advisor=[
            advice(role_arn("app"), ("s3", 5), ("ec2", 200), ("iam", None)),
            advice(role_arn("tidy"), ("s3", 5), ("sqs", 30)),
        ],
    )
    found = of(run(snap), UNUSED_SERVICES)
    app = found[role_arn("app")]
    assert status(app) is ComplianceStatus.FAILED
    assert app.severity.label is SeverityLabel.LOW
    assert [u["service"] for u in app.evidence["unused_services"]] == ["ec2", "iam"]
    assert status(found[role_arn("tidy")]) is ComplianceStatus.PASSED


def test_never_accessed_services_of_a_new_principal_are_not_unused() -> None:
    snap = snapshot(
        roles=[role("new", created=10, last_used=None)],
        advisor=[advice(role_arn("new"), ("s3", None), ("ec2", None))],
    )
    assert status(of(run(snap), UNUSED_SERVICES)[role_arn("new")]) is ComplianceStatus.PASSED


def test_unavailable_access_advisor_reports_name_the_principal() -> None:
    snap = snapshot(
        roles=[role("app", created=500, last_used=1), role("gone", created=500, last_used=1)],
        advisor=[{"_arn": role_arn("app"), "JobStatus": DENIED, "ServicesLastAccessed": DENIED}],
    )
    found = of(run(snap), UNUSED_SERVICES)
    assert status(found[role_arn("app")]) is ComplianceStatus.NOT_AVAILABLE
    assert "app" in found[role_arn("app")].description
    assert status(found[role_arn("gone")]) is ComplianceStatus.NOT_AVAILABLE
    assert "no IAM Access Advisor report" in found[role_arn("gone")].description


def test_access_advisor_not_collected_is_one_account_level_gap() -> None:
    snap = snapshot(roles=[role("app", created=500, last_used=1)])
    [gap] = [f for f in run(snap) if f.generator_id == UNUSED_SERVICES]
    assert status(gap) is ComplianceStatus.NOT_AVAILABLE
    assert gap.resource.type == "AwsAccount"
    assert "iam_access" in gap.description


# -- inputs without credentials, bad options -----------------------------------------------------


def test_a_gaad_model_without_a_snapshot_judges_roles_it_can_and_says_what_it_cannot() -> None:
    gaad = {
        "UserDetailList": [
            {"UserName": "alice", "UserId": "AIDA1", "Arn": user_arn("alice"), "Path": "/"}
        ],
        "RoleDetailList": [
            role("old", created=500, last_used=100),
            role("unknown", created=500, last_used=None),
        ],
    }
    findings = unused_access(model_from_auth_details(gaad, "gaad.json"), None, now=NOW)
    roles = of(findings, UNUSED_ROLE)
    assert status(roles[role_arn("old")]) is ComplianceStatus.FAILED
    assert status(roles[role_arn("unknown")]) is ComplianceStatus.NOT_AVAILABLE
    for generator in (UNUSED_KEY, UNUSED_PASSWORD, UNUSED_SERVICES):
        [gap] = [f for f in findings if f.generator_id == generator]
        assert status(gap) is ComplianceStatus.NOT_AVAILABLE


@pytest.mark.parametrize("window", [0, -5, float("nan"), True, "90"])
def test_bad_window_is_an_input_error(window: Any) -> None:
    with pytest.raises(InputError, match="window_days"):
        unused_access(model_from_snapshot(snapshot()), None, window_days=window)


def test_finding_ids_are_stable_and_distinct() -> None:
    snap = snapshot(
        users=[user("alice", profile=PROFILE, keys=[key("AKIA1", created=400, last_used=100)])],
        report=[report_row("alice", password_last_used=ago(200))],
        roles=[role("old", created=500, last_used=100)],
    )
    first = sorted(f.id for f in run(snap))
    assert first == sorted(f.id for f in run(snap))
    assert len(set(first)) == len(first)


@settings(max_examples=50, deadline=None)
@given(days_unused=hs.integers(0, 1000), window=hs.integers(1, 500))
def test_a_key_is_unused_exactly_when_older_than_the_window(days_unused: int, window: int) -> None:
    snap = snapshot(users=[user("alice", keys=[key("AKIA1", created=2000, last_used=days_unused)])])
    found = of(run(snap, window=window), UNUSED_KEY)["AKIA1"]
    expected = ComplianceStatus.FAILED if days_unused > window else ComplianceStatus.PASSED
    assert status(found) is expected


# -- on moto -------------------------------------------------------------------------------------


def test_collected_from_moto() -> None:
    with moto_account() as session:
        iam = boto3.client("iam", region_name=REGION)
        iam.create_user(UserName="alice")
        iam.create_login_profile(UserName="alice", Password="Correct-Horse-9-Battery")
        created_key = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
        iam.create_role(RoleName="app", AssumeRolePolicyDocument="{}")
        snap = collect([session], [REGION], services=["iam", "iam_access"], workers=1)
    model = model_from_snapshot(snap)
    collected = datetime.fromisoformat(snap.collected_at)
    soon = unused_access(model, snap, now=collected + timedelta(days=10))
    later = unused_access(model, snap, now=collected + timedelta(days=100))
    alice = f"arn:aws:iam::{MOTO_ACCOUNT}:user/alice"
    app = f"arn:aws:iam::{MOTO_ACCOUNT}:role/app"
    assert status(of(soon, UNUSED_KEY)[created_key]) is ComplianceStatus.PASSED
    assert status(of(later, UNUSED_KEY)[created_key]) is ComplianceStatus.FAILED
    assert status(of(later, UNUSED_PASSWORD)[alice]) is ComplianceStatus.FAILED
    assert status(of(later, UNUSED_ROLE)[app]) is ComplianceStatus.FAILED
    # moto does not emulate Access Advisor: every principal is NOT_AVAILABLE, never unused.
    services = of(later, UNUSED_SERVICES)
    assert {status(f) for f in services.values()} == {ComplianceStatus.NOT_AVAILABLE}
    assert {alice, app} <= set(services)
