"""`mamori waf ...`: check a Web ACL like the wafv2 API does, and judge requests with it."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.markup import escape
from rich.table import Table

from mamori.cli.common import _errors, err, out

waf_app = typer.Typer(no_args_is_help=True, help="AWS WAF Web ACLs: validate and test (WAF's job).")


class TestFormat(StrEnum):
    table = "table"
    json = "json"


Resources = Annotated[
    list[Path] | None,
    typer.Option(
        "--resource",
        "-R",
        help="A rule group, IP set or regex pattern set the Web ACL references (get-... JSON); "
        "repeatable.",
    ),
]
Encoding = Annotated[
    str,
    typer.Option(
        help="How ByteMatch SearchString is written: base64 (the API's JSON, get-web-acl) or "
        "text (hand-written or Terraform-style files)."
    ),
]


def _encoding(value: str) -> str:
    if value not in ("base64", "text"):
        raise typer.BadParameter("--search-string-encoding must be base64 or text")
    return value


@waf_app.command("validate")
def validate_cmd(
    document: Annotated[Path, typer.Argument(help="Web ACL or rule group JSON.")],
    resource: Resources = None,
    search_string_encoding: Encoding = "base64",
) -> None:
    """Check a Web ACL or rule group against the wafv2 API's rules; print its capacity (WCU)
    and warnings."""
    from mamori.perimeter.waf import validate

    with _errors():
        report = validate(
            document,
            resources=resource or [],
            search_string_encoding=_encoding(search_string_encoding),
        )
    out.print(
        f"{escape(report.kind)} {escape(report.name)!s}: valid, {report.rules} rule(s), "
        f"{report.capacity} WCU",
        highlight=False,
    )
    for warning in report.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)


@waf_app.command("test")
def test_cmd(
    web_acl: Annotated[Path, typer.Option("--web-acl", help="Web ACL JSON (get-web-acl).")],
    requests: Annotated[
        Path, typer.Option("--requests", help="JSON Lines: id, method, uri, headers, body...")
    ],
    resource: Resources = None,
    geo_db: Annotated[Path | None, typer.Option(help="MMDB for GeoMatch (country).")] = None,
    asn_db: Annotated[Path | None, typer.Option(help="MMDB for AsnMatch.")] = None,
    search_string_encoding: Encoding = "base64",
    fmt: Annotated[TestFormat, typer.Option("--format", "-f")] = TestFormat.table,
) -> None:
    """Judge each request of a JSON Lines file with the Web ACL: the action, the terminating
    rule and the labels, as AWS WAF would decide them."""
    from mamori.perimeter.waf import load_web_acl
    from mamori.perimeter.waf.testing import judge_file

    errors = 0
    with _errors():
        acl = load_web_acl(
            web_acl,
            resources=resource or [],
            geo_db=geo_db,
            asn_db=asn_db,
            search_string_encoding=_encoding(search_string_encoding),
        )
        for warning in acl.warnings:
            err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
        table = Table("id", "action", "terminating rule", "labels", title=f"Web ACL {acl.name}")
        for judged in judge_file(acl, requests):
            if judged.error is not None:
                errors += 1
                err.print(f"[red]error:[/] {escape(judged.error)}", highlight=False, soft_wrap=True)
                continue
            if fmt is TestFormat.json:
                sys.stdout.write(orjson.dumps(judged.as_dict()).decode() + "\n")
                continue
            assert judged.verdict is not None
            v = judged.verdict
            rule = v.terminating_rule + (f" / {v.rule_group_rule}" if v.rule_group_rule else "")
            table.add_row(escape(judged.id), v.action, escape(rule), escape("\n".join(v.labels)))
        if fmt is TestFormat.table:
            out.print(table)
    if errors:
        err.print(f"{errors} request line(s) could not be read")


@waf_app.command("proxy")
def proxy_cmd(
    web_acl: Annotated[Path, typer.Option("--web-acl", help="Web ACL JSON (get-web-acl).")],
    upstream: Annotated[str, typer.Option(help="Where passed requests go: http://host:port.")],
    listen: Annotated[str, typer.Option(help="host:port to listen on.")] = "127.0.0.1:8443",
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    log_file: Annotated[
        str | None, typer.Option(help="WAF log (AWS's record format, JSON lines); - for stdout.")
    ] = None,
    resource: Resources = None,
    geo_db: Annotated[Path | None, typer.Option(help="MMDB for GeoMatch (country).")] = None,
    asn_db: Annotated[Path | None, typer.Option(help="MMDB for AsnMatch.")] = None,
    fail_open: Annotated[
        bool | None,
        typer.Option(
            "--fail-open/--fail-closed",
            help="On an engine error pass (open) or refuse (closed) the request; default: "
            "closed if the Web ACL can block.",
        ),
    ] = None,
    body_limit: Annotated[
        int | None, typer.Option(min=0, help="Body bytes inspected (default: the Web ACL's).")
    ] = None,
    forwarded_ip_header: Annotated[
        str | None, typer.Option(help="Take the client IP from this header's first address.")
    ] = None,
    timeout: Annotated[float, typer.Option(min=0.1, help="Upstream timeout, seconds.")] = 30.0,
    search_string_encoding: Encoding = "base64",
    rate_store: Annotated[
        str | None,
        typer.Option(
            help="redis://host:port/db: rate-based rules count there, shared by all workers "
            "(default: per worker process)."
        ),
    ] = None,
) -> None:
    """Run a reverse proxy that judges every request with the Web ACL before the upstream."""
    from mamori.perimeter.waf.proxy import ProxyConfig, serve

    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise typer.BadParameter("--listen must be host:port")
    config = ProxyConfig(
        web_acl=str(web_acl), upstream=upstream, resources=[str(r) for r in resource or []],
        geo_db=str(geo_db) if geo_db else None, asn_db=str(asn_db) if asn_db else None,
        log_file=log_file, fail_open=fail_open, body_limit=body_limit,
        forwarded_ip_header=forwarded_ip_header, timeout=timeout,
        search_string_encoding=_encoding(search_string_encoding), source_id=listen,
        rate_store=rate_store,
    )  # fmt: skip
    err.print(f"WAF proxy on http://{escape(listen)} -> {escape(upstream)} ({workers} worker(s))")
    with _errors():
        serve(config, host.strip("[]"), int(port), workers)
