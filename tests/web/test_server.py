"""Where and how the dashboard may listen, its first login, and the commands."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mamori.cli.main import EXIT_USAGE, app
from mamori.core import InputError
from mamori.web.accounts import ADMIN, Accounts
from mamori.web.security import LOOPBACK_HOSTS
from mamori.web.server import ServeOptions, admin_password, is_loopback, listen, web_config

runner = CliRunner()


def test_loopback_plain_http_has_loopback_hosts_and_plain_cookies() -> None:
    config = web_config(ServeOptions(db_url="sqlite://"))
    assert config.allowed_hosts == LOOPBACK_HOSTS
    assert not config.secure_cookies and not config.hsts
    assert is_loopback("::1") and is_loopback("localhost") and is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("dashboard.example")


def test_other_binds_need_tls() -> None:
    with pytest.raises(InputError, match="in clear"):
        web_config(ServeOptions(db_url="sqlite://", host="0.0.0.0"))
    with pytest.raises(InputError, match="go together"):
        web_config(ServeOptions(db_url="sqlite://", ssl_certfile=Path("cert.pem")))
    proxied = web_config(ServeOptions(db_url="sqlite://", host="0.0.0.0", behind_tls_proxy=True))
    assert proxied.secure_cookies and proxied.hsts and proxied.allowed_hosts == ("*",)
    named = web_config(
        ServeOptions(
            db_url="sqlite://",
            host="10.0.0.5",
            ssl_certfile=Path("c.pem"),
            ssl_keyfile=Path("k.pem"),
            allowed_hosts=("mamori.corp.example",),
        )
    )
    assert named.secure_cookies and named.allowed_hosts == ("mamori.corp.example",)


def test_a_busy_port_is_a_clear_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(InputError, match=f"cannot listen on 127.0.0.1:{port}"):
            listen("127.0.0.1", port)


def test_admin_password_shown_on_first_use_or_reset(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    first = admin_password(url, reset=False)
    assert first is not None
    assert admin_password(url, reset=False) is None
    renewed = admin_password(url, reset=True)
    assert renewed not in (None, first)
    with Accounts.open(url) as accounts:
        assert accounts.authenticate(ADMIN, renewed or "")
        assert not accounts.authenticate(ADMIN, first)


def test_users_commands(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    added = runner.invoke(app, ["users", "add", "alice", "--db", db])
    assert added.exit_code == 0, added.output
    password = re.search(r"password (\S+)", added.output)
    assert password is not None
    listed = runner.invoke(app, ["users", "list", "--db", db])
    assert "alice" in listed.output and "never" in listed.output
    again = runner.invoke(app, ["users", "add", "alice", "--db", db])
    assert again.exit_code == EXIT_USAGE and "already exists" in again.output
    reset = runner.invoke(
        app,
        ["users", "reset-password", "alice", "--password-stdin", "--db", db],
        input="a chosen long password\n",
    )
    assert reset.exit_code == 0, reset.output
    with Accounts.open(db) as accounts:
        assert accounts.authenticate("alice", "a chosen long password")
    assert runner.invoke(app, ["users", "remove", "alice", "--db", db]).exit_code == 0
    gone = runner.invoke(app, ["users", "remove", "alice", "--db", db])
    assert gone.exit_code == EXIT_USAGE


def test_serve_refuses_a_public_bind_without_tls(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    result = runner.invoke(app, ["serve", "--db", db, "--host", "0.0.0.0", "--port", "0"])
    assert result.exit_code == EXIT_USAGE
    assert "in clear" in result.output


def test_serve_command_listens_and_prints_the_first_login(tmp_path: Path) -> None:
    """The real command in its own process: it binds, prints its URL and the admin password
    once, answers the login page, and stops on SIGINT."""
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    env = {k: v for k, v in os.environ.items() if k != "MAMORI_DB"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mamori.cli.main", "serve", "--db", db, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**env, "COLUMNS": "200"},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+/)", first)
        assert url, first
        login = proc.stdout.readline()
        password = re.search(r"with password (\S+)", login)
        assert password, login
        with urllib.request.urlopen(url.group(1) + "login", timeout=10) as answer:  # noqa: S310
            assert answer.status == 200
            assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        with Accounts.open(db) as accounts:
            assert accounts.authenticate(ADMIN, password.group(1))
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
