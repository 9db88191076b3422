"""Scenario harness: every check is exercised on moto with a passing and a failing resource.

A scenario builds AWS state through boto3 (as a user would), then states which resources must
come out PASSED and which FAILED. `test_checks.py` runs each one through the real collector,
snapshot and engine path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto.backends import get_backend

from mamori.aws import AccountSession, AwsOptions
from mamori.inventory.runner import select_collectors

MAIN_ACCOUNT = "123456789012"
OPTIONS = AwsOptions(max_attempts=2, retry_mode="standard")


@dataclass
class Env:
    """AWS accounts inside one `mock_aws` context; `label` names an account."""

    regions: list[str] = field(default_factory=lambda: ["us-east-1"])
    sessions: dict[str, AccountSession] = field(default_factory=dict)
    expected: dict[str, list[tuple[str, str]]] = field(
        default_factory=lambda: {"PASSED": [], "FAILED": [], "NOT_AVAILABLE": []}
    )

    def session(self, label: str = "main") -> AccountSession:
        if label not in self.sessions:
            if label == "main":
                sess = boto3.Session(region_name="us-east-1")
                self.sessions[label] = AccountSession(MAIN_ACCOUNT, sess, OPTIONS)
            else:
                account = f"{200000000000 + len(self.sessions)}"
                creds = boto3.client("sts", region_name="us-east-1").assume_role(
                    RoleArn=f"arn:aws:iam::{account}:role/test",
                    RoleSessionName="scenario",
                )["Credentials"]
                sess = boto3.Session(
                    aws_access_key_id=creds["AccessKeyId"],
                    aws_secret_access_key=creds["SecretAccessKey"],
                    aws_session_token=creds["SessionToken"],
                    region_name="us-east-1",
                )
                self.sessions[label] = AccountSession(account, sess, OPTIONS)
        return self.sessions[label]

    def warm_backends(self, services: list[str]) -> None:
        """Create moto's per-region backends before a threaded collect: moto builds them
        lazily, and a listing that walks every region of an account (CloudTrail's shadow
        trails) fails with "dictionary changed size" if another thread adds one meanwhile."""
        calls = {c.service for s in select_collectors(services) for c in s.calls}
        for name in sorted(calls):
            try:
                backends = get_backend(name)  # type: ignore[arg-type]
            except (ModuleNotFoundError, KeyError):  # no moto backend for it
                continue
            for sess in self.sessions.values():
                per_region = backends[sess.account_id]
                for region in [*self.regions, "aws"]:
                    if region in per_region.regions:
                        per_region[region]

    def account(self, label: str = "main") -> str:
        return self.session(label).account_id

    def client(self, service: str, label: str = "main", region: str = "us-east-1") -> Any:
        return self.session(label).session.client(service, region_name=region)

    def amend(
        self, service: str, operation: str, fn: Callable[[dict[str, Any], dict[str, Any]], None]
    ) -> None:
        """Edit AWS's parsed answer where moto lacks a feature (fn(parsed, request_params)).

        Used only for settings moto cannot store (S3 MFA Delete, for one); the answer is
        shaped exactly as AWS documents it, and the collector parses it as usual."""
        for label in ("main", *[k for k in self.sessions if k != "main"]):
            events = self.session(label).session.events

            def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
                context["scenario_params"] = dict(params)

            def edit(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
                fn(parsed, context.get("scenario_params", {}))

            events.register(f"before-parameter-build.{service}.{operation}", remember)
            events.register(f"after-call.{service}.{operation}", edit)

    # -- expectations ----------------------------------------------------------------------------

    def expect(self, status: str, resource_id: str, label: str = "main") -> None:
        self.expected[status].append((self.account(label), resource_id))

    def passes(self, resource_id: str, label: str = "main") -> None:
        self.expect("PASSED", resource_id, label)

    def fails(self, resource_id: str, label: str = "main") -> None:
        self.expect("FAILED", resource_id, label)

    def unavailable(self, resource_id: str, label: str = "main") -> None:
        self.expect("NOT_AVAILABLE", resource_id, label)

    def account_arn(self, label: str = "main") -> str:
        return f"arn:aws:iam::{self.account(label)}:root"

    def region_arn(self, label: str = "main", region: str = "us-east-1") -> str:
        return f"arn:aws:mamori:{region}:{self.account(label)}:account-region"


Scenario = Callable[[Env], None]
SCENARIOS: dict[str, Scenario] = {}


def scenario(*check_ids: str) -> Callable[[Scenario], Scenario]:
    """Register one setup for one or more checks (each must get a PASSED and a FAILED)."""

    def wrap(fn: Scenario) -> Scenario:
        for cid in check_ids:
            if cid in SCENARIOS:
                raise ValueError(f"scenario for {cid} defined twice")
            SCENARIOS[cid] = fn
        return fn

    return wrap
