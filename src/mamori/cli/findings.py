"""`mamori findings ...`: the findings in the hub: list, group, suppress, export and import."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from mamori.cli.common import (
    Db,
    Endpoint,
    Fmt,
    OutFile,
    OutputFormat,
    Profile,
    _emit,
    _errors,
    _open_store,
    _severity,
    err,
    out,
)
from mamori.core import AwsAccessError, WorkflowStatus

findings_app = typer.Typer(no_args_is_help=True, help="Findings in the hub.")


@findings_app.command("list")
def findings_list(
    severity: Annotated[
        list[str] | None, typer.Option("--severity", "-s", help="Severity label (repeatable).")
    ] = None,
    min_severity: Annotated[str | None, typer.Option(help="This severity or higher.")] = None,
    status: Annotated[
        list[str] | None, typer.Option(help="PASSED, FAILED, NOT_AVAILABLE (repeatable).")
    ] = None,
    account: Annotated[list[str] | None, typer.Option("--account")] = None,
    region: Annotated[list[str] | None, typer.Option("--region")] = None,
    check: Annotated[list[str] | None, typer.Option("--check")] = None,
    text: Annotated[str | None, typer.Option(help="Substring of title or resource.")] = None,
    workflow: Annotated[
        list[str] | None,
        typer.Option(help="NEW, NOTIFIED, SUPPRESSED, RESOLVED (repeatable)."),
    ] = None,
    archived: Annotated[bool, typer.Option(help="Include archived findings.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=100000)] = 100,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    fmt: Fmt = OutputFormat.table,
    output_file: OutFile = None,
    db: Db = None,
) -> None:
    """List findings stored in the hub."""

    from mamori.hub import FindingFilter
    from mamori.hub.query import parse_enum

    for label in [*(severity or []), *([min_severity] if min_severity else [])]:
        _severity(label)
    statuses = [s.upper() for s in status or []]
    allowed = {"PASSED", "FAILED", "WARNING", "NOT_AVAILABLE"}
    if bad := [s for s in statuses if s not in allowed]:
        raise typer.BadParameter(f"unknown status {bad[0]!r} (one of {', '.join(sorted(allowed))})")
    flt = FindingFilter(
        severity=severity,
        min_severity=min_severity,
        status=statuses or None,
        account_id=account,
        region=region,
        generator_id=check,
        text=text,
        workflow=[parse_enum(WorkflowStatus, w, "workflow status").value for w in workflow or []]
        or None,
        record_state=None if archived else "ACTIVE",
    )
    with _errors():
        store = _open_store(db)
        try:
            found = store.list_findings(flt, limit=limit, offset=offset)
            total = store.count(flt)
            # Suppressed findings stay listed, and are counted apart.
            suppressed = WorkflowStatus.SUPPRESSED.value
            muted = (
                store.count(replace(flt, workflow=[suppressed]))
                if not flt.workflow or suppressed in flt.workflow
                else 0
            )
        finally:
            store.close()
        _emit(found, fmt, output_file, f"Findings ({len(found)} of {total}; {muted} suppressed)")


@findings_app.command("export")
def findings_export(
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="json, asff, ocsf, csv or sarif.")
    ] = "json",
    output_file: OutFile = None,
    severity: Annotated[list[str] | None, typer.Option("--severity", "-s")] = None,
    workflow: Annotated[
        list[str] | None, typer.Option(help="Workflow status (repeatable).")
    ] = None,
    archived: Annotated[bool, typer.Option(help="Include archived findings.")] = False,
    db: Db = None,
) -> None:
    """Write the stored findings in an export format (all of them, page by page)."""
    from mamori.exports import FORMATS
    from mamori.hub import FindingFilter

    if fmt.strip().lower() not in FORMATS:
        raise typer.BadParameter(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    flt = FindingFilter(
        severity=severity or None,
        workflow=workflow or None,
        record_state=None if archived else "ACTIVE",
    )
    with _errors():
        store = _open_store(db)
        try:
            _emit(
                list(_all_findings(store, flt)), OutputFormat(fmt.strip().lower()), output_file, ""
            )
        finally:
            store.close()


def _all_findings(store: Any, flt: Any, page: int = 1000) -> Iterator[Any]:
    offset = 0
    while True:
        found = store.list_findings(flt, limit=page, offset=offset, order="first_observed_at")
        yield from found
        offset += len(found)
        if len(found) < page:
            return


@findings_app.command("import")
def findings_import(
    path: Annotated[Path, typer.Argument(help="The report to import.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="sarif (SAST) or zap (OWASP ZAP JSON report).")
    ] = "sarif",
    account: Annotated[
        str, typer.Option(help="Account the application belongs to (12 digits).")
    ] = "000000000000",
    db: Db = None,
) -> None:
    """Import application security results as findings of their own product."""
    from rich.markup import escape

    from mamori.exports.sarif import read_sarif
    from mamori.exports.zap import read_zap

    readers = {"sarif": read_sarif, "zap": read_zap}
    read = readers.get(fmt.strip().lower())
    if read is None:
        raise typer.BadParameter(f"unknown import format {fmt!r} (one of: {', '.join(readers)})")
    with _errors():
        imported = read(path, account_id=account)
        store = _open_store(db)
        try:
            stats = store.write(imported.findings)
        finally:
            store.close()
    for reason in imported.skipped[:20]:
        err.print(f"[yellow]skipped[/] {escape(str(path))}: {escape(reason)}", highlight=False)
    out.print(
        f"{len(imported.findings)} finding(s) imported ({stats.inserted} new, {stats.updated}"
        f" updated), {len(imported.skipped)} skipped",
        highlight=False,
    )


@findings_app.command("push-securityhub")
def findings_push_securityhub(
    region: Annotated[
        list[str] | None,
        typer.Option("--region", "-r", help="Push the findings homed here (repeatable)."),
    ] = None,
    only_failed: Annotated[
        bool, typer.Option("--only-failed", help="Only findings that ask for action.")
    ] = False,
    archive_stale: Annotated[
        bool, typer.Option(help="Archive Mamori's findings Security Hub still holds as active.")
    ] = True,
    profile: Profile = None,
    endpoint_url: Endpoint = None,
    db: Db = None,
) -> None:
    """Import the stored findings into AWS Security Hub (BatchImportFindings)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from mamori.exports.securityhub import CLIENT_CONFIG, push
    from mamori.hub import FindingFilter

    def client_for(name: str) -> Any:
        session = boto3.Session(profile_name=profile)
        return session.client(
            "securityhub", region_name=name, endpoint_url=endpoint_url, config=CLIENT_CONFIG
        )

    with _errors():
        store = _open_store(db)
        try:
            # Archived findings go too: Security Hub is told they are archived.
            found = list(_all_findings(store, FindingFilter(record_state=None)))
        finally:
            store.close()
        chosen = [f for f in found if f.is_failing] if only_failed else found
        try:
            report = push(chosen, client_for, regions=region, archive_stale=archive_stale)
        except (BotoCoreError, ClientError) as exc:
            raise AwsAccessError(f"Security Hub: {exc}") from None
    for fid, why in report.failed[:20]:
        err.print(f"[yellow]refused[/] {fid}: {escape(why)}", highlight=False)
    out.print(
        f"{report.imported} imported, {report.archived_stale} stale archived,"
        f" {len(report.failed)} refused, in {', '.join(report.regions) or 'no region'}",
        highlight=False,
    )


