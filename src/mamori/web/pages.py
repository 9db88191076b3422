"""The dashboard's pages: server-rendered templates over the same `queries` as the API.
Forms post to the routes below with the session's CSRF token as a hidden field (the guard
checks it) and redirect back after a change (POST-redirect-GET)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from mamori.core import InputError, WorkflowStatus
from mamori.investigate import Kind
from mamori.investigate.kinds import parse_kind
from mamori.web import queries, rules
from mamori.web import schemas as s
from mamori.web.accounts import SESSION_LIFETIME
from mamori.web.api import login_attempt
from mamori.web.app import HERE, WebContext, context
from mamori.web.investigation import entity_links
from mamori.web.investigation import investigate as investigate_entity
from mamori.web.security import safe_next, same_token, session_of

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Ctx = Annotated[WebContext, Depends(context)]
Filters = Annotated[queries.FindingQuery, Query()]
_LOGIN_TTL = 900
NAV = (
    ("/", "Overview"),
    ("/findings", "Findings"),
    ("/compliance", "Compliance"),
    ("/identity", "Identity"),
    ("/threats", "Threats"),
    ("/investigate", "Investigate"),
    ("/mutelist", "Suppression"),
    ("/automation", "Automation"),
)


def page(request: Request, template: str, status: int = 200, **data: Any) -> Response:
    ctx: WebContext = request.app.state.web
    session = request.scope.get("state", {}).get("session")
    response = ctx.templates.TemplateResponse(
        request,
        template,
        {
            "nav": NAV,
            "user": session.user if session else None,
            "csrf": session.csrf_token if session else "",
            **data,
        },
        status_code=status,
    )
    return response


def error_page(request: Request, status: int, message: str) -> Response:
    return page(request, "error.html", status=status, status_code=status, message=message)


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml")


# -- login -------------------------------------------------------------------------------------


@router.get("/login")
def login_form(request: Request, ctx: Ctx, next: str = "/") -> Response:  # noqa: A002
    # Before a session exists, the form's CSRF token is a random value also set as a cookie
    # (double submit): another site can neither read the cookie nor set it.
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html", login_token=token, next=safe_next(next), error=None)
    ctx.cookies.set(response, ctx.cookies.login, token, _LOGIN_TTL)
    return response


@router.post("/login")
def login_submit(
    request: Request,
    ctx: Ctx,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",  # noqa: A002
) -> Response:
    expected = request.cookies.get(ctx.cookies.login)
    if not expected or not same_token(csrf_token, expected):
        return _login_again(request, ctx, next, "Your login form expired; please try again.", 403)
    try:
        token = login_attempt(ctx, request, username, password)
    except HTTPException as exc:
        response = _login_again(request, ctx, next, "Too many failed logins; wait and retry.", 429)
        response.headers.update(exc.headers or {})
        return response
    if token is None:
        return _login_again(request, ctx, next, "Wrong user name or password.", 401)
    response = RedirectResponse(safe_next(next), status_code=303)
    ctx.cookies.set(response, ctx.cookies.session, token, int(SESSION_LIFETIME.total_seconds()))
    ctx.cookies.clear(response, ctx.cookies.login)
    return response


def _login_again(request: Request, ctx: WebContext, nxt: str, error: str, status: int) -> Response:
    token = secrets.token_urlsafe(24)
    response = page(
        request, "login.html", status, login_token=token, next=safe_next(nxt), error=error
    )
    ctx.cookies.set(response, ctx.cookies.login, token, _LOGIN_TTL)
    return response


@router.post("/logout")
def logout(request: Request, ctx: Ctx) -> Response:
    token = request.cookies.get(ctx.cookies.session)
    if token:
        ctx.accounts.end_session(token)
    response = RedirectResponse("/login", status_code=303)
    ctx.cookies.clear(response, ctx.cookies.session)
    return response


# -- pages -------------------------------------------------------------------------------------


@router.get("/")
def overview(request: Request, ctx: Ctx) -> Response:
    return page(request, "overview.html", data=queries.overview(ctx.store))


@router.get("/findings")
def findings(request: Request, q: Filters, ctx: Ctx) -> Response:
    return page(
        request,
        "findings.html",
        q=q,
        data=queries.findings_page(ctx.store, q),
        workflows=list(WorkflowStatus),
    )


@router.post("/findings/workflow")
def findings_workflow(
    request: Request,
    ctx: Ctx,
    ids: Annotated[list[str], Form()],
    status: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/findings",
) -> Response:
    try:
        change = s.WorkflowChange.model_validate(
            {"ids": ids, "status": status.upper(), "note": note or None}
        )
    except ValidationError as exc:
        raise InputError(f"workflow change: {exc.errors()[0]['msg']}") from None
    queries.change_workflow(ctx.store, change, session_of(request).user)
    return RedirectResponse(safe_next(back), status_code=303)


@router.get("/findings/{finding_id}")
def finding(request: Request, finding_id: s.FindingId, ctx: Ctx) -> Response:
    detail = queries.finding_detail(ctx.store, finding_id)
    if detail is None:
        return error_page(request, 404, "No finding with that id.")
    return page(
        request,
        "finding.html",
        d=detail,
        f=detail.finding,
        investigate_links=entity_links(detail.finding),
    )


@router.get("/compliance")
def compliance_index(request: Request, ctx: Ctx) -> Response:
    scores = {sc.standard: sc for sc in queries.scores(ctx.store)}
    return page(request, "standards.html", standards=queries.standards(), scores=scores)


@router.get("/compliance/{standard_id}")
def compliance(request: Request, standard_id: str, ctx: Ctx) -> Response:
    if standard_id not in {std.id for std in queries.standards()}:
        return error_page(request, 404, "No such standard.")
    return page(request, "compliance.html", data=queries.compliance(ctx.store, standard_id))


@router.get("/identity")
def identity(
    request: Request,
    ctx: Ctx,
    finding: Annotated[s.FindingId | None, Query()] = None,
) -> Response:
    data = queries.identity(ctx.store, finding)
    if data.selected is None and finding is None and data.escalations.items:
        data = queries.identity(ctx.store, data.escalations.items[0].id)
    return page(request, "identity.html", data=data)


@router.get("/threats")
def threats(request: Request, q: Filters, ctx: Ctx) -> Response:
    q = q.model_copy(update={"limit": min(q.limit, 200)})
    return page(request, "threats.html", q=q, data=queries.timeline(ctx.store, q))


@router.get("/investigate")
def investigate(
    request: Request,
    ctx: Ctx,
    kind: Annotated[str, Query(max_length=32)] = Kind.ACCESS_KEY.value,
    id: Annotated[str, Query(max_length=4096, pattern=r"^[^\x00]*$")] = "",  # noqa: A002
    days: Annotated[float, Query(gt=0, le=366)] = 7.0,
    depth: Annotated[int, Query(ge=1, le=3)] = 2,
) -> Response:
    data, problem = None, None
    if id.strip():
        try:
            data = investigate_entity(
                ctx.store, ctx.config.data_dir, parse_kind(kind), id, days=days, depth=depth
            )
        except InputError as exc:
            problem = str(exc)
    return page(
        request,
        "investigate.html",
        kinds=[k.value for k in Kind],
        kind=kind,
        entity_id=id,
        days=days,
        depth=depth,
        data=data,
        problem=problem,
    )


@router.get("/automation")
def automation(request: Request, ctx: Ctx) -> Response:
    try:
        data, problem = rules.automation_view(ctx.store, ctx.config.automation), None
    except InputError as exc:
        data, problem = None, str(exc)
    return page(request, "automation.html", data=data, problem=problem)


@router.get("/mutelist")
def mutelist(request: Request, ctx: Ctx) -> Response:
    try:
        data, problem = rules.mutelist_view(ctx.store, ctx.config.mutelist), None
    except InputError as exc:
        data, problem = None, str(exc)
    return page(request, "mutelist.html", data=data, problem=problem, report=None)


@router.post("/mutelist/apply")
def mutelist_apply(request: Request, ctx: Ctx, dry_run: Annotated[str, Form()] = "yes") -> Response:
    report = rules.apply_rules(
        ctx.store, ctx.config.mutelist, by=session_of(request).user, dry_run=dry_run != "no"
    )
    data = rules.mutelist_view(ctx.store, ctx.config.mutelist)
    return page(request, "mutelist.html", data=data, problem=None, report=report)
