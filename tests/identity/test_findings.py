"""Escalation results as hub findings, and an identity run stored as its own scan."""

from __future__ import annotations

from typing import Any

from mamori.hub import FindingFilter, Store
from mamori.identity.analyze import analyze
from mamori.identity.findings import ADMINISTRATOR, ESCALATION, INCOMPLETE, path_findings
from mamori.identity.model import model_from_auth_details
from mamori.identity.paths import analyze_paths
from mamori.identity.store import store_identity_findings
from tests.identity import gaad_sample as g

ACCT = g.ACCOUNT


def _model(extra_user: dict | None = None) -> Any:
    users = [
        g.user_entry("root-like", g.document(g.allow("*"))),
        g.user_entry("keys", g.document(g.allow("iam:CreateAccessKey", f"{g.IAM}:user/root-like"))),
        g.user_entry(
            "unknown",
            g.document(g.allow("s3:GetObject")),
            managed=("arn:aws:iam::aws:policy/PowerUserAccess",),
        ),
    ]
    if extra_user:
        users.append(extra_user)
    gaad = {"UserDetailList": users, "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    return model_from_auth_details(gaad, "test")


def test_escalation_admin_and_incomplete_findings() -> None:
    findings = {(f.generator_id, f.resource.id): f for f in path_findings(analyze_paths(_model()))}
    escalation = findings[(ESCALATION, f"arn:aws:iam::{ACCT}:user/keys")]
    assert escalation.severity.label.value == "CRITICAL"  # one hop to an administrator
    assert escalation.status is not None and escalation.status.value == "FAILED"
    assert escalation.evidence["paths"][0]["technique"] == "iam-create-access-key"
    assert {m.tactic for m in escalation.mitre} == {"TA0004 Privilege Escalation"}
    assert (ADMINISTRATOR, f"arn:aws:iam::{ACCT}:user/root-like") in findings
    incomplete = findings[(INCOMPLETE, f"arn:aws:iam::{ACCT}:user/unknown")]
    assert incomplete.status is not None and incomplete.status.value == "NOT_AVAILABLE"
    assert "PowerUserAccess" in incomplete.description
    assert not any(k[0] == ESCALATION and k[1].endswith("root-like") for k in findings)


def test_a_fixed_path_is_archived_by_the_next_identity_run() -> None:
    with Store.open("sqlite://") as store:
        run = analyze(None, _model(), analyses=("paths",))
        store_identity_findings(store, run, None)
        assert store.count(FindingFilter(generator_id=[ESCALATION])) == 1
        fixed = _model()
        account = fixed.accounts[ACCT]
        del account.users[f"arn:aws:iam::{ACCT}:user/keys"]
        store_identity_findings(store, analyze(None, fixed, analyses=("paths",)), None)
        assert store.count(FindingFilter(generator_id=[ESCALATION])) == 0
        assert store.count(FindingFilter(generator_id=[ESCALATION], record_state=None)) == 1