@findings_app.command("insights")
def findings_insights(
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="account, region, resource_type, check, severity, status, workflow, source,"
            " type (ASFF finding type), tactic (ATT&CK)",
        ),
    ],
    status: Annotated[
        list[str] | None, typer.Option(help="Compliance status to keep (repeatable).")
    ] = None,
    workflow: Annotated[
        list[str] | None, typer.Option(help="Workflow status to keep (repeatable).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
    db: Db = None,
) -> None:
    """Active findings grouped by one field, with counts (Security Hub's insights)."""
    from rich.markup import escape
    from rich.table import Table

    from mamori.hub import FindingFilter

    flt = FindingFilter(status=status or None, workflow=workflow or None)
    with _errors():
        store = _open_store(db)
        try:
            groups = store.insights(by, flt, limit=limit)
        finally:
            store.close()
    if as_json:
        rows = [
            {
                "value": g.value,
                "count": g.count,
                "high_or_worse": g.high_or_worse,
                "worst": g.worst.value,
            }
            for g in groups
        ]
        out.print_json(json.dumps(rows))
        return
    table = Table(title=f"Findings by {by}")
    for name in (by, "findings", "high or worse", "worst"):
        table.add_column(name, overflow="fold")
    for g in groups:
        # Values come from findings, some of them from logs: text, never markup.
        table.add_row(escape(g.value or "-"), str(g.count), str(g.high_or_worse), g.worst.value)
    out.print(table)


@findings_app.command("suppress")
def findings_suppress(
    rule: Annotated[Path, typer.Option("--rule", help="Mutelist file (YAML): suppression rules.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would change; change nothing.")
    ] = False,
    db: Db = None,
) -> None:
    """Suppress the findings the mutelist's rules match (and reopen those a rule suppressed that
    none in force matches any more)."""
    from datetime import UTC, datetime

    from mamori.hub.mutelist import apply_mutelist, load_mutelist

    with _errors():
        mutelist = load_mutelist(rule)
        store = _open_store(db)
        try:
            report = apply_mutelist(
                store, mutelist, today=datetime.now(UTC).date(), dry_run=dry_run
            )
            if not dry_run and (report.reopened or any(report.suppressed.values())):
                _rescore(store, f"mutelist {rule.name}")
        finally:
            store.close()
    verb = "would be" if dry_run else "were"
    for rid, n in sorted(report.suppressed.items()):
        out.print(f"{rid}: {n} finding(s) {verb} suppressed", highlight=False)
    if report.expired:
        out.print(f"expired, not applied: {', '.join(report.expired)}", highlight=False)
    out.print(
        f"{sum(report.suppressed.values())} suppressed, {report.reopened} reopened,"
        f" {report.examined} findings examined" + (" (dry run)" if dry_run else ""),
        highlight=False,
    )


@findings_app.command("workflow")
def findings_workflow(
    finding_ids: Annotated[list[str], typer.Argument(help="Finding ids to change.")],
    status: Annotated[str, typer.Option("--status", help="NEW, NOTIFIED, SUPPRESSED or RESOLVED.")],
    note: Annotated[str | None, typer.Option(help="Why: kept in the finding's history.")] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Who decides (default: the login name).")
    ] = None,
    db: Db = None,
) -> None:
    """Set the workflow status of findings, as a person's decision kept in their history."""
    import getpass

    actor = by or getpass.getuser()
    with _errors():
        store = _open_store(db)
        try:
            for fid in finding_ids:
                store.set_workflow(fid, status, by=actor, note=note)
            _rescore(store, f"workflow set by {actor}")
        finally:
            store.close()
    out.print(f"{len(finding_ids)} finding(s) set to {status.upper()}", highlight=False)


def _rescore(store: Any, reason: str) -> None:
    """Workflow changes move the scores (suppressed failures count as accepted): a new point."""
    from mamori.posture.score import record_scores

    record_scores(store, reason)
