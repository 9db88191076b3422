"""The dashboard's guard: host check, login, CSRF and security headers, as ASGI middleware
in front of every route, so that no page or API route can forget them.

* Every request but the login form, the JSON login and static files needs a live session
  (cookie). Pages without one redirect to the login form; the API answers 401.
* Every state change (any method but GET/HEAD/OPTIONS) must carry the session's CSRF token, in
  the `X-CSRF-Token` header (the API, the pages' scripts) or a `csrf_token` form field (the
  pages' forms), and must not come from another origin (`Origin`, `Sec-Fetch-Site`).
* The Host header must name the server (a DNS-rebinding page cannot reach a loopback server).
* Every response carries a CSP without 'unsafe-inline', frame denial, nosniff and a referrer
  policy; responses other than static files are not cached.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from mamori.web.accounts import Accounts, WebSession

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# Paths reachable without a session: the login form and its POST, the JSON login, static files.
PUBLIC = ("/login", "/api/login", "/static/", "/favicon.ico")
# A form carrying a CSRF token is small; anything larger is refused before it is buffered.
MAX_FORM_BYTES = 1 << 20

CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
_HEADERS = (
    ("content-security-policy", CSP),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    # Not no-referrer: under it browsers send `Origin: null` with form posts, and the Origin
    # check needs the real one. Other sites still get no URL (finding ids, filters) from us.
    ("referrer-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()"),
)


@dataclass(frozen=True)
class Cookies:
    """Cookie names and flags. Secure cookies take the `__Host-` prefix, which browsers only
    accept with Secure, Path=/ and no Domain: a sibling host cannot plant or overwrite them."""

    secure: bool

    @property
    def session(self) -> str:
        return "__Host-mamori_session" if self.secure else "mamori_session"

    @property
    def login(self) -> str:
        return "__Host-mamori_login" if self.secure else "mamori_login"

    def set(self, response: Response, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )

    def clear(self, response: Response, name: str) -> None:
        response.delete_cookie(name, path="/", secure=self.secure, httponly=True, samesite="strict")


def session_of(conn: HTTPConnection) -> WebSession:
    """The session the guard attached to a request (every non-public route has one)."""
    session: WebSession | None = conn.scope.get("state", {}).get("session")
    if session is None:  # a route registered as public asked for a session
        raise RuntimeError(f"no session on {conn.url.path}")
    return session


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def same_token(given: str | None, expected: str) -> bool:
    return given is not None and secrets.compare_digest(given.encode(), expected.encode())


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.extra = [(k.encode(), v.encode()) for k, v in _HEADERS]
        if hsts:
            self.extra.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cache = b"no-cache" if scope["path"].startswith("/static/") else b"no-store"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                added = [(k, v) for k, v in self.extra if k not in present]
                if b"cache-control" not in present:
                    added.append((b"cache-control", cache))
                message["headers"] = [*message.get("headers", []), *added]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Guard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        accounts: Accounts,
        cookies: Cookies,
        allowed_hosts: tuple[str, ...],
    ) -> None:
        self.app = app
        self.accounts = accounts
        self.cookies = cookies
        self.allowed_hosts = {h.lower().strip("[]") for h in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        refusal = self._refusal(conn)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(PUBLIC):
            await self.app(scope, receive, send)
            return
        token = conn.cookies.get(self.cookies.session)
        session = await run_in_threadpool(self.accounts.session, token) if token else None
        if session is None:
            await self._unauthenticated(conn)(scope, receive, send)
            return
        if scope["method"] not in SAFE_METHODS:
            given = conn.headers.get(CSRF_HEADER)
            if given is None and _is_form(conn.headers):
                given, receive = await _form_field(receive, CSRF_FIELD)
            if not same_token(given, session.csrf_token):
                await _forbidden(path, "missing or wrong CSRF token")(scope, receive, send)
                return
        scope.setdefault("state", {})["session"] = session
        await self.app(scope, receive, send)

    def _refusal(self, conn: HTTPConnection) -> Response | None:
        host = (conn.url.hostname or "").lower()
        if "*" not in self.allowed_hosts and host not in self.allowed_hosts:
            return PlainTextResponse("unknown host", status_code=400)
        if conn.scope["method"] in SAFE_METHODS:
            return None
        # A state change from another site: refused whatever it carries.
        if conn.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return _forbidden(conn.url.path, "cross-site request")
        origin = conn.headers.get("origin")
        if origin is not None and origin != f"{conn.url.scheme}://{conn.url.netloc}":
            return _forbidden(conn.url.path, "cross-origin request")
        return None

    def _unauthenticated(self, conn: HTTPConnection) -> Response:
        path = conn.url.path
        if path.startswith("/api/") or path == "/openapi.json":
            return JSONResponse({"detail": "log in first"}, status_code=401)
        if conn.scope["method"] not in SAFE_METHODS:
            return PlainTextResponse("log in first", status_code=401)
        wanted = path + (f"?{conn.url.query}" if conn.url.query else "")
        return RedirectResponse(f"/login?next={quote(wanted, safe='')}", status_code=303)


def _forbidden(path: str, why: str) -> Response:
    if path.startswith("/api/"):
        return JSONResponse({"detail": why}, status_code=403)
    return PlainTextResponse(why, status_code=403)


def _is_form(headers: Headers) -> bool:
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    return ctype == "application/x-www-form-urlencoded"


async def _form_field(receive: Receive, name: str) -> tuple[str | None, Receive]:
    """Read a urlencoded body to find one field, and hand the route a replay of that body.
    A body over MAX_FORM_BYTES yields no field (so the request is refused)."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None, receive
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    try:
        values = parse_qs(body.decode("latin-1"), max_num_fields=1000).get(name)
    except ValueError:  # too many fields
        values = None
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return (values[0] if values else None), replay
