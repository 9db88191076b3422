"""Automation actions: a registry of callables taking a Finding, filled by a decorator.

Each action kind has a stable id (`webhook`, `suppress`, `s3.block_public_access`...), a strict
pydantic model of its parameters (`type` is the kind, unknown keys are errors) and a function
`(finding, params, ctx) -> Outcome`. The rules file names the kind in `type:`; the registry
builds the schema the rules are validated against. Remediations register through
`mamori.hub.automation.remediate`, which adds what they fix and which API calls they make.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mamori.core import Finding, WorkflowStatus
from mamori.hub.store import Store

if TYPE_CHECKING:
    from mamori.hub.automation.remediate import AccountSessions

# Who changed a finding's workflow, as its history shows it: "automation:<rule id>".
AUTOMATION_ACTOR = "automation:"
# done; planned (a dry run); skipped (nothing to do: not repeated while the finding says the
# same); deferred (not now: a suppressed finding, an earlier action failed; tried again next
# run); failed (tried again next run).
Status = Literal["done", "planned", "skipped", "deferred", "failed"]


@dataclass(frozen=True)
class Outcome:
    """What an action did, and in a few words what or why."""

    status: Status
    detail: str
    error: str | None = None


def done(detail: str) -> Outcome:
    return Outcome("done", detail)


def planned(detail: str) -> Outcome:
    return Outcome("planned", detail)


def skipped(why: str) -> Outcome:
    return Outcome("skipped", why)


def deferred(why: str) -> Outcome:
    return Outcome("deferred", why)


def failed(detail: str, error: str) -> Outcome:
    return Outcome("failed", detail, error)


@dataclass
class RunResources:
    """What every action of one run shares: the store, AWS sessions (only when a rule
    remediates), and the environment secrets are read from."""

    store: Store
    aws: AccountSessions | None = None
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


@dataclass
class ActionContext:
    rule_id: str
    dry_run: bool
    run: RunResources

    @property
    def actor(self) -> str:
        return AUTOMATION_ACTOR + self.rule_id


class ActionParams(BaseModel):
    """Base of every action's parameters; subclasses narrow `type` to their kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str


ActionFn = Callable[[Finding, Any, ActionContext], Outcome]


@dataclass(frozen=True)
class ActionSpec:
    kind: str
    params: type[ActionParams]
    fn: ActionFn
    summary: str
    # Remediations only: the checks they make pass, the resource types they act on, the API
    # calls they may make (reads and writes) -- what their IAM policy must allow.
    fixes: tuple[str, ...] = ()
    resource_types: tuple[str, ...] = ()
    calls: tuple[str, ...] = ()

    @property
    def remediates(self) -> bool:
        return bool(self.resource_types)


ACTIONS: dict[str, ActionSpec] = {}


def action(
    kind: str,
    params: type[ActionParams],
    *,
    summary: str,
    fixes: tuple[str, ...] = (),
    resource_types: tuple[str, ...] = (),
    calls: tuple[str, ...] = (),
) -> Callable[[ActionFn], ActionFn]:
    """Register an action kind; its params model must take `type: Literal[kind]`."""

    def wrap(fn: ActionFn) -> ActionFn:
        if kind in ACTIONS:
            raise ValueError(f"action {kind!r} registered twice")
        tag = params.model_fields["type"].annotation
        if tag is str or kind not in getattr(tag, "__args__", ()):
            raise ValueError(f"{params.__name__}.type must be Literal[{kind!r}]")
        ACTIONS[kind] = ActionSpec(kind, params, fn, summary, fixes, resource_types, calls)
        return fn

    return wrap


def registry() -> dict[str, ActionSpec]:
    """Every action kind, built-in modules loaded."""
    from mamori.hub.automation import remediations, webhook  # noqa: F401 - they register

    return ACTIONS


# -- workflow actions ----------------------------------------------------------------------------


class SuppressParams(ActionParams):
    type: Literal["suppress"]
    reason: str = Field(min_length=1, max_length=1000)


class SetWorkflowParams(ActionParams):
    type: Literal["set_workflow"]
    status: WorkflowStatus
    note: str | None = Field(default=None, max_length=1000)


def _decided_by_others(finding: Finding, ctx: ActionContext) -> bool:
    """A suppression made by a person or a mutelist rule: automation leaves it alone."""
    workflow = finding.workflow
    return workflow.status is WorkflowStatus.SUPPRESSED and not (
        workflow.updated_by or ""
    ).startswith(AUTOMATION_ACTOR)


def _set(finding: Finding, status: WorkflowStatus, note: str, ctx: ActionContext) -> Outcome:
    if finding.workflow.status is status:
        return skipped(f"already {status.value}")
    if _decided_by_others(finding, ctx):
        return deferred(f"suppressed by {finding.workflow.updated_by or 'a person'}; left as is")
    detail = f"workflow {finding.workflow.status.value} -> {status.value}"
    if ctx.dry_run:
        return planned(detail)
    ctx.run.store.set_workflow(finding.id, status, by=ctx.actor, note=note)
    return done(detail)


@action("suppress", SuppressParams, summary="Suppress the finding, with a reason.")
def suppress(finding: Finding, params: SuppressParams, ctx: ActionContext) -> Outcome:
    if finding.workflow.status is WorkflowStatus.RESOLVED:
        return skipped("resolved: nothing to suppress")
    return _set(finding, WorkflowStatus.SUPPRESSED, f"{params.reason} (rule {ctx.rule_id})", ctx)


@action("set_workflow", SetWorkflowParams, summary="Set the finding's workflow status.")
def set_workflow(finding: Finding, params: SetWorkflowParams, ctx: ActionContext) -> Outcome:
    note = params.note or f"set by automation rule {ctx.rule_id}"
    return _set(finding, params.status, note, ctx)
