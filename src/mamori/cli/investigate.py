"""`mamori investigate`: what an access key, address, principal or other entity did, from
where, with what, and which findings name it (Detective's job)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from mamori.cli.common import Db, OutFile, _errors, _open_store, _output, err, out
from mamori.core import InputError

if TYPE_CHECKING:
    from mamori.investigate.ask import Answer


class Format(StrEnum):
    table = "table"
    json = "json"


def _entity(
    access_key: str | None, ip: str | None, principal: str | None, entity: str | None
) -> tuple[str | None, str]:
    """(kind, id) of the one entity asked about; kind None for a principal ARN."""
    given = [
        (name, value)
        for name, value in (
            ("access_key", access_key),
            ("ip", ip),
            ("principal", principal),
            ("entity", entity),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise InputError("give exactly one of --access-key, --ip, --principal or --entity")
    name, value = given[0]
    if name == "principal":
        return None, value
    if name == "entity":
        kind, sep, rest = value.partition(":")
        if not sep or not rest:
            raise InputError(f"--entity {value!r}: expected KIND:ID, e.g. bucket:my-bucket")
        return kind, rest
    return name, value


def investigate(
    access_key: Annotated[
        str | None, typer.Option(help="An access key id (AKIA... or ASIA...).")
    ] = None,
    ip: Annotated[str | None, typer.Option(help="An IPv4 or IPv6 address.")] = None,
    principal: Annotated[
        str | None,
        typer.Option(help="The ARN of a user, role, assumed-role session or root."),
    ] = None,
    entity: Annotated[
        str | None,
        typer.Option(
            help="Any entity as KIND:ID: bucket:NAME, instance:i-..., user_agent:TEXT,"
            " domain:NAME, account:ID, resource:ARN, finding:ID..."
        ),
    ] = None,
    days: Annotated[
        float,
        typer.Option(
            min=0.01,
            help="New behaviour: first seen in this many days before the entity's last sighting.",
        ),
    ] = 7.0,
    limit: Annotated[
        int, typer.Option(min=1, max=1000, help="Related entities shown per relation.")
    ] = 10,
    graph: Annotated[
        bool, typer.Option("--graph", help="Also show the entity's neighbourhood.")
    ] = False,
    depth: Annotated[int, typer.Option(min=1, max=3, help="Hops of the neighbourhood.")] = 2,
    nodes: Annotated[
        int, typer.Option(min=1, max=500, help="Most nodes of the neighbourhood.")
    ] = 50,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where `mamori detect` ingested the logs.")
    ] = None,
    mmdb: Annotated[
        list[Path] | None,
        typer.Option(help="MMDB country or ASN database for the addresses (repeatable)."),
    ] = None,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="Build the graph again from every ingested part and every detection finding"
            " of the hub.",
        ),
    ] = False,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    output_file: OutFile = None,
    db: Db = None,
    no_store: Annotated[
        bool, typer.Option("--no-store", help="Do not read the findings hub.")
    ] = False,
) -> None:
    """Profile an entity from the ingested logs: first and last seen, API calls by service per
    day, related entities, new behaviour and the findings that name it. The graph is brought up
    to date with logs ingested since it was last built."""
    from mamori.cli.investigate_render import render
    from mamori.detect.run import default_data_dir
    from mamori.investigate.ask import Question, ask
    from mamori.investigate.kinds import parse_kind

    with _errors():
        kind, value = _entity(access_key, ip, principal, entity)
        question = Question(
            kind=parse_kind(kind) if kind is not None else None,
            value=value,
            data_dir=data_dir or default_data_dir(),
            days=days,
            limit=limit,
            depth=depth if graph else None,
            nodes=nodes,
            rebuild=rebuild,
            mmdb=mmdb or [],
        )
        store = _open_store(db, not no_store)
        try:
            answer = ask(question, store)
        finally:
            if store is not None:
                store.close()
        if fmt is Format.json:
            with _output(output_file) as handle:
                handle.write(_json(answer))
                handle.write("\n")
        elif output_file is None:
            render(out, answer)
        else:
            from rich.console import Console

            with _output(output_file) as handle:
                render(Console(file=handle, width=160), answer)
    build = answer.build
    if build.changed:
        added = sum(build.records.values())
        err.print(
            f"graph: took in {added} record(s) of {sum(build.parts.values())} new part(s)"
            f" in {build.seconds:.1f}s"
            + (f" (rebuilt: {escape(build.rebuilt)})" if build.rebuilt else "")
        )
    for warning in answer.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)


def _json(answer: Answer) -> str:
    import json

    doc = {
        "profile": answer.profile.model_dump(mode="json"),
        "neighbourhood": (
            answer.neighbourhood.model_dump(mode="json") if answer.neighbourhood else None
        ),
    }
    return json.dumps(doc, indent=2)
