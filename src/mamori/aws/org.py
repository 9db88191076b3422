"""Resolve what to scan: the caller's account, or every ACTIVE account of the organisation."""

from __future__ import annotations

from dataclasses import dataclass, field

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from mamori.aws.session import (
    DEFAULT_AUDIT_ROLE,
    DEFAULT_HOME_REGION,
    AccountSession,
    AwsOptions,
    CallCounter,
    assume_role_session,
    base_session,
    caller_account,
    make_client,
)
from mamori.core import AwsAccessError


@dataclass
class Targets:
    accounts: list[AccountSession]
    # account id -> why it could not be reached; the scan reports these, it does not stop.
    unreachable: dict[str, str] = field(default_factory=dict)
    management_account: str | None = None


def org_accounts(session: boto3.Session, options: AwsOptions) -> list[dict[str, str]]:
    region = options.home_region or DEFAULT_HOME_REGION
    client = make_client(session, "organizations", region, options)
    try:
        pages = client.get_paginator("list_accounts").paginate()
        accounts = [a for page in pages for a in page["Accounts"]]
    except ClientError as exc:
        err = exc.response.get("Error", {})
        raise AwsAccessError(
            f"cannot list organisation accounts: {err.get('Code')}: "
            f"{err.get('Message')} (run from the management or a delegated "
            "administrator account)"
        ) from exc
    except BotoCoreError as exc:
        raise AwsAccessError(f"cannot list organisation accounts: {exc}") from exc
    return [
        {"Id": a["Id"], "Name": a.get("Name", "")}
        for a in accounts
        if a.get("Status", "ACTIVE") == "ACTIVE"
    ]


def resolve_targets(
    options: AwsOptions,
    *,
    org: bool = False,
    role_name: str = DEFAULT_AUDIT_ROLE,
    external_id: str | None = None,
    accounts: list[str] | None = None,
    counter: CallCounter | None = None,
) -> Targets:
    base = base_session(options, counter)
    me = caller_account(base, options)
    if not org:
        return Targets([AccountSession(me, base, options)])
    targets = Targets([], management_account=me)
    for acct in org_accounts(base, options):
        if accounts and acct["Id"] not in accounts:
            continue
        if acct["Id"] == me:
            targets.accounts.append(AccountSession(me, base, options, name=acct["Name"]))
            continue
        partition = base.get_partition_for_region(options.home_region or DEFAULT_HOME_REGION)
        role_arn = f"arn:{partition}:iam::{acct['Id']}:role/{role_name}"
        try:
            session = assume_role_session(
                base, role_arn, options, external_id=external_id, counter=counter
            )
        except AwsAccessError as exc:
            targets.unreachable[acct["Id"]] = str(exc)
            continue
        targets.accounts.append(AccountSession(acct["Id"], session, options, name=acct["Name"]))
    if not targets.accounts:
        if targets.unreachable:
            first = next(iter(targets.unreachable.values()))
            raise AwsAccessError(f"no organisation account could be reached; first: {first}")
        raise AwsAccessError(
            "cannot list organisation accounts: none is ACTIVE (is this account "
            "part of an organisation?)"
        )
    return targets
