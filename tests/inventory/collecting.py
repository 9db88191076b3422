"""Shared by the collector tests: run one collector on moto the way a scan does, and make one
AWS operation fail the way AWS fails it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from mamori.aws import AccountSession, AwsOptions
from mamori.inventory import Snapshot, collect
from mamori.inventory.snapshot import GLOBAL

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
OPTIONS = AwsOptions(max_attempts=1, retry_mode="standard")
ROLE = f"arn:aws:iam::{ACCOUNT}:role/"


@contextmanager
def moto_account() -> Iterator[AccountSession]:
    with mock_aws():
        yield AccountSession(ACCOUNT, boto3.Session(region_name=REGION), OPTIONS)


def run(
    session: AccountSession, service: str, region: str = REGION
) -> tuple[dict[str, Any], Snapshot]:
    """What one collector stored for the account in `region` (GLOBAL for global ones), and
    the snapshot with its recorded errors."""
    snapshot = collect([session], [REGION], services=[service], workers=1)
    return snapshot.services(ACCOUNT)[service][region], snapshot


def run_global(session: AccountSession, service: str) -> tuple[dict[str, Any], Snapshot]:
    return run(session, service, GLOBAL)


def fail(
    session: AccountSession,
    operation: str,
    code: str = "AccessDenied",
    status: int = 403,
    when: Callable[[dict[str, Any]], bool] | None = None,
) -> list[dict[str, Any]]:
    """Make `operation` (AWS's name, e.g. "GetQueueAttributes") answer `code`, for the calls
    whose parameters satisfy `when`; returns the parameters of every call it refused."""
    refused: list[dict[str, Any]] = []

    def refuse(params: dict[str, Any], model: Any, **_: Any) -> None:
        if when is not None and not when(params):
            return
        refused.append(dict(params))
        answer: Any = {
            "Error": {"Code": code, "Message": f"{code} (test)"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        raise ClientError(answer, model.name)

    # Parameters as the caller gave them, before serialisation.
    session.session.events.register(f"before-parameter-build.*.{operation}", refuse)
    return refused


def marker_code(value: Any) -> str | None:
    """The code of an unavailable marker, None for anything else."""
    if isinstance(value, dict) and "__unavailable__" in value:
        return str(value["__unavailable__"]["code"])
    return None


def by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(i["_name"]): i for i in items}
