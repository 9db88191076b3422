"""The rule files the server was started with: the mutelist (suppression rules) and the
automation rules, with the automation audit log. Files are read on each request, so edits show
without a restart; an invalid file is reported, not applied."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mamori.core import InputError, WorkflowStatus
from mamori.hub import FindingFilter, Store
from mamori.hub.mutelist import Mutelist, apply_mutelist, load_mutelist
from mamori.web import schemas as s


def _today() -> datetime:
    return datetime.now(UTC)


def _load(path: Path | None) -> Mutelist:
    if path is None:
        raise InputError("no mutelist: start the server with --mutelist FILE to manage one here")
    return load_mutelist(path)


def mutelist_view(store: Store, path: Path | None) -> s.MutelistOut:
    today = _today().date()
    mutelist = _load(path) if path is not None else Mutelist(rules=[])
    rules = [
        s.MuteRule(
            id=r.id,
            reason=r.reason,
            owner=r.owner,
            expires=r.expires.isoformat() if r.expires else None,
            in_force=r.in_force(today),
            match=r.match.model_dump(by_alias=True, exclude_none=True),
        )
        for r in mutelist.rules
    ]
    return s.MutelistOut(
        source=path.name if path is not None else None,
        rules=rules,
        suppressed=store.count(FindingFilter(workflow=[WorkflowStatus.SUPPRESSED.value])),
    )


def apply_rules(store: Store, path: Path | None, *, by: str, dry_run: bool) -> s.MuteReportOut:
    report = apply_mutelist(store, _load(path), today=_today().date(), by=by, dry_run=dry_run)
    if not dry_run and (report.suppressed or report.reopened):
        from mamori.posture.score import record_scores

        record_scores(store, f"mutelist applied by {by}")
    return s.MuteReportOut(
        dry_run=dry_run,
        suppressed=report.suppressed,
        reopened=report.reopened,
        expired=report.expired,
        examined=report.examined,
    )


def _redacted(params: dict[str, Any]) -> dict[str, Any]:
    from mamori.hub.automation.webhook import redact

    # A webhook URL carries its token in the path: never shown whole.
    return {k: redact(v) if k == "url" and isinstance(v, str) else v for k, v in params.items()}


def automation_view(store: Store, path: Path | None, *, limit: int = 100) -> s.AutomationOut:
    from mamori.hub.automation import AuditLog, load_rules

    ruleset = load_rules(path) if path is not None else None
    rules = [
        s.AutomationRule(
            id=r.id,
            description=r.description,
            enabled=r.enabled,
            pattern=r.pattern,
            actions=[_redacted(a.model_dump(mode="json", exclude_none=True)) for a in r.actions],
        )
        for r in (ruleset.rules if ruleset else [])
    ]
    audit = [
        s.AuditEntry(
            at=a.at,
            run_id=a.run_id,
            rules=a.rules,
            rule_id=a.rule_id,
            action=a.action,
            finding_id=a.finding_id,
            account_id=a.account_id,
            resource_id=a.resource_id,
            dry_run=a.dry_run,
            result=a.result,
            detail=a.detail,
            error=a.error,
        )
        for a in AuditLog(store).records(limit=limit)
    ]
    return s.AutomationOut(
        source=path.name if path else None,
        name=ruleset.name if ruleset else None,
        rules=rules,
        audit=audit,
    )
