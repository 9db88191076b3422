"""`mamori waf logs`: AWS WAF logs summed up for the operator, then the WAF detections.

Every value printed from a log (user agents, URIs, labels, rule names) is the client's or the
log writer's to choose: it is printed as plain text with control characters spelled out."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from mamori.cli.common import Db, _errors, _open_store, err, out
from mamori.cli.detect import _since
from mamori.cli.investigate_render import shown
from mamori.cli.waf import waf_app
from mamori.detect.waf_report import DEFAULT_TOP

if TYPE_CHECKING:
    from mamori.detect.waf_report import WafLogReport, WafSummary


class LogsFormat(StrEnum):
    table = "table"
    json = "json"


@waf_app.command("logs")
def logs_cmd(
    input_: Annotated[
        list[str],
        typer.Option(
            "--input", "-i", help="WAF logs: a folder, a file or s3://bucket/prefix/ (repeatable)."
        ),
    ],
    since: Annotated[str | None, typer.Option(help="Only logs from this date on.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where ingested logs are kept (mamori detect's).")
    ] = None,
    db: Db = None,
    no_store: Annotated[
        bool, typer.Option("--no-store", help="Do not write the findings to the hub.")
    ] = False,
    fmt: Annotated[LogsFormat, typer.Option("--format", "-f", help="Output format.")] = (
        LogsFormat.table
    ),
    top: Annotated[int, typer.Option(min=1, help="Rows in each top list.")] = DEFAULT_TOP,
) -> None:
    """Ingest AWS WAF logs (new files only), print requests by action, rule, client, URI,
    country, label and hour, then run the WAF detections and print their findings."""
    from mamori.detect.waf_report import waf_log_report

    with _errors():
        store = _open_store(db, not no_store)
        try:
            report = waf_log_report(
                input_, since=_since(since), data_dir=data_dir, store=store, top=top
            )
        finally:
            if store is not None:
                store.close()
    if fmt is LogsFormat.json:
        out.file.write(orjson.dumps(_document(report), option=orjson.OPT_INDENT_2).decode())
        out.file.write("\n")
    else:
        render_summary(out, report.summary)
        from mamori.cli.render import findings_table

        findings_table(out, report.run.result.findings, "WAF detections")
    ingest = report.run.ingest
    err.print(
        f"ingested {ingest.files_read} file(s) ({ingest.files_skipped} already ingested), "
        f"{ingest.records.get('waf', 0)} record(s); {len(report.run.result.findings)} finding(s)",
        highlight=False,
    )
    for message in _errors_of(report):
        err.print("[yellow]error:[/] ", shown(message), sep="", highlight=False, soft_wrap=True)


def _errors_of(report: WafLogReport) -> list[str]:
    run = report.run
    # The readers' messages name their file already; the others are given it here.
    named = [m if m.startswith(uri) else f"{uri}: {m}" for uri, m in run.ingest.errors]
    return [*named, *run.intel_errors, *run.result.errors]


def _document(report: WafLogReport) -> dict[str, Any]:
    run = report.run
    return {
        "summary": report.summary.as_dict(),
        "findings": [f.model_dump(mode="json", fallback=str) for f in run.result.findings],
        "ingest": {
            "files_read": run.ingest.files_read,
            "files_skipped": run.ingest.files_skipped,
            "records": run.ingest.records.get("waf", 0),
        },
        "errors": _errors_of(report),
    }


def _table(console: Console, title: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        return
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, justify="right" if column in ("requests", "blocked") else "left")
    for row in rows:
        table.add_row(*(shown("-" if row[c] is None else row[c]) for c in columns))
    console.print(table)


def render_summary(console: Console, s: WafSummary) -> None:
    """The summary as Rich tables, every value from the logs as plain escaped text."""
    span = f"{s.first:%Y-%m-%d %H:%M} to {s.last:%Y-%m-%d %H:%M} UTC" if s.first and s.last else ""
    console.print(shown(f"{s.requests} request(s) {span}".rstrip()))
    _table(console, "Web ACLs", s.web_acls, ["web_acl", "web_acl_id", "requests"])
    actions = [{"action": a, "requests": n} for a, n in s.by_action.items()]
    _table(console, "Requests by action", actions, ["action", "requests"])
    _table(
        console,
        "Terminating rules",
        s.by_terminating_rule,
        ["rule", "rule_type", "action", "requests"],
    )
    _table(console, "Rules that only counted", s.counted_rules, ["rule", "requests"])
    _table(
        console, "Top blocked clients", s.top_blocked_clients, ["client_ip", "country", "requests"]
    )
    _table(console, "Top blocked URIs", s.top_blocked_uris, ["uri", "requests"])
    _table(console, "Top blocked countries", s.top_blocked_countries, ["country", "requests"])
    _table(
        console, "Top blocked user agents", s.top_blocked_user_agents, ["user_agent", "requests"]
    )
    _table(console, "Top labels", s.top_labels, ["label", "requests"])
    hourly = [{**h, "hour": f"{h['hour']:%Y-%m-%d %H:00}"} for h in s.hourly]
    _table(console, "Requests per hour and host", hourly, ["hour", "host", "requests", "blocked"])
