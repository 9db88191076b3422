"""The JSON API under /api/ (OpenAPI at /openapi.json). Each route is one call into
`queries` (or `rules`); the pages call the same functions.

Authentication: POST /api/login with JSON credentials sets the session cookie and answers the
CSRF token, which every POST must send back in the X-CSRF-Token header.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from mamori.hub.query import GROUP_FIELDS
from mamori.investigate import Kind
from mamori.web import queries, rules
from mamori.web import schemas as s
from mamori.web.accounts import SESSION_LIFETIME
from mamori.web.app import WebContext, context
from mamori.web.investigation import investigate as investigate_entity
from mamori.web.security import session_of


def _error(text: str) -> dict[str, Any]:
    return {"model": s.Problem, "description": text}


# Answers any route may give besides its own: the guard's and the error handlers'.
router = APIRouter(
    prefix="/api",
    tags=["api"],
    responses={
        400: _error("The request's values are not usable (the detail says which)"),
        401: _error("Not logged in"),
        403: _error("Missing or wrong CSRF token, or a cross-site request"),
        503: _error("The findings store is unavailable"),
    },
)
Ctx = Annotated[WebContext, Depends(context)]
Filters = Annotated[queries.FindingQuery, Query()]
GroupBy = Literal[tuple(GROUP_FIELDS)]  # type: ignore[valid-type]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _error("Not found")}


def login_attempt(ctx: WebContext, request: Request, username: str, password: str) -> str | None:
    """Check credentials under the login rate limit: the new session's cookie token, or None
    for wrong credentials. Raises 429 when this address or user name has tried too often."""
    address = request.client.host if request.client else "unknown"
    wait = ctx.limiter.retry_after(address, username)
    if wait > 0:
        raise HTTPException(
            429, "too many failed logins; try again later", {"Retry-After": str(int(wait) + 1)}
        )
    if not ctx.accounts.authenticate(username, password):
        ctx.limiter.failed(address, username)
        return None
    ctx.limiter.succeeded(address, username)
    token, _ = ctx.accounts.start_session(username)
    return token


@router.post(
    "/login",
    response_model=s.Me,
    responses={
        401: _error("Wrong credentials"),
        415: _error("Not JSON"),
        429: _error("Too many failed logins (see Retry-After)"),
    },
)
def login(body: s.Login, request: Request, ctx: Ctx) -> Response:
    """Log in; the answer carries the CSRF token to send as X-CSRF-Token."""
    # A JSON body cannot be sent by another site's form without a CORS preflight, which this
    # server never grants: that, and the guard's Origin check, stop login CSRF.
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise HTTPException(415, "send the credentials as application/json")
    token = login_attempt(ctx, request, body.username, body.password)
    if token is None:
        raise HTTPException(401, "wrong user name or password")
    session = ctx.accounts.session(token)
    assert session is not None
    response = JSONResponse(
        s.Me(
            user=session.user, csrf_token=session.csrf_token, expires_at=session.expires_at
        ).model_dump(mode="json")
    )
    ctx.cookies.set(response, ctx.cookies.session, token, int(SESSION_LIFETIME.total_seconds()))
    return response


@router.post("/logout", status_code=204)
def logout(request: Request, ctx: Ctx) -> Response:
    token = request.cookies.get(ctx.cookies.session)
    if token:
        ctx.accounts.end_session(token)
    response = Response(status_code=204)
    ctx.cookies.clear(response, ctx.cookies.session)
    return response


@router.get("/me", response_model=s.Me)
def me(request: Request) -> s.Me:
    session = session_of(request)
    return s.Me(user=session.user, csrf_token=session.csrf_token, expires_at=session.expires_at)


@router.get("/findings", response_model=s.FindingPage)
def findings(q: Filters, ctx: Ctx) -> s.FindingPage:
    """Findings with filters (repeat a parameter for several values), order and paging."""
    return queries.findings_page(ctx.store, q)


@router.get("/findings/{finding_id}", response_model=s.FindingDetail, responses=_NOT_FOUND)
def finding(finding_id: s.FindingId, ctx: Ctx) -> s.FindingDetail:
    detail = queries.finding_detail(ctx.store, finding_id)
    if detail is None:
        raise HTTPException(404, "no such finding")
    return detail


@router.post("/findings/workflow", response_model=s.WorkflowResult)
def workflow(change: s.WorkflowChange, request: Request, ctx: Ctx) -> s.WorkflowResult:
    """Set the workflow status of findings (SUPPRESSED, NOTIFIED, RESOLVED; NEW reopens)."""
    return queries.change_workflow(ctx.store, change, session_of(request).user)


@router.get("/insights", response_model=list[s.InsightGroup])
def insights(
    by: GroupBy,  # type: ignore[valid-type]
    q: Filters,
    ctx: Ctx,
    groups: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[s.InsightGroup]:
    """Findings matching the filters, grouped by one field, largest groups first."""
    return queries.insights(ctx.store, by, q.filter(), limit=groups)


@router.get("/overview", response_model=s.Overview)
def overview(ctx: Ctx) -> s.Overview:
    return queries.overview(ctx.store)


@router.get("/scores", response_model=list[s.ScoreOut])
def scores(ctx: Ctx) -> list[s.ScoreOut]:
    """The security score of every standard, then the overall one."""
    return queries.scores(ctx.store)


@router.get("/scores/history", response_model=list[s.ScorePointOut])
def score_history(
    ctx: Ctx,
    standard: s.Text | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[s.ScorePointOut]:
    return queries.score_trend(ctx.store, standard, limit)


@router.get("/standards", response_model=list[s.StandardOut])
def standards() -> list[s.StandardOut]:
    return queries.standards()


@router.get("/compliance/{standard_id}", response_model=s.Compliance, responses=_NOT_FOUND)
def compliance(standard_id: str, ctx: Ctx) -> s.Compliance:
    """Every control of a standard: its status, checks and failing accounts and resources."""
    if standard_id not in {std.id for std in queries.standards()}:
        raise HTTPException(404, "no such standard")
    return queries.compliance(ctx.store, standard_id)


@router.get(
    "/identity/escalations/{finding_id}", response_model=s.EscalationGraph, responses=_NOT_FOUND
)
def escalation(finding_id: s.FindingId, ctx: Ctx) -> s.EscalationGraph:
    """A privilege-escalation finding's paths as a laid-out graph."""
    graph = queries.escalation(ctx.store, finding_id)
    if graph is None:
        raise HTTPException(404, "no privilege-escalation finding with that id")
    return graph


