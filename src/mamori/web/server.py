"""Running the dashboard: which binds are allowed and how, the first administrator, uvicorn.

Every bind requires a login; the rules for where the server may listen:

* loopback (127.0.0.1, ::1, localhost) over plain HTTP: cookies without Secure (the browser
  would not send them back over http), Host header limited to loopback names;
* any other address: only over TLS, either served here (--ssl-certfile/--ssl-keyfile) or
  terminated by a reverse proxy in front (--behind-tls-proxy, which trusts its
  X-Forwarded-Proto); cookies are Secure and `__Host-` prefixed, and HSTS is sent.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from mamori.core import InputError
from mamori.web.accounts import ADMIN, Accounts
from mamori.web.app import WebConfig, create_app
from mamori.web.security import LOOPBACK_HOSTS


@dataclass(frozen=True)
class ServeOptions:
    db_url: str
    host: str = "127.0.0.1"
    port: int = 8000
    mutelist: Path | None = None
    automation: Path | None = None
    data_dir: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    behind_tls_proxy: bool = False
    forwarded_allow_ips: str = "127.0.0.1"
    allowed_hosts: tuple[str, ...] = ()
    # A new admin password on every start (the demo's own store), not only the first.
    reset_admin: bool = False


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def web_config(opts: ServeOptions) -> WebConfig:
    if (opts.ssl_certfile is None) != (opts.ssl_keyfile is None):
        raise InputError("--ssl-certfile and --ssl-keyfile go together")
    tls = opts.ssl_certfile is not None or opts.behind_tls_proxy
    loopback = is_loopback(opts.host)
    if not loopback and not tls:
        raise InputError(
            f"--host {opts.host} is not a loopback address: serving there over plain HTTP "
            "would send passwords and session cookies in clear; give --ssl-certfile and "
            "--ssl-keyfile, or --behind-tls-proxy when a reverse proxy terminates TLS"
        )
    if opts.allowed_hosts:
        allowed = opts.allowed_hosts
    elif loopback:
        allowed = LOOPBACK_HOSTS
    elif opts.host in ("0.0.0.0", "::"):
        allowed = ("*",)
    else:
        allowed = (opts.host,)
    return WebConfig(
        db_url=opts.db_url,
        secure_cookies=tls,
        allowed_hosts=allowed,
        hsts=tls,
        mutelist=opts.mutelist,
        automation=opts.automation,
        data_dir=opts.data_dir,
    )


def admin_password(db_url: str, *, reset: bool) -> str | None:
    """The admin password to show once: a new one on first use of the store (or when asked
    to reset it); None when users exist and nothing changed."""
    with Accounts.open(db_url) as accounts:
        if reset:
            if any(u.name == ADMIN for u in accounts.list_users()):
                return accounts.set_password(ADMIN)
            return accounts.add_user(ADMIN)
        return accounts.ensure_admin()


def listen(host: str, port: int) -> socket.socket:
    """Bind before anything else starts, so a busy port is a clear error, not a log line."""
    try:
        return socket.create_server(
            (host.strip("[]"), port),
            family=socket.AF_INET6 if ":" in host else socket.AF_INET,
            reuse_port=False,
        )
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def run(opts: ServeOptions, announce: Callable[[str, str | None], None]) -> None:
    """Serve until interrupted. `announce(url, password)` is called once the server is bound
    (password: the admin's, when one was just made)."""
    config = web_config(opts)
    if opts.mutelist is not None:
        from mamori.hub.mutelist import load_mutelist

        load_mutelist(opts.mutelist)  # an invalid file stops the start, with its problems
    if opts.automation is not None:
        from mamori.hub.automation import load_rules

        load_rules(opts.automation)
    sock = listen(opts.host, opts.port)
    try:
        password = admin_password(opts.db_url, reset=opts.reset_admin)
        app = create_app(config)
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                log_level="warning",
                server_header=False,
                proxy_headers=opts.behind_tls_proxy,
                forwarded_allow_ips=opts.forwarded_allow_ips,
                ssl_certfile=str(opts.ssl_certfile) if opts.ssl_certfile else None,
                ssl_keyfile=str(opts.ssl_keyfile) if opts.ssl_keyfile else None,
            )
        )
        scheme = "https" if config.secure_cookies else "http"
        bound_port = sock.getsockname()[1]
        shown = f"[{opts.host}]" if ":" in opts.host else opts.host
        announce(f"{scheme}://{shown}:{bound_port}/", password)
        server.run(sockets=[sock])
    finally:
        sock.close()
