"""The dashboard as an ASGI application: `create_app(WebConfig(...))`.

One FastAPI app holds the JSON API (`/api/...`, described at `/openapi.json`) and the
server-rendered pages; the guard (mamori.web.security) stands in front of both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from mamori import __version__
from mamori.core import InputError, StoreError
from mamori.hub import Store
from mamori.web.accounts import Accounts
from mamori.web.ratelimit import LoginLimiter
from mamori.web.security import LOOPBACK_HOSTS, Cookies, Guard, SecurityHeaders

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class WebConfig:
    db_url: str
    # Secure cookies (with the __Host- prefix): whenever the browser reaches the server over
    # HTTPS, i.e. everywhere but plain HTTP on loopback.
    secure_cookies: bool = False
    # Host header values served; "*" for any (a server behind a proxy that checks it).
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    hsts: bool = False
    mutelist: Path | None = None
    automation: Path | None = None
    # Where `mamori detect` ingests logs and keeps the investigation graph.
    data_dir: Path | None = None


@dataclass
class WebContext:
    """What the routes share, kept on `app.state.web`."""

    config: WebConfig
    store: Store
    accounts: Accounts
    cookies: Cookies
    templates: Jinja2Templates
    limiter: LoginLimiter = field(default_factory=LoginLimiter)


def context(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.web
    return ctx


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        # Every template escapes everything: finding text comes from logs and API answers.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    from mamori.web.render import install

    install(env)
    return Jinja2Templates(env=env)


def create_app(config: WebConfig) -> FastAPI:
    store = Store.open(config.db_url)
    try:
        accounts = Accounts.open(config.db_url)
    except BaseException:
        store.close()
        raise
    cookies = Cookies(secure=config.secure_cookies)
    web = WebContext(config, store, accounts, cookies, _templates())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            store.close()
            accounts.close()

    app = FastAPI(
        title="Mamori",
        version=__version__,
        summary="Findings hub, scores, identity and threats of a Mamori store.",
        # Swagger and ReDoc load scripts from CDNs, which the CSP (and the offline rule) forbid.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.web = web
    from mamori.web import api, pages

    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(StoreError, _store_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    # Outermost first: headers go on every answer, the guard's refusals included.
    app.add_middleware(
        Guard, accounts=accounts, cookies=cookies, allowed_hosts=config.allowed_hosts
    )
    app.add_middleware(SecurityHeaders, hsts=config.hsts)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _input_error(request: Request, exc: Exception) -> Response:
    return _error(request, 400, str(exc))


async def _store_error(request: Request, exc: Exception) -> Response:
    return _error(request, 503, str(exc))


async def _invalid_request(request: Request, exc: Exception) -> Response:
    if _wants_json(request):
        return await request_validation_exception_handler(request, exc)  # type: ignore[arg-type]
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    where = ", ".join(".".join(str(p) for p in e["loc"][1:]) for e in errors[:3])
    return _error(request, 422, f"Invalid request ({where or 'parameters'}).")


def _error(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status)
    from mamori.web.pages import error_page

    return error_page(request, status, message)
