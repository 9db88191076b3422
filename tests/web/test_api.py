"""The JSON API over a filled store: filters, paging, details, workflow and scores."""

from __future__ import annotations

from mamori.core import WorkflowStatus
from tests.web.conftest import Site
from tests.web.data import CIS, PUBLIC_CHECK, USER, XSS


def test_findings_filter_by_lowercase_severity_with_paging(site: Site) -> None:
    site.login()
    page = site.client.get("/api/findings", params={"severity": "high", "limit": 2}).json()
    assert page["total"] >= 3
    assert len(page["items"]) == 2
    assert {f["severity"] for f in page["items"]} == {"HIGH"}
    rest = site.client.get(
        "/api/findings", params={"severity": "high", "limit": 2, "offset": 2}
    ).json()
    first_ids = {f["id"] for f in page["items"]}
    assert not first_ids & {f["id"] for f in rest["items"]}, "pages overlap"
    assert rest["total"] == page["total"]


def test_findings_filters_combine_and_order(site: Site) -> None:
    site.login()
    got = site.client.get(
        "/api/findings",
        params=[("check", PUBLIC_CHECK), ("status", "FAILED"), ("order", "account_id")],
    ).json()
    assert [f["account_id"] for f in got["items"]] == ["111111111111", "222222222222"]
    assert all(f["status"] == "FAILED" for f in got["items"])
    texts = site.client.get("/api/findings", params={"text": "public-2"}).json()
    assert [f["resource_id"] for f in texts["items"]] == ["arn:aws:s3:::public-2"]


def test_bad_query_values_are_refused_with_422(site: Site) -> None:
    site.login()
    for params in ({"order": "-password"}, {"severity": "bad"}, {"limit": 0}, {"limit": 501}):
        answer = site.client.get("/api/findings", params=params)
        assert answer.status_code == 422, params
    assert site.client.get("/api/insights", params={"by": "nope"}).status_code == 422


def test_finding_detail_and_404(site: Site) -> None:
    site.login()
    detail = site.client.get(f"/api/findings/{site.filled.public_bucket}").json()
    assert detail["finding"]["generator_id"] == PUBLIC_CHECK
    assert detail["history"] == []
    assert site.client.get("/api/findings/mamori-nothing").status_code == 404


def test_workflow_change_keeps_history_and_moves_the_score(site: Site) -> None:
    csrf = site.login()

    def cis_score() -> float:
        scores = {s["standard"]: s for s in site.client.get("/api/overview").json()["scores"]}
        return float(scores[CIS]["percent"])

    before = cis_score()
    ids = [
        f["id"]
        for f in site.client.get(
            "/api/findings", params={"check": PUBLIC_CHECK, "status": "FAILED"}
        ).json()["items"]
    ]
    answer = site.client.post(
        "/api/findings/workflow",
        json={"ids": [*ids, "mamori-missing"], "status": "suppressed", "note": "accepted risk"},
        headers={"X-CSRF-Token": csrf},
    )
    assert answer.status_code == 200, answer.text
    assert sorted(answer.json()["updated"]) == sorted(ids)
    assert answer.json()["missing"] == ["mamori-missing"]
    history = site.client.get(f"/api/findings/{ids[0]}").json()["history"]
    assert [(h["to_status"], h["by"], h["note"]) for h in history] == [
        ("SUPPRESSED", USER, "accepted risk")
    ]
    # A suppressed failure is an accepted risk: the control passes, the score rises.
    assert cis_score() > before
    trend = site.client.get("/api/scores/history", params={"standard": CIS}).json()
    assert trend[-1]["reason"] == f"workflow change by {USER}"
    # Reopening brings the score back.
    site.client.post(
        "/api/findings/workflow",
        json={"ids": ids, "status": WorkflowStatus.NEW.value},
        headers={"X-CSRF-Token": csrf},
    )
    assert cis_score() == before


def test_overview_counts_and_groups(site: Site) -> None:
    site.login()
    data = site.client.get("/api/overview").json()
    assert data["active"] > data["actionable"] > 0
    severities = [g["value"] for g in data["by_severity"]]
    assert severities == sorted(severities, key=["CRITICAL", "HIGH", "MEDIUM", "LOW"].index)
    assert {g["value"] for g in data["by_source"]} >= {"posture", "identity", "detect"}
    assert data["top_failing"][0]["check_id"] == "s3.bucket_mfa_delete_enabled"
    assert data["top_failing"][0]["failing"] == 60
    assert {f["source"] for f in data["recent_threats"]} == {"detect"}


def test_compliance_of_a_standard(site: Site) -> None:
    site.login()
    data = site.client.get(f"/api/compliance/{CIS}").json()
    control = next(c for c in data["controls"] if PUBLIC_CHECK in c["checks"])
    assert control["status"] == "FAILED"
    assert control["failing_accounts"] == ["111111111111", "222222222222"]
    assert control["failing_resources"] == 2
    assert site.client.get("/api/compliance/no-such-standard").status_code == 404


def test_escalation_graph_of_an_identity_finding(site: Site) -> None:
    site.login()
    data = site.client.get(f"/api/identity/escalations/{site.filled.escalation}").json()
    nodes = {n["label"]: n for n in data["graph"]["nodes"]}
    assert nodes["user/keys"]["kind"] == "root"
    assert nodes["user/root-like"]["kind"] == "admin"
    assert nodes["user/root-like"]["x"] > nodes["user/keys"]["x"]
    [edge] = data["graph"]["edges"]
    assert edge["label"] == "CreateAccessKey"
    missing = site.client.get(f"/api/identity/escalations/{site.filled.public_bucket}")
    assert missing.status_code == 404


def test_threat_timeline_lanes(site: Site) -> None:
    site.login()
    data = site.client.get("/api/threats").json()
    assert data["total"] == 2
    assert "TA0007 Discovery" in data["lanes"]
    assert all(0 <= p["x"] <= p["x_end"] <= data["width"] for p in data["points"])


def test_hostile_text_comes_back_as_data(site: Site) -> None:
    site.login()
    detail = site.client.get(f"/api/findings/{site.filled.hostile_import}").json()
    assert detail["finding"]["title"] == XSS
    assert (
        site.client.get(f"/api/findings/{site.filled.hostile_import}")
        .headers["content-type"]
        .startswith("application/json")
    )
