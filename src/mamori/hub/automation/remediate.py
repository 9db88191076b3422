"""Remediation actions: boto3 calls that fix the resource a finding is about.

A remediation is registered with `@remediation(...)`, which declares the checks it makes pass,
the ASFF resource types it acts on and the IAM actions it may call (its role's policy:
`mamori automate actions --policy`). The function receives a `Remedy`: clients for the
finding's account and region, and `write()`, through which every changing call goes. In a dry
run `write()` records the call it would make and makes none; the reads that plan the change
(describe, list) are made either way, so a dry run needs only read access.

Guards shared by every remediation, in this order: the resource type must be one it handles;
a compliance finding must come from a check it fixes (a finding without a compliance status,
a threat, is taken by resource type); the finding must ask for action (failing, active) and
not be suppressed (an accepted risk is left alone).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from mamori.aws import AccountSession, AwsOptions
from mamori.aws.errors import aws_error_text
from mamori.aws.session import (
    DEFAULT_HOME_REGION,
    assume_role_session,
    base_session,
    caller_account,
)
from mamori.core import AwsAccessError, Finding, InputError, WorkflowStatus, parse_arn
from mamori.hub.automation.actions import (
    ActionContext,
    ActionParams,
    Outcome,
    action,
    deferred,
    done,
    failed,
    planned,
    skipped,
)

# The role assumed in member accounts to remediate: it needs write access, unlike the
# read-only audit role scans use.
DEFAULT_REMEDIATION_ROLE = "MamoriRemediationRole"
SESSION_NAME = "mamori-automation"
_ARGS_TEXT = 300

P = TypeVar("P", bound=ActionParams)


class NothingToDo(Exception):  # noqa: N818 - a state, not an accident
    """The resource is already as the remediation would leave it, or it cannot apply."""


class AccountSessions:
    """Sessions per account, made on first use: the caller's own account directly, any other
    by assuming `role_name` in it (as `mamori scan --org` does). A failure is remembered so
    that the findings of an unreachable account fail fast."""

    def __init__(
        self,
        options: AwsOptions,
        *,
        role_name: str = DEFAULT_REMEDIATION_ROLE,
        external_id: str | None = None,
    ) -> None:
        self.options = options
        self.role_name = role_name
        self.external_id = external_id
        self._base: Any = None
        self._me: str | None = None
        self._sessions: dict[str, AccountSession] = {}
        self._failures: dict[str, str] = {}

    def for_account(self, account_id: str) -> AccountSession:
        if account_id in self._failures:
            raise AwsAccessError(self._failures[account_id])
        if account_id not in self._sessions:
            try:
                self._sessions[account_id] = self._open(account_id)
            except AwsAccessError as exc:
                self._failures[account_id] = str(exc)
                raise
        return self._sessions[account_id]

    def _open(self, account_id: str) -> AccountSession:
        if self._base is None:
            self._base = base_session(self.options)
            self._me = caller_account(self._base, self.options)
        if account_id == self._me:
            return AccountSession(account_id, self._base, self.options)
        partition = self._base.get_partition_for_region(
            self.options.home_region or DEFAULT_HOME_REGION
        )
        role_arn = f"arn:{partition}:iam::{account_id}:role/{self.role_name}"
        session = assume_role_session(
            self._base,
            role_arn,
            self.options,
            external_id=self.external_id,
            session_name=SESSION_NAME,
        )
        return AccountSession(account_id, session, self.options)


@dataclass
class Remedy:
    """What a remediation function works with, for one finding."""

    finding: Finding
    session: AccountSession
    dry_run: bool
    calls: list[str] = field(default_factory=list)

    @property
    def region(self) -> str:
        """Where the resource lives: its own region, else the finding's, else the home one."""
        for region in (self.finding.resource.region, self.finding.region):
            if region and region != "global":
                return region
        return self.session.options.home_region or DEFAULT_HOME_REGION

    def client(self, service: str, region: str | None = None) -> Any:
        return self.session.client(service, region or self.region)

    def write(self, client: Any, method: str, **kwargs: Any) -> Any:
        """A changing call: recorded, and made unless this is a dry run."""
        operation = client.meta.method_to_api_mapping.get(method, method)
        service = client.meta.service_model.service_name
        args = json.dumps(kwargs, sort_keys=True, default=str)
        if len(args) > _ARGS_TEXT:
            args = args[: _ARGS_TEXT - 1] + "…"
        self.calls.append(f"{service}:{operation} {args}")
        if self.dry_run:
            return None
        return getattr(client, method)(**kwargs)


RemedyFn = Callable[[Finding, Any, Remedy], str]


def remediation(
    kind: str,
    params: type[P],
    *,
    summary: str,
    fixes: tuple[str, ...],
    resource_types: tuple[str, ...],
    calls: tuple[str, ...],
) -> Callable[[Callable[[Finding, P, Remedy], str]], Callable[[Finding, P, Remedy], str]]:
    """Register a remediation. Its function returns what it did in a few words, raises
    NothingToDo when there is nothing to change, and makes its changes through `write()`."""

    def wrap(fn: Callable[[Finding, P, Remedy], str]) -> Callable[[Finding, P, Remedy], str]:
        def run(finding: Finding, p: Any, ctx: ActionContext) -> Outcome:
            why = _not_applicable(finding, fixes, resource_types)
            if why:
                return skipped(why)
            if finding.workflow.status is WorkflowStatus.SUPPRESSED:
                return deferred("the finding is suppressed (an accepted risk)")
            if ctx.run.aws is None:
                return failed("no AWS session", "this run has no AWS access configured")
            try:
                session = ctx.run.aws.for_account(finding.account_id)
            except AwsAccessError as exc:
                return failed(f"reach account {finding.account_id}", str(exc))
            remedy = Remedy(finding, session, ctx.dry_run)
            try:
                what = fn(finding, p, remedy)
            except NothingToDo as exc:
                return skipped(str(exc))
            except (ClientError, BotoCoreError) as exc:
                return failed(_detail(summary, remedy.calls), aws_error_text(exc))
            if not remedy.calls:
                return skipped(what or "nothing to change")
            text = _detail(what, remedy.calls)
            return planned("would " + text) if ctx.dry_run else done(text)

        action(
            kind,
            params,
            summary=summary,
            fixes=fixes,
            resource_types=resource_types,
            calls=calls,
        )(run)
        return fn

    return wrap


def _detail(what: str, calls: list[str]) -> str:
    return f"{what}: {'; '.join(calls)}" if calls else what


def _not_applicable(
    finding: Finding, fixes: tuple[str, ...], resource_types: tuple[str, ...]
) -> str | None:
    if finding.resource.type not in resource_types:
        return f"acts on {', '.join(resource_types)}, not {finding.resource.type}"
    if finding.compliance is not None and finding.generator_id not in fixes:
        return f"does not fix check {finding.generator_id}"
    if not finding.is_failing:
        return f"the finding does not ask for action ({finding.status or 'resolved'})"
    return None


def arn_name(arn: str) -> str:
    """The last part of an ARN's resource (a bucket, trail, user or group name, an id)."""
    try:
        resource = parse_arn(arn).resource
    except InputError:
        raise NothingToDo(f"resource id {arn[:200]!r} is not an ARN") from None
    return resource.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
