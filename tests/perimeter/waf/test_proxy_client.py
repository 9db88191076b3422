"""The proxy's upstream client over loopback: what it must not change or share between clients."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from mamori.core import InputError
from mamori.perimeter.waf.proxy import ProxyConfig, UpstreamProxy, build_app
from tests.perimeter.waf.test_proxy import _acl_file, _serve


async def _slow(_: Request) -> PlainTextResponse:
    await asyncio.sleep(3)
    return PlainTextResponse("late")


async def _set_cookie(_: Request) -> PlainTextResponse:
    response = PlainTextResponse("set")
    response.set_cookie("session", "victim-secret")
    return response


async def _echo(request: Request) -> JSONResponse:
    return JSONResponse({
        "raw_path": request.scope["raw_path"].decode("latin-1"),
        "query": request.scope["query_string"].decode("latin-1"),
        "headers": [[k, v] for k, v in request.headers.items()],
    })  # fmt: skip


UPSTREAM = Starlette(
    routes=[
        Route("/slow", _slow),
        Route("/set-cookie", _set_cookie),
        Route("/{path:path}", _echo),
    ]
)


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with _serve(UPSTREAM) as url:
        yield url


@pytest.fixture
def proxy(tmp_path: Path, upstream: str) -> Iterator[str]:
    config = ProxyConfig(web_acl=str(_acl_file(tmp_path)), upstream=upstream, timeout=0.5)
    with _serve(build_app(config)) as url:
        yield url


def test_slow_upstream_gives_504(proxy: str) -> None:
    r = httpx.get(f"{proxy}/slow", timeout=10)
    assert r.status_code == 504
    assert b"in time" in r.content


def test_no_cookie_is_carried_from_one_client_to_another(proxy: str) -> None:
    first = httpx.get(f"{proxy}/set-cookie")
    assert "victim-secret" in first.headers["set-cookie"]  # passed back to its own client
    seen = dict(httpx.get(f"{proxy}/echo").json()["headers"])
    assert "cookie" not in seen


def _raw_get(url: str, target: str) -> bytes:
    """A request line sent as it is (HTTP clients normalise dot segments before sending)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"GET {target} HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return body


def test_path_and_query_are_forwarded_as_sent(proxy: str) -> None:
    seen = json.loads(_raw_get(proxy, "/a%2Fb/%7Euser/../c?x=%2F&y=a+b&z=%zz"))
    assert seen["raw_path"] == "/a%2Fb/%7Euser/../c"
    assert seen["query"] == "x=%2F&y=a+b&z=%zz"


def test_no_client_headers_added(proxy: str) -> None:
    """The upstream sees the client's headers (and the forwarding ones), none of the library's
    own User-Agent, Accept or Accept-Encoding."""
    with httpx.Client() as client:
        request = client.build_request("GET", f"{proxy}/h")
        for name in ("user-agent", "accept", "accept-encoding"):
            del request.headers[name]
        seen = dict(client.send(request).json()["headers"])
    assert not {"user-agent", "accept", "accept-encoding"} & set(seen)
    assert seen["x-forwarded-for"] == "127.0.0.1"


@pytest.mark.parametrize("upstream_url", ["ftp://example.com", "http://", "not a url", "http://["])
def test_bad_upstream_is_an_input_error(upstream_url: str) -> None:
    with pytest.raises(InputError, match="--upstream"):
        UpstreamProxy(upstream_url)
