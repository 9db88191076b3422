"""`mamori` command line. Thin: parse, call one package function, render.

Exit codes: 0 success; 1 `--fail-on` matched a failing finding; 2 usage error (bad option,
unknown standard or check id, unreadable input file); 3 runtime error (credentials, AWS
unreachable, findings store unavailable), printed as one line on stderr.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from mamori import __version__
from mamori.aws import DEFAULT_AUDIT_ROLE
from mamori.cli.automate import automate_app
from mamori.cli.common import (  # noqa: F401 - re-exported for tests
    EXIT_FAIL_ON,
    EXIT_RUNTIME,
    EXIT_USAGE,
    Accounts,
    Db,
    Endpoint,
    ExternalId,
    Fmt,
    ListFormat,
    MaxAttempts,
    Org,
    OutFile,
    OutputFormat,
    Profile,
    Regions,
    RetryMode,
    RoleName,
    _aws,
    _emit,
    _errors,
    _open_store,
    _output,
    _plain,
    _progress,
    _severity,
    err,
    out,
)
from mamori.cli.detect import detect_app
from mamori.cli.findings import findings_app
from mamori.cli.iam import iam_app
from mamori.cli.investigate import investigate
from mamori.cli.netfw import netfw_app
from mamori.cli.score import score
from mamori.cli.serve import serve, users_app
from mamori.cli.waf import waf_app
from mamori.cli.waf_logs import logs_cmd  # noqa: F401 - registers `waf logs`
from mamori.core import InputError, SeverityLabel

app = typer.Typer(
    name="mamori",
    no_args_is_help=True,
    add_completion=False,
    help="Mamori: AWS security posture, identity, threats and findings hub.",
    pretty_exceptions_enable=False,
)
checks_app = typer.Typer(no_args_is_help=True, help="The posture checks Mamori runs.")
standards_app = typer.Typer(no_args_is_help=True, help="Standards mapped onto the checks.")
app.add_typer(checks_app, name="checks")
app.add_typer(standards_app, name="standards")
app.add_typer(findings_app, name="findings")
app.add_typer(iam_app, name="iam")
app.add_typer(detect_app, name="detect")
app.add_typer(automate_app, name="automate")
app.add_typer(waf_app, name="waf")
app.add_typer(netfw_app, name="netfw")
app.command("investigate")(investigate)
app.add_typer(users_app, name="users")
app.command()(serve)
app.command("score")(score)

# -- commands ------------------------------------------------------------------------------------


@app.command()
def version() -> None:
    """Print Mamori's version."""
    out.print(__version__)


@app.command()
def scan(
    profile: Profile = None,
    region: Regions = None,
    endpoint_url: Endpoint = None,
    max_attempts: MaxAttempts = 5,
    retry_mode: RetryMode = "adaptive",
    org: Org = False,
    role_name: RoleName = DEFAULT_AUDIT_ROLE,
    external_id: ExternalId = None,
    account: Accounts = None,
    snapshot: Annotated[
        Path | None, typer.Option(help="Evaluate a saved inventory instead of calling AWS.")
    ] = None,
    save_snapshot: Annotated[Path | None, typer.Option(help="Also save the inventory.")] = None,
    check: Annotated[
        list[str] | None, typer.Option("--check", help="Only this check id (repeatable).")
    ] = None,
    standard: Annotated[str | None, typer.Option(help="Only checks of this standard.")] = None,
    service: Annotated[
        list[str] | None,
        typer.Option("--service", help="Only checks of this service (repeatable)."),
    ] = None,
    fmt: Fmt = OutputFormat.table,
    output_file: OutFile = None,
    show_passed: Annotated[bool, typer.Option("--all", help="Also list passed results.")] = False,
    fail_on: Annotated[
        str | None,
        typer.Option(help="Exit 1 when a failing finding of this severity or higher exists."),
    ] = None,
    db: Db = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not write the hub.")] = False,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Concurrent API workers.")] = 16,
    no_identity: Annotated[
        bool, typer.Option("--no-identity", help="Skip identity analysis (paths, access...).")
    ] = False,
    access_advisor: Annotated[
        bool,
        typer.Option(
            "--access-advisor",
            help="Also collect IAM Access Advisor data (one job per user and role) to find "
            "unused services.",
        ),
    ] = False,
) -> None:
    """Collect the inventory, run the posture checks and the identity analyses, store and
    print the findings."""
    from mamori.cli.render import summary as render_summary
    from mamori.posture.scan import ScanRequest, run_scan
    from mamori.posture.summary import summarize

    threshold = _severity(fail_on)
    with _errors():
        req = ScanRequest(
            aws=_aws(profile, endpoint_url, max_attempts, retry_mode),
            regions=region or None,
            org=org,
            role_name=role_name,
            external_id=external_id,
            accounts=account,
            checks=check,
            standard=standard,
            services=service,
            snapshot_in=snapshot,
            snapshot_out=save_snapshot,
            workers=workers,
            identity=not no_identity,
            access_advisor=access_advisor,
        )
        store = _open_store(db, not no_store)
        try:
            with _progress(snapshot is None and err.is_terminal) as hook:
                result = run_scan(req, store, progress=hook)
        finally:
            if store is not None:
                store.close()
        shown = [
            f
            for f in result.findings
            if show_passed
            or fmt is not OutputFormat.table
            or f.is_failing
            or (f.status is not None and f.status.value == "NOT_AVAILABLE")
        ]
        _emit(shown, fmt, output_file, "Posture findings")
        console = out if fmt is OutputFormat.table and output_file is None else err
        render_summary(
            console,
            summarize(result.findings),
            seconds=result.seconds,
            resources=result.resource_count,
            errors=len(result.errors),
        )
        if result.identity is not None:
            from mamori.cli.iam_render import identity_summary

            identity_summary(console, result.identity)
        for acct, why in result.unreachable.items():
            err.print(f"[yellow]warning:[/] account {acct} not scanned: {_plain(Exception(why))}")
    if threshold is not None and any(
        f.is_failing
        and SeverityLabel(f.product_fields.get("CheckSeverity", f.severity.label.value)).rank
        >= threshold.rank
        for f in result.findings
    ):
        raise typer.Exit(EXIT_FAIL_ON)


