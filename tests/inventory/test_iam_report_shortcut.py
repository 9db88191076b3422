"""Programmatic users (no console password, no MFA in the credential report) cost no per-user
login-profile or MFA calls; everyone else is asked."""

from __future__ import annotations

import boto3
from moto import mock_aws

from mamori.aws import AccountSession, AwsOptions, CallCounter
from mamori.inventory import collect


def test_credential_report_spares_per_user_calls_for_programmatic_users() -> None:
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        for i in range(5):
            iam.create_user(UserName=f"bot-{i}")
        iam.create_user(UserName="human")
        iam.create_login_profile(UserName="human", Password="Correct-Horse-9!")
        counter = CallCounter()
        session = boto3.Session(region_name="us-east-1")
        session.events.register("before-call", counter)
        account = AccountSession("123456789012", session, AwsOptions(max_attempts=1))
        snap = collect([account], ["us-east-1"], services=["iam"])
    users = {u["UserName"]: u for u in snap.data("123456789012", "iam", "global", "users")}
    assert users["human"]["LoginProfile"] is not None
    assert users["bot-0"]["LoginProfile"] is None
    assert users["bot-0"]["MFADevices"] == []
    assert counter.by_operation["iam:GetLoginProfile"] == 1
    assert counter.by_operation["iam:ListMFADevices"] == 1
    # Keys are still listed for everyone: inactive keys are not in the report's flags.
    assert counter.by_operation["iam:ListAccessKeys"] == 6
