"""`mamori netfw test`: what a Network Firewall policy would have done to logged traffic."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from mamori.cli.common import _errors, err, out

netfw_app = typer.Typer(no_args_is_help=True, help="Network Firewall policies.")


class NetfwFormat(StrEnum):
    table = "table"
    json = "json"


_COUNTS = ("matched", "passed", "dropped", "rejected", "alerted", "undetermined")


@netfw_app.command("test")
def netfw_test(
    policy: Annotated[
        Path, typer.Option(help="describe-firewall-policy output (JSON), rule groups optional.")
    ],
    rule_group: Annotated[
        list[Path] | None,
        typer.Option(
            "--rule-group", help="describe-rule-group output, or a folder of them (repeatable)."
        ),
    ] = None,
    flows: Annotated[
        list[str] | None, typer.Option("--flows", help="VPC Flow Logs file or folder (repeatable).")
    ] = None,
    dns: Annotated[
        list[str] | None,
        typer.Option("--dns", help="Route 53 Resolver query logs file or folder (repeatable)."),
    ] = None,
    home_net: Annotated[
        list[str] | None,
        typer.Option(
            "--home-net",
            help="HOME_NET CIDR when the policy sets none (repeatable; default RFC 1918).",
        ),
    ] = None,
    fmt: Annotated[NetfwFormat, typer.Option("--format", "-f")] = NetfwFormat.table,
) -> None:
    """Evaluate a firewall policy against VPC flow logs and DNS query logs: what would have been
    passed, dropped or alerted, per rule, and findings for the dropped and alerted traffic."""
    from mamori.core import InputError
    from mamori.perimeter.netfw import evaluate, load_policy

    with _errors():
        if not flows and not dns:
            raise InputError("give --flows and/or --dns: the logs to evaluate the policy against")
        compiled = load_policy(policy, rule_group or [], home_net=home_net)
        report = evaluate(compiled, flow_locations=flows or [], dns_locations=dns or [])
    if fmt is NetfwFormat.json:
        print(json.dumps(report.as_dict(), default=str))
        return
    for source, rows in report.rules.items():
        _rules_table(source, rows, report.totals.get(source, {}))
    if report.findings:
        from mamori.cli.render import findings_table

        findings_table(out, report.findings, "Network Firewall findings")
    for warning in report.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    for problem in report.problems:
        err.print(f"[yellow]skipped:[/] {escape(problem)}", highlight=False, soft_wrap=True)


def _rules_table(source: str, rows: list[dict[str, Any]], totals: dict[str, int]) -> None:
    title = "Flow records" if source == "flows" else "Names resolved (as TLS/HTTP/DNS connections)"
    summary = ", ".join(f"{escape(k)} {v}" for k, v in totals.items())
    table = Table(title=f"{title}: {summary}", title_justify="left")
    table.add_column("Rule")
    table.add_column("Engine")
    table.add_column("Action")
    for name in _COUNTS:
        table.add_column(name.capitalize(), justify="right")
    table.add_column("Description")
    for row in rows:
        table.add_row(
            escape(row["rule"]),
            row["engine"],
            escape(row["action"]),
            *(str(row[name]) for name in _COUNTS),
            escape(row["description"][:60]),
        )
    out.print(table)