@app.command()
def inventory(
    output_file: Annotated[
        Path,
        typer.Option(
            "--output-file", "-o", help="Where to save the snapshot (JSON; .gz compresses)."
        ),
    ],
    profile: Profile = None,
    region: Regions = None,
    endpoint_url: Endpoint = None,
    max_attempts: MaxAttempts = 5,
    retry_mode: RetryMode = "adaptive",
    org: Org = False,
    role_name: RoleName = DEFAULT_AUDIT_ROLE,
    external_id: ExternalId = None,
    account: Accounts = None,
    service: Annotated[
        list[str] | None, typer.Option("--service", help="Only these services.")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=64)] = 16,
    access_advisor: Annotated[
        bool,
        typer.Option(
            "--access-advisor",
            help="Also collect IAM Access Advisor data (one job per user and role).",
        ),
    ] = False,
) -> None:
    """Collect the inventory only and save it as a snapshot for offline scans."""
    from mamori.aws import enabled_regions, resolve_targets
    from mamori.identity.analyze import ACCESS_ADVISOR
    from mamori.inventory import collect, load_collectors

    if service is None and not access_advisor:
        service = sorted(set(load_collectors()) - {ACCESS_ADVISOR})
    elif service is not None and access_advisor:
        service = sorted({*service, ACCESS_ADVISOR})

    with _errors():
        opts = _aws(profile, endpoint_url, max_attempts, retry_mode)
        targets = resolve_targets(
            opts, org=org, role_name=role_name, external_id=external_id, accounts=account
        )
        regions = region or enabled_regions(targets.accounts[0])
        with _progress(err.is_terminal) as hook:
            snap = collect(
                targets.accounts, regions, services=service, workers=workers, progress=hook
            )  # type: ignore[arg-type]
        try:
            snap.save(output_file)
        except OSError as exc:
            raise InputError(f"cannot write {output_file}: {exc.strerror}") from exc
    n = sum(
        len(v)
        for a in snap.accounts.values()
        for s in a["services"].values()
        for v in s.values()
        if isinstance(v, dict)
    )
    err.print(
        f"saved {output_file}: {len(snap.accounts)} account(s), {len(regions)} region(s),"
        f" {n} data sets, {len(snap.errors)} collection error(s)"
    )
    for acct, why in targets.unreachable.items():
        err.print(f"[yellow]warning:[/] account {acct} not collected: {_plain(Exception(why))}")


