"""`mamori iam ...`: identity analysis from GAAD output or a saved inventory."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any, Literal

import orjson
import typer

from mamori.cli.common import (
    EXIT_USAGE,
    Db,
    Fmt,
    OutFile,
    OutputFormat,
    _emit,
    _errors,
    _open_store,
    _output,
    err,
    out,
)
from mamori.core import InputError

iam_app = typer.Typer(no_args_is_help=True, help="Identity analysis: who can do what.")

AuthDetails = Annotated[
    Path | None,
    typer.Option(
        "--auth-details",
        help="Output of `aws iam get-account-authorization-details` (JSON, optionally .gz).",
    ),
]
SnapshotOpt = Annotated[
    Path | None, typer.Option("--snapshot", help="A Mamori inventory (`mamori inventory`).")
]


class SimFormat(StrEnum):
    table = "table"
    json = "json"


class PathFormat(StrEnum):
    table = "table"
    json = "json"
    dot = "dot"


def _snapshot(path: Path | None) -> Any:
    if path is None:
        return None
    from mamori.inventory import Snapshot

    return Snapshot.load(path)


def _model(auth_details: Path | None, snapshot: Path | None) -> tuple[Any, Any]:
    from mamori.identity.analyze import load_model

    snap = _snapshot(snapshot)
    return load_model(auth_details, snap), snap


def _lines(path: Path) -> IO[bytes]:
    if str(path) == "-":
        return sys.stdin.buffer
    try:
        return path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc


@iam_app.command()
def simulate(
    auth_details: AuthDetails = None,
    snapshot: SnapshotOpt = None,
    principal: Annotated[str | None, typer.Option(help="User or role ARN (with a model).")] = None,
    action: Annotated[
        list[str] | None, typer.Option("--action", help="Action to test (repeatable).")
    ] = None,
    resource: Annotated[str, typer.Option(help="Resource ARN the actions are on.")] = "*",
    context: Annotated[
        list[str] | None,
        typer.Option("--context", help="Request context key=value (repeat a key for a list)."),
    ] = None,
    resource_policy: Annotated[
        Path | None, typer.Option(help="The resource's policy document (JSON file).")
    ] = None,
    resource_account: Annotated[
        str | None, typer.Option(help="Account owning the resource (default: the caller's).")
    ] = None,
    requests: Annotated[
        Path | None,
        typer.Option("--requests", help="JSON lines of self-contained requests ('-': stdin)."),
    ] = None,
    fmt: Annotated[SimFormat, typer.Option("--format", "-f")] = SimFormat.table,
    output_file: OutFile = None,
) -> None:
    """Decide requests exactly as IAM would: Allow, ImplicitDeny or ExplicitDeny, and why."""
    from mamori.identity.requests import Outcome

    with _errors():
        outcomes: list[Outcome]
        if requests is not None:
            from mamori.identity.requests import decide_lines

            handle = _lines(requests)
            try:
                outcomes = list(decide_lines(handle, str(requests)))
            finally:
                if handle is not sys.stdin.buffer:
                    handle.close()
        else:
            outcomes = _simulate_model(
                auth_details,
                snapshot,
                principal,
                action or [],
                resource,
                context or [],
                resource_policy,
                resource_account,
            )
        _print_outcomes(outcomes, fmt, output_file)
    failed = [o for o in outcomes if o.error]
    for o in failed:
        err.print(f"[red]error:[/] {_escape(o.error or '')}", highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(EXIT_USAGE)


def _simulate_model(
    auth_details: Path | None,
    snapshot: Path | None,
    principal: str | None,
    actions: list[str],
    resource: str,
    context: list[str],
    resource_policy: Path | None,
    resource_account: str | None,
) -> list[Any]:
    from mamori.identity.context import RequestContext
    from mamori.identity.evaluate import Request, evaluate
    from mamori.identity.policy import compile_policy
    from mamori.identity.requests import Outcome
    from mamori.identity.resolve import Resolver

    if not principal or not actions:
        raise InputError("give --principal and --action (or --requests)")
    model, snap = _model(auth_details, snapshot)
    resolver = Resolver(model)
    try:
        subject = resolver.subject(principal)
    except KeyError:
        raise InputError(f"--principal {principal}: no such user or role in the input") from None
    for problem in subject.problems:
        err.print(f"[yellow]warning:[/] {_escape(problem)}")
    policy = None
    if resource_policy is not None:
        try:
            raw = orjson.loads(resource_policy.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise InputError(f"--resource-policy {resource_policy}: {exc}") from exc
        policy = compile_policy(raw, name=str(resource_policy), kind="resource")
    ctx = RequestContext.from_pairs(context).with_values(subject.context)
    results = []
    found, found_account = (policy, resource_account)
    if policy is None:
        found, found_account = _known_policy(resolver, snap, resource)
        found_account = resource_account or found_account
    for act in actions:
        res_policy, res_account = found, found_account
        decision = evaluate(
            subject.caller,
            subject.policies(resource=res_policy, resource_account=res_account),
            Request(act, resource, ctx),
        )
        results.append(Outcome(act, decision))
    return results


def _known_policy(resolver: Any, snap: Any, resource: str) -> tuple[Any, str | None]:
    """The resource's own policy from the input: a role's trust policy, or (with a snapshot) the
    policy of the bucket, key, queue, topic, function, secret... the resource is or is in."""
    from mamori.identity.external_sources import read_sources

    sources = {p.where.arn: p for p in read_sources(resolver.model, snap).policies}
    source = sources.get(resource)
    if source is None and resource.startswith("arn:") and ":s3:::" in resource:
        source = sources.get(resource.split("/", 1)[0])  # an object: its bucket's policy
    if source is None or source.document is None:
        return None, None
    from mamori.identity.model import PolicyDoc

    problems: list[str] = []
    kind: Literal["trust", "resource"] = "trust" if source.kind == "trust" else "resource"
    doc = PolicyDoc(f"{source.where.arn}#(policy)", source.where.arn, None, kind, source.document)
    compiled = resolver.compile(doc, problems)
    for problem in problems:
        err.print(f"[yellow]warning:[/] {_escape(problem)}")
    return compiled, source.where.account


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _print_outcomes(outcomes: list[Any], fmt: SimFormat, path: Path | None) -> None:
    if fmt is SimFormat.json:
        with _output(path) as handle:
            for o in outcomes:
                handle.write(orjson.dumps(o.to_json()).decode() + "\n")
        return
    from rich.table import Table

    table = Table(title="IAM decisions", show_lines=False)
    for col in ("id", "decision", "decided by"):
        table.add_column(col, overflow="fold")
    colours = {"Allow": "green", "ImplicitDeny": "yellow", "ExplicitDeny": "red"}
    for o in outcomes:
        if o.decision is None:
            continue
        name = o.decision.decision
        table.add_row(
            _escape(str(o.id)),
            f"[{colours[name]}]{name}[/]",
            _escape("\n".join(str(d) for d in o.decision.decided_by)),
        )
    _print_table(table, path)


def _print_table(table: Any, path: Path | None) -> None:
    if path is None:
        out.print(table)
        return
    from rich.console import Console

    with _output(path) as handle:
        Console(file=handle, width=200).print(table)


@iam_app.command()
def paths(
    auth_details: AuthDetails = None,
    snapshot: SnapshotOpt = None,
    fmt: Annotated[PathFormat, typer.Option("--format", "-f")] = PathFormat.table,
    output_file: OutFile = None,
    principal: Annotated[
        list[str] | None, typer.Option("--principal", help="Only paths from this ARN.")
    ] = None,
    max_paths: Annotated[
        int, typer.Option(min=0, help="At most this many paths per principal (0: all).")
    ] = 0,
) -> None:
    """Privilege-escalation paths: who can become an administrator, and every way how."""
    from mamori.identity.paths import analyze_paths

    with _errors():
        model, _ = _model(auth_details, snapshot)
        report = analyze_paths(model, max_paths=max_paths or None)
        found = [p for p in report.paths if not principal or p.principal in principal]
        if fmt is PathFormat.json:
            with _output(output_file) as handle:
                handle.write(
                    orjson.dumps([p.to_json() for p in found], option=orjson.OPT_INDENT_2).decode()
                    + "\n"
                )
        elif fmt is PathFormat.dot:
            from mamori.cli.iam_render import paths_dot

            with _output(output_file) as handle:
                handle.write(paths_dot(found, report.admins))
        else:
            from mamori.cli.iam_render import paths_table

            _print_table(paths_table(found), output_file)
            err.print(
                f"{report.principals} principals, {len(report.admins)} administrators, "
                f"{len({p.principal for p in report.paths})} can escalate "
                f"({len(report.paths)} paths)"
            )
        for arn, problems in report.problems.items():
            err.print(f"[yellow]warning:[/] {_escape(arn)}: {_escape(problems[0])}")


@iam_app.command()
def access(
    snapshot: Annotated[Path, typer.Option("--snapshot", help="A Mamori inventory.")],
    auth_details: AuthDetails = None,
    window_days: Annotated[
        int, typer.Option(min=1, help="Unused means not used for this many days.")
    ] = 90,
    fmt: Fmt = OutputFormat.table,
    output_file: OutFile = None,
) -> None:
    """External access (public, other accounts, other organisations) and unused access."""
    from mamori.identity.analyze import analyze

    with _errors():
        model, snap = _model(auth_details, snapshot)
        run = analyze(snap, model, analyses=("external", "unused"), window_days=window_days)
        _emit(run.findings, fmt, output_file, "External and unused access")


@iam_app.command()
def guardrails(
    snapshot: Annotated[Path, typer.Option("--snapshot", help="A Mamori inventory.")],
    fmt: Annotated[SimFormat, typer.Option("--format", "-f")] = SimFormat.table,
    output_file: OutFile = None,
) -> None:
    """What the organisation's SCPs deny in each account, and which Control Tower preventive
    controls are present or missing."""
    from mamori.cli.iam_render import guardrails_json, guardrails_table
    from mamori.identity.guardrails import guardrails as compute

    with _errors():
        model, _ = _model(None, snapshot)
        if model.organization is None:
            raise InputError(
                f"{snapshot}: no organisation in this inventory (collect it from "
                "the management account with the organizations service)"
            )
        reports = compute(model)
        if fmt is SimFormat.json:
            with _output(output_file) as handle:
                handle.write(
                    orjson.dumps(guardrails_json(reports), option=orjson.OPT_INDENT_2).decode()
                    + "\n"
                )
        else:
            _print_table(guardrails_table(reports), output_file)


@iam_app.command()
def analyze(
    snapshot: Annotated[Path, typer.Option("--snapshot", help="A Mamori inventory.")],
    auth_details: AuthDetails = None,
    fmt: Fmt = OutputFormat.table,
    output_file: OutFile = None,
    db: Db = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not write the hub.")] = False,
) -> None:
    """Run every identity analysis on an inventory and store the findings in the hub."""
    from mamori.identity.analyze import analyze as run_all
    from mamori.identity.store import store_identity_findings

    with _errors():
        model, snap = _model(auth_details, snapshot)
        run = run_all(snap, model)
        store = _open_store(db, not no_store)
        if store is not None:
            try:
                store_identity_findings(store, run, snap)
            finally:
                store.close()
        _emit(
            [f for f in run.findings if f.is_failing or fmt is not OutputFormat.table],
            fmt,
            output_file,
            "Identity findings",
        )
