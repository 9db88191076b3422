"""`mamori automate ...`: response rules over new and updated findings, their audit, and what
each action does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from mamori.cli.common import (
    EXIT_RUNTIME,
    Db,
    Endpoint,
    ExternalId,
    MaxAttempts,
    Profile,
    RetryMode,
    _aws,
    _errors,
    _open_store,
    err,
    out,
)
from mamori.hub.automation.remediate import DEFAULT_REMEDIATION_ROLE

if TYPE_CHECKING:
    from mamori.hub.automation import AutomationReport


automate_app = typer.Typer(
    help="Automated response: rules matching findings, with webhook, workflow and "
    "remediation actions."
)
RulesFile = Annotated[
    Path | None, typer.Option("--rules", help="Automation rules file (YAML).", show_default=False)
]
_RESULTS = ("done", "planned", "skipped", "deferred", "failed")


@automate_app.callback(invoke_without_command=True)
def automate(
    ctx: typer.Context,
    rules: RulesFile = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Decide and record what would be done; change nothing."),
    ] = False,
    all_findings: Annotated[
        bool,
        typer.Option("--all", help="Every active finding, not only those new or updated."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
    db: Db = None,
    profile: Profile = None,
    endpoint_url: Endpoint = None,
    max_attempts: MaxAttempts = 5,
    retry_mode: RetryMode = "standard",
    role_name: Annotated[
        str, typer.Option(help="Role assumed in other accounts to remediate.")
    ] = DEFAULT_REMEDIATION_ROLE,
    external_id: ExternalId = None,
) -> None:
    """Run the rules over the findings new or updated since their last run. Exits 3 when an
    action failed (it is tried again on the next run)."""
    if ctx.invoked_subcommand is not None:
        return
    if rules is None:
        raise typer.BadParameter("give the rules file with --rules", param_hint="--rules")
    from mamori.hub.automation import AccountSessions, load_rules, run_automation

    with _errors():
        ruleset = load_rules(rules)
        sessions = AccountSessions(
            _aws(profile, endpoint_url, max_attempts, retry_mode),
            role_name=role_name,
            external_id=external_id,
        )
        store = _open_store(db)
        try:
            report = run_automation(
                store, ruleset, dry_run=dry_run, all_findings=all_findings, aws=sessions
            )
            if report.workflow_changes:
                from mamori.posture.score import record_scores

                record_scores(store, f"automation {ruleset.name}")
        finally:
            store.close()
    if as_json:
        out.print_json(json.dumps(_report_json(report)))
    else:
        _render(report)
    if report.failures:
        raise typer.Exit(EXIT_RUNTIME)


def _report_json(report: AutomationReport) -> dict[str, Any]:
    return {
        "run_id": report.run_id,
        "rules": report.rules,
        "dry_run": report.dry_run,
        "since": report.since.isoformat() if report.since else None,
        "until": report.until.isoformat(),
        "examined": report.examined,
        "repeated": report.repeated,
        "by_rule": {
            rid: {"matched": r.matched, **{k: r.results[k] for k in _RESULTS}}
            for rid, r in report.by_rule.items()
        },
        "failures": [vars(f) for f in report.failures],
    }


def _render(report: AutomationReport) -> None:
    table = Table(
        title=f"Automation {escape(report.rules)}" + (" (dry run)" if report.dry_run else "")
    )
    for name in ("rule", "matched", *_RESULTS):
        table.add_column(name, overflow="fold")
    for rid, r in report.by_rule.items():
        table.add_row(escape(rid), str(r.matched), *(str(r.results[k]) for k in _RESULTS))
    out.print(table)
    for f in report.failures[:20]:
        # Errors quote AWS and webhook answers: text, never markup.
        err.print(
            f"[red]failed[/] {escape(f.rule_id)} {escape(f.action)} on {escape(f.resource_id)}:"
            f" {escape(f.error)}",
            highlight=False,
            soft_wrap=True,
        )
    window = f"since {report.since.isoformat()}" if report.since else "all active findings"
    out.print(
        f"{report.examined} finding(s) examined ({window}); {report.repeated} action(s) already"
        f" done for the same finding content; {len(report.failures)} failed",
        highlight=False,
    )


@automate_app.command("validate")
def validate(rules: RulesFile = None) -> None:
    """Check a rules file: schema, patterns and action parameters."""
    from mamori.hub.automation import load_rules

    if rules is None:
        raise typer.BadParameter("give the rules file with --rules", param_hint="--rules")
    with _errors():
        ruleset = load_rules(rules)
    enabled = len(ruleset.enabled)
    out.print(
        f"{escape(str(rules))}: {len(ruleset.rules)} rule(s), {enabled} enabled, "
        f"name {escape(ruleset.name or '')}",
        highlight=False,
    )


@automate_app.command("actions")
def actions(
    policy: Annotated[
        bool,
        typer.Option("--policy", help="Print the IAM policy the remediation role needs."),
    ] = False,
) -> None:
    """The action types a rule can use, and what each remediation fixes and calls."""
    from mamori.hub.automation import registry

    specs = registry()
    if policy:
        calls = sorted({c for s in specs.values() for c in s.calls} | {"sts:GetCallerIdentity"})
        doc = {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "MamoriRemediation", "Effect": "Allow", "Action": calls, "Resource": "*"}
            ],
        }
        print(json.dumps(doc, indent=2))
        return
    table = Table(title="Automation actions")
    for name in ("type", "does", "resource types", "fixes checks"):
        table.add_column(name, overflow="fold")
    for spec in sorted(specs.values(), key=lambda s: (s.remediates, s.kind)):
        table.add_row(
            spec.kind,
            spec.summary,
            ", ".join(spec.resource_types) or "-",
            ", ".join(spec.fixes) or ("threat findings" if spec.remediates else "-"),
        )
    out.print(table)


@automate_app.command("audit")
def audit(
    rules_name: Annotated[
        str | None, typer.Option("--rules-name", help="Only runs of this rules file.")
    ] = None,
    rule: Annotated[str | None, typer.Option(help="Only this rule id.")] = None,
    finding: Annotated[str | None, typer.Option(help="Only this finding id.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
    db: Db = None,
) -> None:
    """The latest audit records: what each rule did, planned, skipped or failed."""
    from mamori.hub.automation import AuditLog

    with _errors():
        store = _open_store(db)
        try:
            records = AuditLog(store).records(
                rules=rules_name, rule_id=rule, finding_id=finding, limit=limit
            )
        finally:
            store.close()
    if as_json:
        rows = [{**vars(r), "at": r.at.isoformat()} for r in records]
        out.print_json(json.dumps(rows))
        return
    table = Table(title="Automation audit (newest first)")
    for name in ("at", "rule", "action", "resource", "result", "detail"):
        table.add_column(name, overflow="fold")
    for r in records:
        detail = r.detail + (f" -- {r.error}" if r.error else "")
        table.add_row(
            r.at.strftime("%Y-%m-%d %H:%M:%S"),
            escape(r.rule_id),
            escape(r.action),
            escape(r.resource_id),
            r.result + (" (dry run)" if r.dry_run else ""),
            escape(detail),
        )
    out.print(table)