@checks_app.command("list")
def checks_list(
    standard: Annotated[
        str | None, typer.Option(help="Only checks mapped by this standard.")
    ] = None,
    service: Annotated[list[str] | None, typer.Option("--service")] = None,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.table,
) -> None:
    """List the checks with their metadata."""
    from mamori.cli.render import checks_table
    from mamori.posture import get_standard, select_checks
    from mamori.posture.standards import controls_of

    with _errors():
        std = get_standard(standard) if standard else None
        specs = select_checks(standard=std.id if std else None, services=service)
    if fmt is ListFormat.json:
        rows = [
            {
                "id": s.id,
                "title": s.title,
                "severity": s.severity.value,
                "service": s.service,
                "resource_type": s.resource_type,
                "description": s.description,
                "remediation": s.remediation,
                "remediation_cli": s.remediation_cli,
                "references": list(s.references),
                "controls": controls_of(s.id),
            }
            for s in specs
        ]
        out.print_json(json.dumps(rows))
    elif fmt is ListFormat.markdown:
        print("| Check | Severity | Resource | Controls | Title |")
        print("| --- | --- | --- | --- | --- |")
        for s in specs:
            ctrls = "; ".join(f"{k}: {', '.join(v)}" for k, v in controls_of(s.id).items())
            print(f"| `{s.id}` | {s.severity.value} | {s.resource_type} | {ctrls} | {s.title} |")
    else:
        checks_table(out, specs, std)


@standards_app.command("list")
def standards_list() -> None:
    """List the standards and how many of their controls Mamori automates."""
    from mamori.posture import load_standards

    for std in load_standards().values():
        auto = sum(1 for c in std.controls if c.checks)
        out.print(
            f"{std.id}  {std.name} {std.version}: {auto}/{len(std.controls)} controls automated"
        )


@app.command()
def permissions(
    role_name: Annotated[
        str, typer.Option(help="Audit role name, for the --org policy.")
    ] = DEFAULT_AUDIT_ROLE,
    org: Annotated[
        bool, typer.Option("--org", help="Print the management account's fan-out policy too.")
    ] = False,
) -> None:
    """Print the least-privilege IAM policy the scanner needs (generated from the collectors)."""
    from mamori.inventory import load_collectors
    from mamori.inventory.permissions import org_fanout_policy, scanner_policy

    policy = scanner_policy(load_collectors().values())
    if org:
        print(
            json.dumps(
                {
                    "AuditRolePolicy": policy,
                    "ManagementAccountPolicy": org_fanout_policy(role_name),
                },
                indent=2,
            )
        )
    else:
        print(json.dumps(policy, indent=2))


demo_app = typer.Typer(help="The emulated AWS organisation and its generated logs.")
app.add_typer(demo_app, name="demo")


@demo_app.callback(invoke_without_command=True)
def demo(
    ctx: typer.Context,
    keep_running: Annotated[
        bool, typer.Option(help="Leave the emulated AWS endpoint up and print how to use it.")
    ] = False,
    db: Db = None,
    region: Regions = None,
    log_days: Annotated[
        int, typer.Option(min=0, max=90, help="Days of generated logs to run detection on.")
    ] = 30,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Exit once the findings are stored.")
    ] = False,
) -> None:
    """Start an emulated AWS organisation, seed it, scan it, run detection on a month of its
    generated logs, print the summary and serve the dashboard on 127.0.0.1:8000."""
    if ctx.invoked_subcommand is not None:
        return
    from mamori.cli.serve import serve_demo
    from mamori.demo.run import run_demo

    with _errors():
        run_demo(
            out,
            err,
            db=db,
            regions=region or None,
            keep_running=keep_running,
            log_days=log_days,
            serve=None
            if no_serve
            else lambda url, data: serve_demo(url, own_store=db is None, data_dir=data),
        )


@demo_app.command("logs")
def demo_logs(
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write the logs.")],
    events: Annotated[int, typer.Option(min=1, help="CloudTrail events in all.")] = 100_000,
    flows: Annotated[
        int | None, typer.Option(min=0, help="VPC flow records (default: as many as events).")
    ] = None,
    dns: Annotated[
        int | None, typer.Option(min=0, help="DNS queries (default: a third of events).")
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=366)] = 7,
    account: Annotated[
        list[str] | None, typer.Option("--account", help="Account id (repeatable).")
    ] = None,
    region: Regions = None,
    start: Annotated[
        str | None, typer.Option(help="First day (default: `days` before today).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Same seed, same files.")] = 7,
) -> None:
    """Write realistic CloudTrail, VPC Flow Log and DNS logs with labelled attack scenarios, in
    AWS's S3 delivery layouts (and labels.json, the ground truth)."""
    from mamori.detect.generator.cli import write_demo_logs

    with _errors():
        summary = write_demo_logs(
            out_dir,
            events=events,
            flows=flows,
            dns=dns,
            days=days,
            accounts=account or ["111111111111", "222222222222"],
            regions=region or ["us-east-1", "eu-west-1"],
            start=start,
            seed=seed,
        )
        out.print(summary)


def run() -> None:
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app()


if __name__ == "__main__":
    run()
