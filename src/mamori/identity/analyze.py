"""Every identity analysis over one inventory, as Findings for the hub: escalation paths,
administrators, external access, unused access, SCP guardrails and policy lints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from mamori.core import Finding, InputError
from mamori.identity.model import IdentityModel
from mamori.identity.paths import PathReport, analyze_paths
from mamori.inventory import Snapshot

# What identity analysis reads from an inventory, beyond what posture checks need.
IDENTITY_SERVICES = (
    "iam",
    "iam_access",
    "organizations",
    "lambda",
    "ec2",
    "cloudformation",
    "codebuild",
    "glue",
    "sagemaker",
    "ecs",
    "autoscaling",
    "s3",
    "kms",
    "sqs",
    "sns",
    "secretsmanager",
    "ecr",
    "efs",
    "rds",
)
ANALYSES = ("paths", "external", "unused", "guardrails", "lint")
ACCESS_ADVISOR = "iam_access"  # the collector of IAM Access Advisor's last-accessed data


@dataclass
class IdentityRun:
    findings: list[Finding] = field(default_factory=list)
    paths: PathReport | None = None
    model: IdentityModel | None = None


def load_model(auth_details: Path | None, snapshot: Snapshot | None) -> IdentityModel:
    """The identity model from GAAD output, a snapshot, or both (GAAD's IAM data replaces the
    snapshot's for the accounts it covers; workloads and the organisation come from the
    snapshot)."""
    from mamori.identity.model import load_auth_details, model_from_snapshot

    if auth_details is None and snapshot is None:
        raise InputError("give --auth-details and/or --snapshot")
    if snapshot is None:
        assert auth_details is not None
        return load_auth_details(auth_details)
    model = model_from_snapshot(snapshot)
    if auth_details is None:
        return model
    gaad = load_auth_details(auth_details)
    for account_id, account in gaad.accounts.items():
        known = model.accounts.get(account_id)
        if known is not None:
            account.workloads = known.workloads
            account.name = account.name or known.name
        model.accounts[account_id] = account
    return model


def analyze(
    snapshot: Snapshot | None,
    model: IdentityModel,
    *,
    analyses: tuple[str, ...] = ANALYSES,
    window_days: int = 90,
    now: datetime | None = None,
    max_paths: int | None = 50,
) -> IdentityRun:
    run = IdentityRun(model=model)
    steps: dict[str, Callable[[], list[Finding]]] = {
        "paths": lambda: _paths(run, model, max_paths),
        "external": lambda: _external(model, snapshot),
        "unused": lambda: _unused(model, snapshot, window_days, now),
        "guardrails": lambda: _guardrails(model),
        "lint": lambda: _lint(model),
    }
    for name in analyses:
        if name not in steps:
            raise InputError(f"unknown identity analysis {name!r} (one of {', '.join(ANALYSES)})")
        run.findings.extend(steps[name]())
    return run


def _paths(run: IdentityRun, model: IdentityModel, max_paths: int | None) -> list[Finding]:
    from mamori.identity.findings import path_findings

    run.paths = analyze_paths(model, max_paths=max_paths)
    return path_findings(run.paths)


def _external(model: IdentityModel, snapshot: Snapshot | None) -> list[Finding]:
    from mamori.identity.external import external_access, external_findings

    return external_findings(external_access(model, snapshot))


def _unused(
    model: IdentityModel, snapshot: Snapshot | None, window_days: int, now: datetime | None
) -> list[Finding]:
    from mamori.identity.unused import unused_access

    return unused_access(model, snapshot, window_days=window_days, now=now)


def _guardrails(model: IdentityModel) -> list[Finding]:
    from mamori.identity.guardrails import guardrail_findings, guardrails

    return guardrail_findings(guardrails(model))


def _lint(model: IdentityModel) -> list[Finding]:
    from mamori.identity.lint import lint_model

    return lint_model(model)
