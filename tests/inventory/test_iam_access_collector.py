"""IAM Access Advisor collector: every user's and role's report, polled until finished and read
to its last page; a report that cannot be had (not emulated, unparseable, denied, failed, late)
is an unavailable marker for that principal, never an empty "used nothing"."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.parsers import ResponseParserError

from mamori.aws import AccountSession
from mamori.inventory.collectors import iam_access
from tests.inventory.collecting import ACCOUNT, fail, marker_code, moto_account, run_global

_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
_USED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
PRINCIPALS = {
    f"arn:aws:iam::{ACCOUNT}:user/ann": "ann",
    f"arn:aws:iam::{ACCOUNT}:user/bob": "bob",
    f"arn:aws:iam::{ACCOUNT}:role/app": "app",
}


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> Iterator[AccountSession]:
    monkeypatch.setattr(iam_access, "_FIRST_POLL_S", 0.01)
    with moto_account() as account:
        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_user(UserName="ann")
        iam.create_user(UserName="bob")
        iam.create_role(RoleName="app", AssumeRolePolicyDocument=_TRUST)
        yield account


def _ok(answer: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    return AWSResponse("https://iam.amazonaws.com/", 200, HTTPHeaders(), None), answer


@dataclass
class FakeAdvisor:
    """Access Advisor as AWS answers it (moto does not emulate it): each job is IN_PROGRESS for
    `polls` reads, then `status`, its two services on two pages."""

    status: str = "COMPLETED"
    polls: int = 1
    jobs: dict[str, list[Any]] = field(default_factory=dict)
    reads: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self, session: AccountSession) -> FakeAdvisor:
        # Answering in before-call short-circuits the request: botocore returns this answer.
        events = session.session.events
        events.register("before-call.iam.GenerateServiceLastAccessedDetails", self.generate)
        events.register("before-call.iam.GetServiceLastAccessedDetails", self.get)
        return self

    def generate(self, params: dict[str, Any], **_: Any) -> Any:
        with self.lock:
            job = str(uuid.UUID(int=len(self.jobs) + 1))
            self.jobs[job] = [params["body"]["Arn"], self.polls]
        return _ok({"JobId": job})

    def get(self, params: dict[str, Any], **_: Any) -> Any:
        request = params["body"]
        with self.lock:
            self.reads += 1
            job = self.jobs[request["JobId"]]
            arn, waiting = job
            job[1] -= 1
        base: dict[str, Any] = {"JobCreationDate": _USED, "ServicesLastAccessed": []}
        if waiting > 0:
            return _ok({**base, "JobStatus": "IN_PROGRESS"})
        base["JobCompletionDate"] = _USED
        if self.status != "COMPLETED":
            error = {"Code": "InternalFailure", "Message": "report could not be built"}
            return _ok({**base, "JobStatus": self.status, "Error": error})
        used = {
            "ServiceName": "Amazon S3",
            "ServiceNamespace": "s3",
            "LastAuthenticated": _USED,
            "LastAuthenticatedEntity": arn,
            "TotalAuthenticatedEntities": 1,
        }
        unused = {
            "ServiceName": "AWS IAM",
            "ServiceNamespace": "iam",
            "TotalAuthenticatedEntities": 0,
        }
        if "Marker" not in request:
            page = {"ServicesLastAccessed": [used], "IsTruncated": True, "Marker": "page-2"}
        else:
            page = {"ServicesLastAccessed": [unused], "IsTruncated": False}
        return _ok({**base, "JobStatus": "COMPLETED", **page})


def _by_arn(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["_arn"]: item for item in data["last_accessed"]}


def test_every_report_is_read_to_its_last_page(session: AccountSession) -> None:
    advisor = FakeAdvisor(polls=2).install(session)

    data, snapshot = run_global(session, "iam_access")

    assert snapshot.errors == []
    reports = _by_arn(data)
    assert {arn: r["_name"] for arn, r in reports.items()} == PRINCIPALS
    assert sorted(arn for arn, _ in advisor.jobs.values()) == sorted(PRINCIPALS)
    for arn, report in reports.items():
        assert report["JobStatus"] == "COMPLETED"
        services = report["ServicesLastAccessed"]
        assert [s["ServiceNamespace"] for s in services] == ["s3", "iam"]
        assert services[0]["LastAuthenticatedEntity"] == arn
        assert services[0]["LastAuthenticated"].startswith("2026-01-02T03:04:05")
        assert "LastAuthenticated" not in services[1]
    # Per principal: two reads while in progress, then two pages.
    assert advisor.reads == 4 * len(PRINCIPALS)


def _unparseable(**_: Any) -> None:
    # What botocore raises on moto's server answer: an HTML error page where XML belongs.
    raise ResponseParserError("Unable to parse response, invalid XML received: b'<!doctype html>'")


@pytest.mark.parametrize(
    ("stub", "code"),
    [(None, "NotImplemented"), (_unparseable, "UnparseableResponse")],
    ids=["moto-in-process", "html-error-page"],
)
def test_unreadable_reports_are_unavailable_for_each_principal(
    session: AccountSession, stub: Any, code: str
) -> None:
    asked: list[str] = []

    def generate(params: dict[str, Any], **_: Any) -> None:
        asked.append(params["body"]["Arn"])
        if stub is not None:
            stub()

    session.session.events.register("before-call.iam.GenerateServiceLastAccessedDetails", generate)

    data, snapshot = run_global(session, "iam_access")

    reports = _by_arn(data)
    assert set(reports) == set(PRINCIPALS)
    for report in reports.values():
        assert marker_code(report["JobStatus"]) == code
        assert marker_code(report["ServicesLastAccessed"]) == code
    # Such an answer does not change by asking again: one attempt for the whole account.
    assert len(asked) == 1
    assert [(e.operation, e.code) for e in snapshot.errors] == [
        ("iam:generate_service_last_accessed_details", code)
    ]


def test_failed_job_is_not_read_as_unused(session: AccountSession) -> None:
    FakeAdvisor(status="FAILED", polls=0).install(session)

    data, snapshot = run_global(session, "iam_access")

    for report in _by_arn(data).values():
        assert report["JobStatus"] == "FAILED"
        assert report["Error"]["Code"] == "InternalFailure"
        assert marker_code(report["ServicesLastAccessed"]) == "JobFailed"
    assert [(e.code, e.count) for e in snapshot.errors] == [("JobFailed", len(PRINCIPALS))]


def test_a_job_that_never_finishes_is_given_up(
    session: AccountSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(iam_access, "_JOB_DEADLINE_S", 0.05)
    advisor = FakeAdvisor(polls=10**6).install(session)

    data, _ = run_global(session, "iam_access")

    for report in _by_arn(data).values():
        assert marker_code(report["ServicesLastAccessed"]) == "ReportNotReady"
    assert advisor.reads < 20 * len(PRINCIPALS)


def test_past_the_total_deadline_no_job_is_started(
    session: AccountSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(iam_access, "_TOTAL_DEADLINE_S", 0.0)
    advisor = FakeAdvisor().install(session)

    data, _ = run_global(session, "iam_access")

    assert advisor.jobs == {}
    assert {marker_code(r["JobStatus"]) for r in data["last_accessed"]} == {"ReportNotReady"}


def test_denied_report_is_asked_once(session: AccountSession) -> None:
    refused = fail(session, "GenerateServiceLastAccessedDetails")

    data, snapshot = run_global(session, "iam_access")

    assert len(refused) == 1
    for report in _by_arn(data).values():
        assert marker_code(report["ServicesLastAccessed"]) == "AccessDenied"
    assert [(e.code, e.count) for e in snapshot.errors] == [("AccessDenied", 1)]


def test_denied_reading_stops_making_reports(session: AccountSession) -> None:
    advisor = FakeAdvisor().install(session)
    refused = fail(session, "GetServiceLastAccessedDetails")

    data, _ = run_global(session, "iam_access")

    assert len(refused) == 1
    assert len(advisor.jobs) == 1
    assert {marker_code(r["JobStatus"]) for r in data["last_accessed"]} == {"AccessDenied"}


def test_denied_role_listing_makes_the_whole_key_unavailable(session: AccountSession) -> None:
    fail(session, "ListRoles")

    data, _ = run_global(session, "iam_access")

    # Users alone would read as "these are all the principals".
    assert marker_code(data["last_accessed"]) == "AccessDenied"
