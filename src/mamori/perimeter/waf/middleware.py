"""A Web ACL in front of an ASGI or WSGI application (runtime application self-protection).

    app = WafMiddleware(app, web_acl=load_web_acl("webacl.json"))          # ASGI
    app.wsgi_app = WafWsgiMiddleware(app.wsgi_app, web_acl=...)            # WSGI (Flask)

The body is read up to the Web ACL's inspection limit plus one byte (16 KB by default, or what
its AssociationConfig sets; `body_limit` overrides it), judged, and handed on to the
application unchanged: ASGI receive messages are replayed, then the rest is streamed; WSGI's
`wsgi.input` is replaced by a stream that gives the read part then the rest. A body past the
limit is inspected as AWS WAF does (its first bytes, and each rule's OversizeHandling decides).

Blocked, CAPTCHA and Challenge requests get the WAF's answer and never reach the application.
Passed requests carry the verdict for the application: ASGI `scope["mamori.waf"]` (a
`Decision`) and `request.state.waf_labels` in Starlette/FastAPI; WSGI `environ["mamori.waf"]`
and `environ["mamori.waf.labels"]`.

Rate-based rules count per process unless `rate_store="redis://host:port/db"` (or a
`RedisRateStore`) shares their counters between workers (see `ratestore`).
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import IO, TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import quote

from mamori.perimeter.waf.compiler import WebAcl
from mamori.perimeter.waf.logs import WafLogger
from mamori.perimeter.waf.request import Request
from mamori.perimeter.waf.runtime import Decision, Guard, Position, Reply, decode

if TYPE_CHECKING:
    from mamori.perimeter.waf.ratestore import RedisRateStore

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
AppT = TypeVar("AppT")


class _Guarded(Generic[AppT]):
    """The options both middlewares take (see `Guard`)."""

    def __init__(
        self,
        app: AppT,
        web_acl: WebAcl,
        *,
        logger: WafLogger | None = None,
        fail_open: bool | None = None,
        body_limit: int | None = None,
        forwarded_ip_header: str | None = None,
        forwarded_ip_position: Position = "FIRST",
        rate_store: RedisRateStore | str | None = None,
    ) -> None:
        self.app = app
        self.guard = Guard(
            web_acl, logger=logger, fail_open=fail_open, body_limit=body_limit,
            forwarded_ip_header=forwarded_ip_header, forwarded_ip_position=forwarded_ip_position,
            rate_store=rate_store,
        )  # fmt: skip


# -- ASGI -----------------------------------------------------------------------------------


async def _read_body(receive: Receive, limit: int) -> tuple[list[Message], bytes]:
    """Receive messages until `limit` bytes of body (or its end); the messages, to replay."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break  # http.disconnect: the app sees it too
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            break
    return messages, b"".join(chunks)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = deque(messages)

    async def replayed() -> Message:
        if pending:
            return pending.popleft()
        return await receive()

    return replayed


def asgi_request(scope: Scope, body: bytes, guard: Guard) -> Request:
    headers = tuple((decode(k), decode(v)) for k, v in scope.get("headers") or ())
    raw_path = scope.get("raw_path") or quote(scope.get("path") or "/").encode("ascii")
    query = scope.get("query_string") or b""
    uri = decode(raw_path) + ("?" + decode(query) if query else "")
    client = scope.get("client")
    peer = str(client[0]) if client else None
    method = scope.get("method") or "GET"
    return Request(method, uri, headers, body, guard.client_ip(peer, headers))


async def send_reply(send: Send, reply: Reply) -> None:
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers]
    headers.append((b"content-length", str(len(reply.body)).encode()))
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


def passed_scope(scope: Scope, decision: Decision) -> Scope:
    """The scope the application gets: the verdict, its labels, AWS's inserted headers."""
    scope = dict(scope)
    scope["mamori.waf"] = decision
    state = dict(scope.get("state") or {})
    state["waf_labels"] = decision.verdict.labels
    scope["state"] = state
    if decision.insert_headers:
        inserted = [(k.lower().encode(), v.encode()) for k, v in decision.insert_headers]
        scope["headers"] = [*scope.get("headers", ()), *inserted]
    return scope