@router.get("/threats", response_model=s.Timeline)
def threats(q: Filters, ctx: Ctx) -> s.Timeline:
    """Detection findings on a timeline, a lane per ATT&CK tactic."""
    return queries.timeline(ctx.store, q)


@router.get("/investigate/{kind}", response_model=s.Investigation)
def investigate(
    kind: Kind,
    ctx: Ctx,
    id: Annotated[str, Query(min_length=1, max_length=4096, pattern=r"^[^\x00]+$")],  # noqa: A002
    days: Annotated[float, Query(gt=0, le=366)] = 7.0,
    depth: Annotated[int, Query(ge=1, le=3)] = 2,
    nodes: Annotated[int, Query(ge=1, le=500)] = 50,
) -> s.Investigation:
    """An entity's profile (activity, related entities, new behaviour, findings) and its
    neighbourhood in the investigation graph, laid out for drawing."""
    return investigate_entity(
        ctx.store, ctx.config.data_dir, kind, id, days=days, depth=depth, nodes=nodes
    )


@router.get("/automation", response_model=s.AutomationOut)
def automation(ctx: Ctx, audit: Annotated[int, Query(ge=0, le=1000)] = 100) -> s.AutomationOut:
    """The automation rules the server was started with, and the latest audit records."""
    return rules.automation_view(ctx.store, ctx.config.automation, limit=audit)


@router.get("/mutelist", response_model=s.MutelistOut)
def mutelist(ctx: Ctx) -> s.MutelistOut:
    return rules.mutelist_view(ctx.store, ctx.config.mutelist)


@router.post("/mutelist/apply", response_model=s.MuteReportOut)
def mutelist_apply(body: s.MutelistApply, request: Request, ctx: Ctx) -> s.MuteReportOut:
    """Apply the mutelist now (or count what it would change, with dry_run)."""
    by = session_of(request).user
    return rules.apply_rules(ctx.store, ctx.config.mutelist, by=by, dry_run=body.dry_run)
