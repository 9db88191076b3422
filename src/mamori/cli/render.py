"""Rich rendering for the CLI. Every string that came from AWS or a file is printed as text
(`rich.markup.escape`), never interpreted as markup: resource names are attacker-controlled."""

from __future__ import annotations

from collections.abc import Iterable

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mamori.core import ComplianceStatus, Finding, SeverityLabel
from mamori.posture.registry import CheckSpec
from mamori.posture.standards import Standard, controls_of
from mamori.posture.summary import Score, Summary

SEVERITY_STYLE = {
    SeverityLabel.CRITICAL: "bold white on red",
    SeverityLabel.HIGH: "bold red",
    SeverityLabel.MEDIUM: "yellow",
    SeverityLabel.LOW: "cyan",
    SeverityLabel.INFORMATIONAL: "dim",
}
STATUS_STYLE = {
    ComplianceStatus.FAILED: "bold red",
    ComplianceStatus.PASSED: "green",
    ComplianceStatus.WARNING: "yellow",
    ComplianceStatus.NOT_AVAILABLE: "magenta",
}


def _sev(label: SeverityLabel) -> str:
    return f"[{SEVERITY_STYLE[label]}]{label.value}[/]"


def _status(f: Finding) -> str:
    if f.compliance is None:
        return f"[bold red]{f.workflow.status.value}[/]"
    st = f.compliance.status
    text = "ERROR" if st is ComplianceStatus.NOT_AVAILABLE else st.value
    return f"[{STATUS_STYLE[st]}]{text}[/]"


def _pct(score: Score) -> str:
    pct = score.percent
    if pct is None:
        return "[dim]n/a[/]"
    style = "green" if pct >= 90 else "yellow" if pct >= 60 else "red"
    return f"[{style}]{pct:5.1f}%[/]"


def findings_table(console: Console, findings: Iterable[Finding], title: str = "Findings") -> int:
    table = Table(title=title, box=box.SIMPLE_HEAVY, show_lines=False, expand=True)
    table.add_column("Status", min_width=6)
    table.add_column("Severity", min_width=4)
    table.add_column("Check", overflow="fold", ratio=2)
    table.add_column("Account / region", overflow="fold", ratio=1)
    table.add_column("Resource", overflow="fold", ratio=3)
    table.add_column("Reason", overflow="fold", ratio=3)
    n = 0
    for f in findings:
        reason = (
            f.compliance.status_reasons[0]
            if f.compliance and f.compliance.status_reasons
            else f.title
        )
        sev = SeverityLabel(f.product_fields.get("CheckSeverity", f.severity.label.value))
        table.add_row(
            _status(f),
            _sev(sev),
            escape(f.generator_id),
            f"{f.account_id} {escape(f.region)}",
            escape(f.resource.id),
            escape(reason),
        )
        n += 1
    console.print(table)
    return n


def summary(
    console: Console,
    s: Summary,
    *,
    seconds: float | None = None,
    resources: int | None = None,
    errors: int = 0,
) -> None:
    head = f"[bold]{s.total}[/] results"
    if resources is not None:
        head += f" on [bold]{resources}[/] resources"
    if seconds is not None:
        head += f" in [bold]{seconds:.1f}s[/]"
    st = s.by_status
    head += (
        f": [green]{st.get('PASSED', 0)} passed[/], [red]{st.get('FAILED', 0)} failed[/],"
        f" [magenta]{st.get('NOT_AVAILABLE', 0)} could not be evaluated[/]"
    )
    if errors:
        head += f" ({errors} collection error(s))"
    console.print(head)

    sev = Table(title="Failing findings by severity", box=box.SIMPLE)
    for label in reversed(SeverityLabel):
        if label is not SeverityLabel.INFORMATIONAL:
            sev.add_column(_sev(label), justify="right")
    sev.add_row(
        *[
            str(s.failing_by_severity.get(label, 0))
            for label in reversed(SeverityLabel)
            if label is not SeverityLabel.INFORMATIONAL
        ]
    )
    console.print(sev)

    stds = Table(title="Standards (account controls passed / assessed)", box=box.SIMPLE)
    stds.add_column("Standard")
    stds.add_column("Score", justify="right")
    stds.add_column("Passed", justify="right")
    stds.add_column("Failed", justify="right")
    stds.add_column("No data", justify="right")
    stds.add_column("Not assessed", justify="right")
    for std, score in s.standards.values():
        stds.add_row(
            f"{escape(std.name)} {escape(std.version)}",
            _pct(score),
            str(score.passed),
            str(score.failed),
            str(score.no_data),
            str(score.manual),
        )
    console.print(stds)

    accts = Table(title="Accounts (checks passed / assessed)", box=box.SIMPLE)
    accts.add_column("Account")
    accts.add_column("All checks", justify="right")
    std_list = list(s.standards.values())
    for std, _ in std_list:
        accts.add_column(escape(std.name.replace("AWS ", "")), justify="right")
    for acct, score in s.accounts.items():
        accts.add_row(
            acct, _pct(score), *[_pct(s.account_standards[acct][std.id]) for std, _ in std_list]
        )
    console.print(accts)

    if s.top_failing:
        top = Table(title="Top failing checks", box=box.SIMPLE)
        top.add_column("Severity")
        top.add_column("Check")
        top.add_column("Title", overflow="fold")
        top.add_column("Resources", justify="right")
        top.add_column("Accounts", justify="right")
        for item in s.top_failing:
            top.add_row(
                _sev(item.severity),
                escape(item.check_id),
                escape(item.title),
                str(item.resources),
                str(item.accounts),
            )
        console.print(top)


def checks_table(
    console: Console, checks: Iterable[CheckSpec], standard: Standard | None = None
) -> None:
    table = Table(title="Checks", box=box.SIMPLE_HEAVY, expand=True)
    table.add_column("Id", no_wrap=True)
    table.add_column("Severity")
    table.add_column("Resource")
    table.add_column("Controls", overflow="fold")
    table.add_column("Title", overflow="fold")
    for spec in checks:
        ctrls = controls_of(spec.id)
        if standard is not None:
            text = ", ".join(ctrls.get(standard.id, []))
        else:
            text = "; ".join(f"{k.split('-')[0]} {', '.join(v)}" for k, v in ctrls.items())
        table.add_row(
            spec.id, _sev(spec.severity), spec.resource_type, escape(text), escape(spec.title)
        )
    console.print(table)
