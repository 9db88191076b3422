"""The WAF reverse proxy over loopback in front of a real upstream server (uvicorn)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from mamori.perimeter.waf.proxy import ProxyConfig, build_app
from tests.perimeter.waf.builders import byte_match, field, rule, sqli, web_acl_doc

HITS: list[str] = []
RELEASE = threading.Event()


async def _echo(request: Request) -> JSONResponse:
    body = await request.body()
    HITS.append(request.url.path)
    return JSONResponse(
        {
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "headers": [[k, v] for k, v in request.headers.items()],
            "len": len(body),
            "sha": hashlib.sha256(body).hexdigest(),
        },
        headers={"Connection": "close, x-upstream-hop", "x-upstream-hop": "1", "x-kept": "1"},
    )


async def _stream(_: Request) -> StreamingResponse:
    async def chunks() -> Any:
        yield b"first;"
        # the second chunk only once the client has seen the first: proves streaming
        while not RELEASE.is_set():
            await asyncio.sleep(0.01)
        yield b"second"

    return StreamingResponse(chunks(), media_type="text/plain")


async def _gzip(_: Request) -> Response:
    import gzip

    return Response(gzip.compress(b"x" * 1000), headers={"content-encoding": "gzip"})


UPSTREAM = Starlette(
    routes=[
        Route("/stream", _stream),
        Route("/gzip", _gzip),
        Route("/{path:path}", _echo, methods=["GET", "POST", "PUT", "DELETE"]),
    ]
)


@contextmanager
def _serve(app: Any) -> Iterator[str]:
    sock = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", proxy_headers=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            thread.join(0.05)
        assert server.started
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _acl_file(tmp_path: Path) -> Path:
    path = tmp_path / "webacl.json"
    path.write_text(json.dumps(web_acl_doc(
        rule("sqli", 0, sqli(field("QueryString"), "URL_DECODE")),
        rule("body", 1, byte_match("evil", field("Body", OversizeHandling="CONTINUE"))),
    )))  # fmt: skip
    return path


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with _serve(UPSTREAM) as url:
        yield url


@pytest.fixture
def proxy(tmp_path: Path, upstream: str) -> Iterator[tuple[str, Path]]:
    HITS.clear()
    log = tmp_path / "waf.log"
    config = ProxyConfig(web_acl=str(_acl_file(tmp_path)), upstream=upstream, log_file=str(log))
    with _serve(build_app(config)) as url:
        yield url, log


def test_passed_request_reaches_the_upstream_with_headers_rewritten(
    proxy: tuple[str, Path],
) -> None:
    url, log = proxy
    headers = {
        "X-Forwarded-For": "203.0.113.1", "Connection": "keep-alive, x-hop",
        "x-hop": "secret", "Keep-Alive": "timeout=5", "Host": "app.example",
    }  # fmt: skip
    r = httpx.get(f"{url}/a/b?x=1&y=%2F", headers=headers)
    assert r.status_code == 200
    seen = r.json()
    sent = dict(seen["headers"])
    assert (seen["path"], seen["query"]) == ("/a/b", "x=1&y=%2F")
    assert sent["x-forwarded-for"] == "203.0.113.1, 127.0.0.1"
    assert sent["host"] == "app.example"
    assert "x-hop" not in sent and "keep-alive" not in sent
    assert "x-upstream-hop" not in r.headers and r.headers["x-kept"] == "1"
    record = json.loads(log.read_text().splitlines()[-1])
    assert (record["action"], record["httpRequest"]["uri"]) == ("ALLOW", "/a/b")


def test_blocked_requests_never_reach_the_upstream(proxy: tuple[str, Path]) -> None:
    url, log = proxy
    assert httpx.get(f"{url}/x?id=1%27%20or%201%3D1--").status_code == 403
    assert httpx.post(f"{url}/upload", content=b"a=evil").status_code == 403
    assert HITS == []
    actions = [json.loads(line)["terminatingRuleId"] for line in log.read_text().splitlines()]
    assert actions == ["sqli", "body"]


def test_large_body_is_forwarded_intact(proxy: tuple[str, Path]) -> None:
    url, _ = proxy
    body = os.urandom(300_000).replace(b"evil", b"good")
    r = httpx.post(f"{url}/upload", content=body)
    assert r.json()["len"] == len(body)
    assert r.json()["sha"] == hashlib.sha256(body).hexdigest()

    def chunks() -> Iterator[bytes]:  # chunked upload, no Content-Length
        yield body[:1000]
        yield body[1000:]

    r = httpx.put(f"{url}/upload", content=chunks())
    assert r.json()["sha"] == hashlib.sha256(body).hexdigest()


def test_responses_are_streamed_and_bytes_untouched(proxy: tuple[str, Path]) -> None:
    url, _ = proxy
    RELEASE.clear()
    with httpx.stream("GET", f"{url}/stream", timeout=10) as r:
        parts = r.iter_raw()
        first = next(parts)
        assert first.startswith(b"first;")  # arrived before the upstream finished
        RELEASE.set()
        rest = b"".join(parts)
    assert first + rest == b"first;second"
    raw = httpx.get(f"{url}/gzip")
    assert raw.headers["content-encoding"] == "gzip"
    assert raw.content == b"x" * 1000  # decoded by the client: the proxy passed gzip through


def test_upstream_down_gives_502(tmp_path: Path) -> None:
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    config = ProxyConfig(web_acl=str(_acl_file(tmp_path)), upstream=f"http://127.0.0.1:{port}")
    with _serve(build_app(config)) as url:
        assert httpx.get(f"{url}/").status_code == 502
        assert httpx.get(f"{url}/?q=1'%20or%201=1--").status_code == 403  # the WAF still answers


def test_cli_proxy_with_two_workers(tmp_path: Path, upstream: str) -> None:
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    log = tmp_path / "waf.log"
    cmd = [
        sys.executable, "-c", "from mamori.cli.main import run; run()", "waf", "proxy",
        "--web-acl", str(_acl_file(tmp_path)), "--upstream", upstream,
        "--listen", f"127.0.0.1:{port}", "--workers", "2", "--log-file", str(log),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/ok", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read().decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "the proxy did not start"
                time.sleep(0.2)
        assert r.status_code == 200
        for _ in range(20):
            assert httpx.get(f"http://127.0.0.1:{port}/?a=1'or'1'='1").status_code == 403
        lines = log.read_text().splitlines()
        assert len(lines) == 21 and all(json.loads(line)["formatVersion"] == 1 for line in lines)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(20)


def test_cli_proxy_refuses_a_bad_web_acl_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    cmd = [
        sys.executable, "-c", "from mamori.cli.main import run; run()", "waf", "proxy",
        "--web-acl", str(bad), "--upstream", "http://127.0.0.1:9",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, timeout=60, check=False)
    assert done.returncode == 2
    assert b"bad.json" in done.stderr
