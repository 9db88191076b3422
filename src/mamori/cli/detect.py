"""`mamori detect ...`: threat detection over CloudTrail, VPC Flow Logs, DNS and WAF logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mamori.cli.common import (
    Db,
    Fmt,
    ListFormat,
    OutFile,
    OutputFormat,
    _emit,
    _errors,
    _open_store,
    err,
    out,
)
from mamori.core import InputError

detect_app = typer.Typer(help="Threat detection over AWS logs (GuardDuty's job).")
rules_app = typer.Typer(no_args_is_help=True, help="The detections Mamori runs.")
detect_app.add_typer(rules_app, name="rules")
sigma_app = typer.Typer(no_args_is_help=True, help="Sigma rules for CloudTrail.")
detect_app.add_typer(sigma_app, name="sigma")


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


Locations = Annotated[list[str] | None, typer.Option(help="Folder or s3://bucket/prefix/.")]


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"--since {text!r}: expected a date such as 2026-11-01") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# GuardDuty's publishing frequencies for updated findings, and "every run".
_CADENCES = {
    "0": None,
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
}


def _cadence(text: str) -> timedelta | None:
    if text not in _CADENCES:
        raise InputError(f"--update-every {text!r}: expected one of {', '.join(_CADENCES)}")
    return _CADENCES[text]


@detect_app.callback(invoke_without_command=True)
def detect(
    ctx: typer.Context,
    cloudtrail: Locations = None,
    vpc_flow: Locations = None,
    dns: Locations = None,
    waf: Annotated[
        list[str] | None, typer.Option(help="AWS WAF logs: folder or s3://bucket/prefix/.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Only logs from this date on.")] = None,
    intel: Annotated[
        list[Path] | None, typer.Option(help="Threat list: TXT, STIX 2.1 JSON or OTX CSV.")
    ] = None,
    trusted_ips: Annotated[
        list[Path] | None, typer.Option(help="Trusted IP list (wins over threat lists).")
    ] = None,
    tor_exit_list: Annotated[Path | None, typer.Option(help="Tor exit node IPs.")] = None,
    mmdb: Annotated[
        list[Path] | None,
        typer.Option(help="MMDB country or ASN database (MaxMind, DB-IP, IPinfo; repeatable)."),
    ] = None,
    aws_ip_ranges: Annotated[
        Path | None, typer.Option(help="AWS's ip-ranges.json (tells AWS addresses apart).")
    ] = None,
    learning_days: Annotated[
        float,
        typer.Option(min=0, help="Days of a principal's history before its behaviour is judged."),
    ] = 7.0,
    rule: Annotated[
        list[str] | None, typer.Option("--rule", help="Only this finding type (repeatable).")
    ] = None,
    sigma: Annotated[
        list[Path] | None,
        typer.Option("--sigma", help="Sigma rule file or folder of .yml to run too (repeatable)."),
    ] = None,
    sigma_only: Annotated[
        bool, typer.Option("--sigma-only", help="Run the --sigma rules without built-in ones.")
    ] = False,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where ingested logs are kept (Parquet).")
    ] = None,
    memory_limit: Annotated[
        str | None,
        typer.Option(help="Memory limit for the rules (DuckDB) and for ingest, e.g. 2GB."),
    ] = None,
    engine: Annotated[
        Engine, typer.Option(help="Where the rules run: DuckDB in-process, or Apache Spark.")
    ] = Engine.duckdb,
    spark_master: Annotated[
        str, typer.Option(help="Spark master with --engine spark: local[*], spark://host:7077...")
    ] = "local[*]",
    fmt: Fmt = OutputFormat.table,
    output_file: OutFile = None,
    db: Db = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not write the hub.")] = False,
    update_every: Annotated[
        str,
        typer.Option(
            help="Rewrite known findings in the hub at most this often: 0 (every run), 15m, 1h,"
            " 6h. New findings are written at once."
        ),
    ] = "15m",
) -> None:
    """Ingest the logs (only files not read before), run every detection, store and print the
    findings."""
    if ctx.invoked_subcommand is not None:
        return
    from mamori.detect.run import DetectRequest, run_detect

    with _errors():
        if not (cloudtrail or vpc_flow or dns or waf or data_dir):
            raise InputError(
                "give --cloudtrail, --vpc-flow, --dns or --waf (or --data-dir with logs ingested"
                " before)"
            )
        req = DetectRequest(
            cloudtrail=cloudtrail or [],
            vpc_flow=vpc_flow or [],
            dns=dns or [],
            waf=waf or [],
            intel=intel or [],
            trusted_ips=trusted_ips or [],
            tor_exit_list=tor_exit_list,
            rules=_builtin_rules(rule, sigma, sigma_only),
            sigma=sigma or [],
            since=_since(since),
            data_dir=data_dir,
            memory_limit=memory_limit,
            engine=engine.value,
            spark_master=spark_master,
            update_every=_cadence(update_every),
            mmdb=mmdb or [],
            aws_ip_ranges=aws_ip_ranges,
            learning=timedelta(days=learning_days),
        )
        store = _open_store(db, not no_store)
        try:
            run = run_detect(req, store)
        finally:
            if store is not None:
                store.close()
        _emit(run.result.findings, fmt, output_file, "Threat findings")
        report = run.ingest
        err.print(
            f"ingested {report.files_read} file(s) ({report.files_skipped} already ingested), "
            f"{sum(report.records.values())} record(s); rules saw "
            + ", ".join(f"{n} {t}" for t, n in run.result.rows.items())
            + f"; {len(run.result.findings)} finding(s) in {run.result.seconds:.1f}s"
        )
        if run.stored is not None:
            st = run.stored
            err.print(
                f"hub: {st.inserted} new, {st.updated} updated, {st.deferred} update(s) deferred"
                f" (--update-every {update_every})"
            )
        # The readers' messages name their file already; the others are given it here.
        named = [m if m.startswith(uri) else f"{uri}: {m}" for uri, m in report.errors]
        for message in [*named, *run.intel_errors, *run.result.errors]:
            err.print(f"[yellow]error:[/] {_esc(message)}", highlight=False)


def _builtin_rules(
    rule: list[str] | None, sigma: list[Path] | None, sigma_only: bool
) -> list[str] | None:
    if not sigma_only:
        return rule
    if not sigma:
        raise InputError("--sigma-only needs --sigma")
    if rule:
        raise InputError("--sigma-only runs no built-in rule: drop --rule or --sigma-only")
    return []


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(str(text))


@rules_app.command("list")
def rules_list(
    fmt: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.table,
) -> None:
    """Every detection: finding type, severity, data source and ATT&CK technique."""
    import json

    from mamori.detect.findings import severity_label
    from mamori.detect.rules.base import rules

    chosen = rules()
    if fmt is ListFormat.json:
        out.print_json(
            json.dumps(
                [
                    {
                        "finding_type": r.finding_type,
                        "severity": r.severity,
                        "severity_label": severity_label(r.severity).value,
                        "data_source": r.data_source,
                        "tactic": r.tactic,
                        "technique_id": r.technique_id,
                        "technique": r.technique,
                        "title": r.title,
                        "description": r.description,
                        "remediation": r.remediation,
                    }
                    for r in chosen
                ]
            )
        )
        return
    if fmt is ListFormat.markdown:
        print("| Finding type | Severity | Data source | ATT&CK | Title |")
        print("| --- | --- | --- | --- | --- |")
        for r in chosen:
            print(
                f"| `{r.finding_type}` | {r.severity:.1f} | {r.data_source} | "
                f"{r.technique_id} | {r.title.replace('|', '/')} |"
            )
        return
    from rich.table import Table

    table = Table(title=f"{len(chosen)} detections")
    for col in ("finding type", "severity", "source", "ATT&CK", "title"):
        table.add_column(col, overflow="fold")
    for r in chosen:
        table.add_row(
            _esc(r.finding_type),
            f"{r.severity:.1f} {severity_label(r.severity).value}",
            r.data_source,
            f"{r.technique_id} {_esc(r.technique)}",
            _esc(r.title),
        )
    out.print(table)


class SigmaFormat(StrEnum):
    sql = "sql"
    json = "json"


@sigma_app.command("convert")
def sigma_convert(
    paths: Annotated[list[Path], typer.Argument(help="Sigma rule files or folders of .yml.")],
    fmt: Annotated[SigmaFormat, typer.Option("--format", "-f")] = SigmaFormat.sql,
) -> None:
    """Convert Sigma rules to Mamori detections: print each rule's SQL (or a JSON report of
    converted and refused rules). Exit code 2 if any rule was refused."""
    from mamori.detect.sigma import import_sigma
    from mamori.detect.sigma.report import report_json, report_sql

    with _errors():
        imported = import_sigma(paths)
    if fmt is SigmaFormat.json:
        out.print_json(report_json(imported))
    else:
        print(report_sql(imported))
    for message in imported.messages():
        err.print(f"[yellow]{_esc(message)}[/]", highlight=False, soft_wrap=True)
    err.print(f"{len(imported.converted)} converted, {len(imported.refused)} refused")
    if imported.refused:
        raise typer.Exit(2)
