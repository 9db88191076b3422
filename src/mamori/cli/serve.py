"""`mamori serve` (the dashboard and JSON API) and `mamori users` (its logins)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from mamori.cli.common import Db, _errors, err, out

users_app = typer.Typer(no_args_is_help=True, help="Dashboard users (kept in the store).")

Host = Annotated[
    str,
    typer.Option(
        help="Address to listen on. Loopback by default; any other needs TLS (--ssl-certfile "
        "or --behind-tls-proxy)."
    ),
]
Port = Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free one).")]


def _db(db: str | None) -> str:
    from mamori.hub import default_db_url

    return db or default_db_url()


def announce(url: str, password: str | None) -> None:
    out.print(f"[bold]Mamori dashboard[/] on {escape(url)}  (Ctrl-C stops it)", highlight=False)
    if password is not None:
        out.print(
            f"log in as [bold]admin[/] with password [bold]{escape(password)}[/]"
            " (shown this once; `mamori users reset-password admin` with the same --db sets"
            " a new one)",
            highlight=False,
        )
    else:
        out.print(
            "log in with your dashboard user (`mamori users list`; "
            "`mamori users reset-password admin` if the password is lost)",
            highlight=False,
        )


def serve(
    db: Db = None,
    host: Host = "127.0.0.1",
    port: Port = 8000,
    mutelist: Annotated[
        Path | None, typer.Option(help="Suppression rules (YAML) to show and apply.")
    ] = None,
    automation: Annotated[
        Path | None, typer.Option(help="Automation rules (YAML) to show beside the audit log.")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Where `mamori detect` ingested the logs (the investigation graph)."),
    ] = None,
    ssl_certfile: Annotated[Path | None, typer.Option(help="TLS certificate (PEM).")] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option(help="TLS private key (PEM).")] = None,
    behind_tls_proxy: Annotated[
        bool,
        typer.Option(
            "--behind-tls-proxy",
            help="A reverse proxy terminates TLS in front (trusts its X-Forwarded-Proto).",
        ),
    ] = False,
    forwarded_allow_ips: Annotated[
        str, typer.Option(help="With --behind-tls-proxy: the proxy's addresses.")
    ] = "127.0.0.1",
    allowed_host: Annotated[
        list[str] | None,
        typer.Option("--allowed-host", help="Host header value to serve (repeatable)."),
    ] = None,
) -> None:
    """Serve the dashboard and its JSON API over the findings store (login required)."""
    from mamori.detect.run import default_data_dir
    from mamori.web.server import ServeOptions, run

    with _errors():
        run(
            ServeOptions(
                db_url=_db(db),
                host=host,
                port=port,
                mutelist=mutelist,
                automation=automation,
                data_dir=data_dir or default_data_dir(),
                ssl_certfile=ssl_certfile,
                ssl_keyfile=ssl_keyfile,
                behind_tls_proxy=behind_tls_proxy,
                forwarded_allow_ips=forwarded_allow_ips,
                allowed_hosts=tuple(allowed_host or ()),
            ),
            announce,
        )


def serve_demo(db_url: str, *, own_store: bool, data_dir: Path | None = None) -> None:
    """The end of `mamori demo`: serve its store on loopback. On the demo's own store the
    admin password is renewed and shown on every run; on a store the user named, only on
    first use."""
    from mamori.web.server import ServeOptions, run

    with _errors():
        run(ServeOptions(db_url=db_url, reset_admin=own_store, data_dir=data_dir), announce)


def _password(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    return sys.stdin.readline().rstrip("\r\n")


PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="Read the password from standard input instead of making one."
    ),
]


@users_app.command("list")
def users_list(db: Db = None) -> None:
    """List the dashboard's users."""
    from mamori.web.accounts import Accounts

    with _errors(), Accounts.open(_db(db)) as accounts:
        for u in accounts.list_users():
            last = u.last_login_at.isoformat(timespec="seconds") if u.last_login_at else "never"
            out.print(f"{escape(u.name)}  last login {last}", highlight=False)


@users_app.command("add")
def users_add(name: str, db: Db = None, password_stdin: PasswordStdin = False) -> None:
    """Add a user; prints the generated password once."""
    from mamori.web.accounts import Accounts

    with _errors(), Accounts.open(_db(db)) as accounts:
        password = accounts.add_user(name, _password(password_stdin))
    if not password_stdin:
        out.print(f"{escape(name)}: password {escape(password)} (shown this once)", highlight=False)


@users_app.command("reset-password")
def users_reset(name: str, db: Db = None, password_stdin: PasswordStdin = False) -> None:
    """Set a new password (generated and printed once) and end the user's sessions."""
    from mamori.web.accounts import Accounts

    with _errors(), Accounts.open(_db(db)) as accounts:
        password = accounts.set_password(name, _password(password_stdin))
    if not password_stdin:
        out.print(f"{escape(name)}: password {escape(password)} (shown this once)", highlight=False)
    else:
        err.print(f"{escape(name)}: password set", highlight=False)


@users_app.command("remove")
def users_remove(name: str, db: Db = None) -> None:
    """Remove a user and end its sessions."""
    from mamori.web.accounts import Accounts

    with _errors(), Accounts.open(_db(db)) as accounts:
        accounts.remove_user(name)
    err.print(f"{escape(name)} removed", highlight=False)
