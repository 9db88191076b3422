from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from mamori.aws import AwsOptions, CallCounter, resolve_targets
from mamori.core import AwsAccessError


@pytest.fixture
def org() -> Iterator[list[str]]:
    with mock_aws():
        client = boto3.client("organizations", region_name="us-east-1")
        client.create_organization(FeatureSet="ALL")
        ids = []
        for name in ("prod", "dev"):
            status = client.create_account(AccountName=name, Email=f"{name}@example.com")
            ids.append(status["CreateAccountStatus"]["AccountId"])
        yield ids


def test_single_account_uses_the_credential_chain() -> None:
    with mock_aws():
        targets = resolve_targets(AwsOptions())
    assert [t.account_id for t in targets.accounts] == ["123456789012"]


def test_org_fan_out_assumes_the_role_in_each_member(org: list[str]) -> None:
    counter = CallCounter()
    targets = resolve_targets(
        AwsOptions(), org=True, role_name="OrganizationAccountAccessRole", counter=counter
    )
    got = sorted(t.account_id for t in targets.accounts)
    assert got == sorted(["123456789012", *org])
    for target in targets.accounts:
        ident = target.client("sts", "us-east-1").get_caller_identity()
        assert ident["Account"] == target.account_id
        if target.account_id != "123456789012":
            assert ":assumed-role/OrganizationAccountAccessRole/" in ident["Arn"]
    assert counter.by_operation.get("organizations:ListAccounts") == 1
    assert counter.total >= 3


def test_org_scan_can_be_restricted_to_accounts(org: list[str]) -> None:
    targets = resolve_targets(AwsOptions(), org=True, accounts=[org[0]])
    assert [t.account_id for t in targets.accounts] == [org[0]]


def test_org_scan_outside_an_organisation_explains(monkeypatch: pytest.MonkeyPatch) -> None:
    with mock_aws(), pytest.raises(AwsAccessError, match="cannot list organisation accounts"):
        resolve_targets(AwsOptions(), org=True)


def test_missing_credentials_are_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
    ):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(AwsAccessError, match="no AWS credentials"):
        resolve_targets(AwsOptions(endpoint_url="http://127.0.0.1:9"))


def test_unknown_profile_is_a_clear_error() -> None:
    with pytest.raises(AwsAccessError, match="nosuchprofile"):
        resolve_targets(AwsOptions(profile="nosuchprofile"))
