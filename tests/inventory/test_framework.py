"""The collector context: denials, throttling and unimplemented APIs are recorded once and
read as unavailable; undeclared calls are refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from mamori.aws import AccountSession, AwsOptions
from mamori.core import DataUnavailable
from mamori.inventory import Snapshot, is_unavailable
from mamori.inventory.framework import (
    CollectContext,
    CollectorSpec,
    UndeclaredCallError,
    parse_calls,
)
from mamori.inventory.runner import _run_task, _Task

OPTIONS = AwsOptions(max_attempts=1, retry_mode="standard")


@pytest.fixture
def session() -> Iterator[AccountSession]:
    with mock_aws():
        yield AccountSession("123456789012", boto3.Session(region_name="us-east-1"), OPTIONS)


def _ctx(session: AccountSession, calls: list[str], snap: Snapshot | None = None) -> CollectContext:
    spec = CollectorSpec("test", "regional", parse_calls(calls), lambda c: None)
    return CollectContext(spec, session, "us-east-1", "us-east-1", snap or Snapshot())


def _fail_with(session: AccountSession, operation: str, code: str, status: int) -> list[int]:
    seen: list[int] = []

    def handler(**_: Any) -> None:
        seen.append(1)
        raise ClientError(
            {
                "Error": {"Code": code, "Message": f"{code} for test"},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
            operation,
        )

    session.session.events.register(f"before-call.*.{operation}", handler)
    return seen


def test_undeclared_call_is_refused(session: AccountSession) -> None:
    ctx = _ctx(session, ["s3.list_buckets"])
    with pytest.raises(UndeclaredCallError):
        ctx.call("s3", "get_bucket_policy", Bucket="x")


def test_access_denied_is_a_marker_and_recorded_once(session: AccountSession) -> None:
    snap = Snapshot()
    ctx = _ctx(session, ["ec2.describe_volumes"], snap)
    _fail_with(session, "DescribeVolumes", "UnauthorizedOperation", 403)
    results = [ctx.paginate("ec2", "describe_volumes", "Volumes") for _ in range(5)]
    assert all(is_unavailable(r) for r in results)
    assert results[0]["__unavailable__"]["code"] == "AccessDenied"
    assert len(snap.errors) == 1
    assert snap.errors[0].count == 5
    assert snap.errors[0].operation == "ec2:describe_volumes"


def test_not_implemented_is_not_retried_per_resource(session: AccountSession) -> None:
    ctx = _ctx(session, ["s3.get_bucket_policy"])
    seen = _fail_with(session, "GetBucketPolicy", "InternalError", 500)
    for i in range(10):
        assert is_unavailable(ctx.call("s3", "get_bucket_policy", Bucket=f"b{i}"))
    assert len(seen) == 1


def test_absent_codes_read_as_none(session: AccountSession) -> None:
    s3 = session.client("s3", "us-east-1")
    s3.create_bucket(Bucket="nopolicy")
    ctx = _ctx(session, ["s3.get_bucket_policy"])
    assert (
        ctx.call("s3", "get_bucket_policy", absent=("NoSuchBucketPolicy",), Bucket="nopolicy")
        is None
    )
    # Without declaring it absent, the same answer is an error, not "nothing there".
    assert is_unavailable(ctx.call("s3", "get_bucket_policy", Bucket="nopolicy"))


def test_throttling_after_retries_is_recorded(session: AccountSession) -> None:
    snap = Snapshot()
    ctx = _ctx(session, ["ec2.describe_vpcs"], snap)
    _fail_with(session, "DescribeVpcs", "RequestLimitExceeded", 503)
    marker = ctx.paginate("ec2", "describe_vpcs", "Vpcs")
    assert marker["__unavailable__"]["code"] == "Throttled"
    assert snap.errors[0].code == "RequestLimitExceeded"


def test_pick_returns_one_key(session: AccountSession) -> None:
    ctx = _ctx(session, ["sts.get_caller_identity"])
    assert ctx.call("sts", "get_caller_identity", pick="Account") == "123456789012"


def test_a_crashed_collector_names_itself_where_its_data_is_missing(
    session: AccountSession,
) -> None:
    def half_done(ctx: CollectContext) -> None:
        ctx.put("first", [])
        raise RuntimeError("dictionary changed size during iteration")

    spec = CollectorSpec("test", "regional", parse_calls([]), half_done)
    snap = Snapshot()
    _run_task(_Task(session, spec, "us-east-1", "us-east-1"), snap)
    assert snap.data("123456789012", "test", "us-east-1", "first") == []
    with pytest.raises(DataUnavailable, match=r"RuntimeError.*collector failed: dictionary"):
        snap.data("123456789012", "test", "us-east-1", "second")
    with pytest.raises(DataUnavailable, match="NotCollected"):
        snap.data("123456789012", "test", "eu-west-1", "second")
