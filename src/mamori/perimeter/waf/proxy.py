"""`mamori waf proxy`: a reverse proxy that judges every request with a Web ACL.

An ASGI app (`UpstreamProxy`) behind `WafMiddleware`, served by uvicorn, optionally in several
worker processes. Passed requests are forwarded with aiohttp's client (its keep-alive pool and
C HTTP parser cost a fraction of httpx's per request, measured in docs/waf-runtime.md; no
cookie jar, so nothing one client's response sets is sent for another): the body streamed
(what the WAF read is replayed first), hop-by-hop headers removed, the client's address
appended to X-Forwarded-For, the Host kept; the upstream's answer is streamed back as it
arrives, its bytes untouched (a compressed body stays compressed). An upstream that cannot be
reached or fails mid-request gives 502, one that does not answer in time 504. Blocked requests
are answered by the WAF and never reach the upstream.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp
import orjson
from yarl import URL

from mamori.core import InputError
from mamori.perimeter.waf.logs import WafLogger
from mamori.perimeter.waf.middleware import Receive, Scope, Send, WafMiddleware, send_reply
from mamori.perimeter.waf.model import load_web_acl
from mamori.perimeter.waf.runtime import Reply

HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te",
    b"trailer", b"trailers", b"transfer-encoding", b"upgrade", b"proxy-connection",
})  # fmt: skip
_CONFIG_ENV = "MAMORI_WAF_PROXY_CONFIG"  # how the parent hands its settings to uvicorn's workers


def _end_to_end(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Headers without the hop-by-hop ones, including those the Connection header names."""
    named = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == b"connection"
        for token in value.split(b",")
    }
    return [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP and k.lower() not in named]


def _error(status: int, text: str) -> Reply:
    return Reply(status, (("content-type", "text/plain; charset=utf-8"),), text.encode())


class UpstreamProxy:
    """ASGI app forwarding each HTTP request to `upstream` (scheme://host:port[/prefix])."""

    def __init__(self, upstream: str, *, timeout: float = 30.0, max_connections: int = 256) -> None:
        try:
            url = URL(upstream)
        except ValueError:
            url = URL()
        if url.scheme not in ("http", "https") or not url.host:
            raise InputError(f"--upstream {upstream!r}: an http:// or https:// URL")
        self.base = str(url).rstrip("/")
        # no overall limit (a streamed response may last): connecting and each read are bounded
        self.timeout = aiohttp.ClientTimeout(
            total=None, connect=min(timeout, 5.0), sock_read=timeout
        )
        self.max_connections = max_connections
        self._client: aiohttp.ClientSession | None = None

    @property
    def client(self) -> aiohttp.ClientSession:
        if self._client is None:  # made in the serving event loop, on first use
            self._client = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.max_connections),
                timeout=self.timeout,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,  # the upstream's bytes go back as they came
                # the client's own headers are forwarded, none of aiohttp's added
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
                trust_env=False,
            )
        return self._client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._forward(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _request(self, scope: Scope, receive: Receive) -> dict[str, Any]:
        """The keyword arguments of the upstream request."""
        raw: list[tuple[bytes, bytes]] = list(scope.get("headers") or ())
        headers = _end_to_end(raw)
        client = scope.get("client")
        if client:
            forwarded = [v for k, v in headers if k.lower() == b"x-forwarded-for"]
            chain = b", ".join([*forwarded, str(client[0]).encode()])
            headers = [(k, v) for k, v in headers if k.lower() != b"x-forwarded-for"]
            headers.append((b"x-forwarded-for", chain))
        headers.append((b"x-forwarded-proto", str(scope.get("scheme", "http")).encode()))
        names = {k.lower() for k, _ in raw}
        has_body = b"content-length" in names or b"transfer-encoding" in names
        path = scope.get("raw_path") or str(scope.get("path") or "/").encode()
        query = scope.get("query_string") or b""
        target = self.base.encode() + path + (b"?" + query if query else b"")
        return {
            "method": scope.get("method", "GET"),
            # encoded: the path and query go on as the client sent them, not re-quoted
            "url": URL(target.decode("latin-1"), encoded=True),
            "headers": [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers],
            "data": _body(receive) if has_body else None,
            "allow_redirects": False,
        }

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            response = await self.client.request(**self._request(scope, receive))
        except TimeoutError:  # aiohttp's connect and read timeouts included
            await send_reply(send, _error(504, "upstream did not answer in time\n"))
            return
        except (aiohttp.ClientError, ValueError):
            await send_reply(send, _error(502, "upstream unreachable\n"))
            return
        try:
            await send({
                "type": "http.response.start", "status": response.status,
                "headers": _end_to_end(list(response.raw_headers)),
            })  # fmt: skip
            async for chunk in response.content.iter_any():
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        except (TimeoutError, aiohttp.ClientError):
            # headers are out: the only honest signal left is to cut the connection short
            raise ConnectionAbortedError("upstream failed mid-response") from None
        finally:
            response.release()


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


@dataclass
class ProxyConfig:
    web_acl: str
    upstream: str
    resources: list[str] = field(default_factory=list)
    geo_db: str | None = None
    asn_db: str | None = None
    log_file: str | None = None  # None: no WAF log; "-": stdout
    fail_open: bool | None = None
    body_limit: int | None = None
    forwarded_ip_header: str | None = None
    timeout: float = 30.0
    search_string_encoding: str = "base64"
    source_id: str = "-"
    rate_store: str | None = None  # redis://...: rate-based counts shared by the workers


def build_app(config: ProxyConfig) -> WafMiddleware:
    acl = load_web_acl(
        config.web_acl, resources=config.resources, geo_db=config.geo_db, asn_db=config.asn_db,
        search_string_encoding=config.search_string_encoding,
    )  # fmt: skip
    logger = None
    if config.log_file is not None:
        logger = WafLogger(config.log_file, http_source_id=config.source_id)
    return WafMiddleware(
        UpstreamProxy(config.upstream, timeout=config.timeout), web_acl=acl, logger=logger,
        fail_open=config.fail_open, body_limit=config.body_limit,
        forwarded_ip_header=config.forwarded_ip_header, rate_store=config.rate_store,
    )  # fmt: skip


def app_from_env() -> WafMiddleware:
    """uvicorn's factory in each worker process: the settings come from the parent."""
    return build_app(ProxyConfig(**orjson.loads(os.environ[_CONFIG_ENV])))


def serve(config: ProxyConfig, host: str, port: int, workers: int = 1) -> None:
    """Run the proxy until interrupted. The Web ACL is checked here first, so a bad file is an
    InputError before any worker starts."""
    import uvicorn

    checked = build_app(config)
    if checked.guard.logger is not None:
        checked.guard.logger.close()
    if checked.guard.rate_store is not None:  # unreachable at start: an error, not a fail mode
        checked.guard.rate_store.check()
        checked.guard.rate_store.close()
    os.environ[_CONFIG_ENV] = orjson.dumps(asdict(config)).decode()
    # proxy_headers off: the client address is the connection's, never a header's
    options: dict[str, Any] = {
        "log_level": "warning", "access_log": False, "workers": workers, "proxy_headers": False,
    }  # fmt: skip
    uvicorn.run(
        "mamori.perimeter.waf.proxy:app_from_env", factory=True, host=host, port=port, **options
    )
