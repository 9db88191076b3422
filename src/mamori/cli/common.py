"""What every `mamori` command shares: consoles, exit codes, common options, error mapping
and output writers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mamori.aws import AwsOptions
from mamori.core import Finding, InputError, MamoriError, SeverityLabel
from mamori.inventory.runner import ProgressHook

EXIT_FAIL_ON = 1
EXIT_USAGE = 2
EXIT_RUNTIME = 3

# Piped output gets room for ARNs rather than Rich's 80-column default.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    asff = "asff"
    ocsf = "ocsf"
    csv = "csv"
    sarif = "sarif"


class ListFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


# -- shared options ------------------------------------------------------------------------------

Profile = Annotated[
    str | None, typer.Option(help="AWS profile (standard credential chain).", envvar="AWS_PROFILE")
]
Regions = Annotated[
    list[str] | None,
    typer.Option(
        "--region", "-r", help="Region to scan; repeat for more. Default: every enabled region."
    ),
]
Endpoint = Annotated[
    str | None,
    typer.Option(
        help="Send every AWS call to this endpoint (any AWS-compatible API).",
        envvar="AWS_ENDPOINT_URL",
    ),
]
MaxAttempts = Annotated[int, typer.Option(min=1, max=20, help="botocore retry attempts.")]
RetryMode = Annotated[str, typer.Option(help="botocore retry mode: standard or adaptive.")]
Org = Annotated[
    bool,
    typer.Option(
        "--org",
        help="Scan every ACTIVE account of the AWS Organization by assuming --role-name in each.",
    ),
]
RoleName = Annotated[str, typer.Option(help="Role assumed in member accounts with --org.")]
ExternalId = Annotated[str | None, typer.Option(help="ExternalId for the member role.")]
Accounts = Annotated[
    list[str] | None,
    typer.Option("--account", help="With --org: only these account ids (repeatable)."),
]
Db = Annotated[
    str | None,
    typer.Option(
        help="Findings store URL (sqlite:///file.db or postgresql+psycopg://...).",
        envvar="MAMORI_DB",
    ),
]
Fmt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
OutFile = Annotated[
    Path | None,
    typer.Option("--output-file", "-o", help="Write the output here instead of stdout."),
]


def _severity(value: str | None) -> SeverityLabel | None:
    if value is None:
        return None
    try:
        return SeverityLabel.parse(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except InputError as exc:
        err.print(f"[red]error:[/] {_plain(exc)}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    except MamoriError as exc:
        err.print(f"[red]error:[/] {_plain(exc)}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_RUNTIME) from None


def _plain(exc: Exception) -> str:
    from rich.markup import escape

    return escape(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def _aws(
    profile: str | None, endpoint_url: str | None, max_attempts: int, retry_mode: str
) -> AwsOptions:
    if retry_mode not in ("standard", "adaptive", "legacy"):
        raise typer.BadParameter("--retry-mode must be standard or adaptive")
    return AwsOptions(
        profile=profile, endpoint_url=endpoint_url, max_attempts=max_attempts, retry_mode=retry_mode
    )


@contextmanager
def _progress(enabled: bool) -> Iterator[ProgressHook | None]:
    if not enabled:
        yield None
        return
    bar = Progress(
        TextColumn("[bold]collecting[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=err,
        transient=True,
    )
    with bar:
        task = bar.add_task("", total=None)

        def hook(label: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=label)

        yield hook


@contextmanager
def _output(path: Path | None) -> Iterator[IO[str]]:
    if path is None:
        yield sys.stdout
        return
    try:
        with path.open("w", encoding="utf-8", newline="") as handle:
            yield handle
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from exc


def _emit(findings: list[Finding], fmt: OutputFormat, path: Path | None, title: str) -> None:
    if fmt is OutputFormat.table:
        if path is None:
            from mamori.cli.render import findings_table

            findings_table(out, findings, title)
            return
        console = Console(file=path.open("w", encoding="utf-8"), width=200)
        from mamori.cli.render import findings_table

        findings_table(console, findings, title)
        return
    from mamori.exports import write_findings

    with _output(path) as handle:
        write_findings(findings, fmt.value, handle)
        if path is None:
            handle.write("\n")


def _open_store(db: str | None, enabled: bool = True):  # type: ignore[no-untyped-def]
    if not enabled:
        return None
    from mamori.hub import Store

    return Store.open(db)