class WafMiddleware(_Guarded[AsgiApp]):
    """ASGI middleware: every HTTP request (and WebSocket handshake) judged by the Web ACL."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            await self._websocket(scope, receive, send)
            return
        if kind != "http":
            await self.app(scope, receive, send)
            return
        messages, body = await _read_body(receive, self.guard.read_limit)
        request = asgi_request(scope, body, self.guard)
        decision = self.guard.judge(request, "HTTP/" + str(scope.get("http_version", "1.1")))
        if decision.reply is not None:
            await send_reply(send, decision.reply)
            return
        await self.app(passed_scope(scope, decision), _replay(messages, receive), send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = asgi_request({**scope, "method": "GET"}, b"", self.guard)
        decision = self.guard.judge(request, "HTTP/" + str(scope.get("http_version", "1.1")))
        if decision.reply is None:
            await self.app(passed_scope(scope, decision), receive, send)
            return
        await receive()  # websocket.connect; closing before accepting refuses the handshake
        await send({"type": "websocket.close", "code": 1008})


# -- WSGI -----------------------------------------------------------------------------------


class _Replay(io.RawIOBase):
    """The part of the body already read, then the rest of the original input."""

    def __init__(self, head: bytes, rest: IO[bytes] | None, remaining: int | None) -> None:
        self._head = memoryview(head)
        self._rest = rest
        self._remaining = remaining  # None: read the rest to its end (wsgi.input_terminated)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        if self._rest is None or self._remaining == 0:
            return 0
        want = len(buffer) if self._remaining is None else min(len(buffer), self._remaining)
        data = self._rest.read(want)
        if not data:
            self._remaining = 0
            return 0
        buffer[: len(data)] = data
        if self._remaining is not None:
            self._remaining -= len(data)
        return len(data)


def _read_input(environ: dict[str, Any], limit: int) -> tuple[bytes, IO[bytes]]:
    stream = environ.get("wsgi.input")
    try:
        length: int | None = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if environ.get("wsgi.input_terminated") and not environ.get("CONTENT_LENGTH"):
        length = None  # chunked: the server ends the stream
    if stream is None or length == 0:
        return b"", io.BytesIO(b"")
    want = limit if length is None else min(length, limit)
    chunks: list[bytes] = []
    got = 0
    while got < want:
        chunk = stream.read(want - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    head = b"".join(chunks)
    remaining = None if length is None else max(length - got, 0)
    return head, io.BufferedReader(_Replay(head, stream, remaining))


def _wsgi_headers(environ: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").title()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            name = key.replace("_", "-").title()
        else:
            continue
        pairs.append((name, decode(str(value).encode("latin-1", "replace"))))
    return tuple(pairs)


def wsgi_request(environ: dict[str, Any], body: bytes, guard: Guard) -> Request:
    """PEP 3333 strings are bytes read as latin-1: undo that to see what was sent."""
    headers = _wsgi_headers(environ)
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if raw:
        uri = decode(str(raw).encode("latin-1", "replace"))
    else:
        path = (environ.get("SCRIPT_NAME") or "") + (environ.get("PATH_INFO") or "/")
        uri = quote(path.encode("latin-1", "replace"), safe="/;:@&=+$,%~!*'()")
        if environ.get("QUERY_STRING"):
            uri += "?" + decode(str(environ["QUERY_STRING"]).encode("latin-1", "replace"))
    method = str(environ.get("REQUEST_METHOD") or "GET")
    return Request(method, uri, headers, body, guard.client_ip(environ.get("REMOTE_ADDR"), headers))


class WafWsgiMiddleware(_Guarded[WsgiApp]):
    """WSGI middleware (Flask: `app.wsgi_app = WafWsgiMiddleware(app.wsgi_app, web_acl=acl)`)."""

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        body, stream = _read_input(environ, self.guard.read_limit)
        environ["wsgi.input"] = stream
        request = wsgi_request(environ, body, self.guard)
        decision = self.guard.judge(request, str(environ.get("SERVER_PROTOCOL") or "HTTP/1.1"))
        reply = decision.reply
        if reply is not None:
            headers = [*reply.headers, ("Content-Length", str(len(reply.body)))]
            start_response(reply.status_line, headers)
            return [reply.body]
        environ["mamori.waf"] = decision
        environ["mamori.waf.labels"] = decision.verdict.labels
        for name, value in decision.insert_headers:
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        return self.app(environ, start_response)
