"""WafMiddleware (ASGI) in front of a real Starlette app, WafWsgiMiddleware in front of a real
Flask app: blocking, body replay, limits, fail open/closed, labels handed to the app."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from flask import Flask
from flask import request as flask_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from mamori.perimeter.waf import WafLogger, WafMiddleware, WafWsgiMiddleware, WebAcl
from tests.perimeter.waf.builders import NS, byte_match, compile_acl, field, rule, sqli

SEEN: list[bytes] = []


def _acl(**kw: Any) -> WebAcl:
    custom = {"Block": {"CustomResponse": {
        "ResponseCode": 429, "CustomResponseBodyKey": "slow",
        "ResponseHeaders": [{"Name": "x-why", "Value": "bad-bot"}]}}}  # fmt: skip
    return compile_acl(
        rule("sqli", 0, sqli(field("QueryString"), "URL_DECODE")),
        rule("body", 1, byte_match("evil", field("Body", OversizeHandling="CONTINUE"))),
        rule("bot", 3, byte_match("badbot", field("SingleHeader", Name="user-agent")), **{
            "Action": custom}),
        rule("captcha", 4, byte_match("/captcha", field("UriPath"), "STARTS_WITH"), "Captcha"),
        rule("challenge", 5, byte_match("/challenge", field("UriPath"), "STARTS_WITH"),
             "Challenge"),
        rule("tag", 6, byte_match("curl", field("SingleHeader", Name="user-agent")), "Count",
             labels=("client:curl",)),
        CustomResponseBodies={"slow": {"ContentType": "APPLICATION_JSON", "Content": '{"e":1}'}},
        **kw,
    )  # fmt: skip


async def _echo(request: StarletteRequest) -> JSONResponse:
    body = await request.body()
    SEEN.append(body)
    labels = list(getattr(request.state, "waf_labels", ()))
    return JSONResponse({"len": len(body), "labels": labels, "ip": request.client.host})  # type: ignore[union-attr]


def _starlette() -> Starlette:
    return Starlette(routes=[Route("/{path:path}", _echo, methods=["GET", "POST", "PUT"])])


def _asgi(acl: WebAcl | None = None, **kw: Any) -> TestClient:
    return TestClient(WafMiddleware(_starlette(), web_acl=acl or _acl(), **kw))


def _flask(acl: WebAcl | None = None, **kw: Any) -> Any:
    app = Flask("waf-test")

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
    @app.route("/<path:path>", methods=["GET", "POST"])
    def echo(path: str) -> Any:
        body = flask_request.get_data()
        SEEN.append(body)
        labels = list(flask_request.environ.get("mamori.waf.labels", ()))
        return {"len": len(body), "labels": labels, "ip": flask_request.remote_addr}

    app.wsgi_app = WafWsgiMiddleware(app.wsgi_app, web_acl=acl or _acl(), **kw)  # type: ignore[method-assign]
    return app.test_client()


def _json(response: Any) -> Any:
    return response.json() if callable(response.json) else response.json  # Flask: a property


def _post(client: Any, path: str, body: bytes, **kw: Any) -> Any:
    if isinstance(client, TestClient):
        return client.post(path, content=body, **kw)
    return client.post(path, data=body, **kw)


@pytest.fixture(params=["asgi", "wsgi"])
def client(request: pytest.FixtureRequest) -> Any:
    SEEN.clear()
    return _asgi() if request.param == "asgi" else _flask()


def test_clean_request_reaches_the_app_with_its_labels(client: Any) -> None:
    r = client.get("/hello?q=1", headers={"User-Agent": "curl/8"})
    assert r.status_code == 200
    assert _json(r)["labels"] == [NS + "client:curl"]


def test_sqli_is_blocked_with_403_and_never_reaches_the_app(client: Any) -> None:
    r = client.get("/x?id=1%27%20or%201%3D1--")
    assert r.status_code == 403
    assert SEEN == []


def test_custom_response_code_headers_and_body(client: Any) -> None:
    r = client.get("/", headers={"User-Agent": "badbot 1.0"})
    assert r.status_code == 429
    assert r.headers["x-why"] == "bad-bot"
    assert r.headers["content-type"].startswith("application/json")
    assert _json(r) == {"e": 1}


@pytest.mark.parametrize(("path", "status", "marker"), [
    ("/captcha/x", 405, "captcha"), ("/challenge", 202, "challenge")])  # fmt: skip
def test_captcha_and_challenge_stand_ins(client: Any, path: str, status: int, marker: str) -> None:
    r = client.get(path)
    assert (r.status_code, r.headers["x-amzn-waf-action"]) == (status, marker)
    assert SEEN == []


def test_body_is_inspected_and_replayed_unchanged(client: Any) -> None:
    body = b"a" * 40_000 + b"tail"
    r = _post(client, "/upload", body)
    assert r.status_code == 200
    assert [body] == SEEN  # the app got every byte, past the 16 KB inspection limit too
    blocked = b"x=evil"
    assert _post(client, "/", blocked).status_code == 403


def test_past_the_limit_only_the_first_bytes_are_inspected_and_oversize_handling_applies(
    client: Any,
) -> None:
    late_evil = b"a" * 20_000 + b"evil"  # past 16 KB: CONTINUE inspects the first 16 KB only
    assert _post(client, "/", late_evil).status_code == 200
    big = compile_acl(rule("big", 0, byte_match("zzz", field("Body", OversizeHandling="MATCH"))))
    small = _asgi(big) if isinstance(client, TestClient) else _flask(big)
    assert _post(small, "/", b"a" * 16 * 1024).status_code == 200  # the limit: not oversize
    assert _post(small, "/", b"a" * (16 * 1024 + 1)).status_code == 403  # MATCH on oversize


def test_body_limit_option_and_association_config() -> None:
    big = compile_acl(rule("big", 0, byte_match("zzz", field("Body", OversizeHandling="MATCH"))))
    assert _asgi(big, body_limit=100).post("/", content=b"a" * 101).status_code == 403
    assert _asgi(big, body_limit=100).post("/", content=b"a" * 100).status_code == 200
    larger = compile_acl(
        rule("big", 0, byte_match("zzz", field("Body", OversizeHandling="MATCH"))),
        AssociationConfig={"RequestBody": {"API_GATEWAY": {"DefaultSizeInspectionLimit": "KB_64"}}},
    )
    assert _asgi(larger).post("/", content=b"a" * 60_000).status_code == 200
    assert _flask(larger).post("/", data=b"a" * 70_000).status_code == 403


def _broken(acl: WebAcl) -> WebAcl:
    def fail(_: Any) -> bool:
        raise RuntimeError("engine bug")

    acl.rules[0].match = fail
    return acl


def test_fail_closed_by_default_when_the_acl_can_block(caplog: pytest.LogCaptureFixture) -> None:
    for client in (_asgi(_broken(_acl())), _flask(_broken(_acl()))):
        assert client.get("/").status_code == 403
    assert "failing closed" in caplog.text


def test_fail_open_when_configured_or_the_acl_only_counts(caplog: pytest.LogCaptureFixture) -> None:
    assert _asgi(_broken(_acl()), fail_open=True).get("/").status_code == 200
    assert _flask(_broken(_acl()), fail_open=True).get("/").status_code == 200
    counting = compile_acl(rule("c", 0, byte_match("x", field("UriPath")), "Count"))
    assert _asgi(_broken(counting)).get("/").status_code == 200
    assert caplog.text.count("failing open") == 3


def test_failure_is_written_to_the_waf_log() -> None:
    out = io.StringIO()
    client = _asgi(_broken(_acl()), logger=WafLogger(out))
    client.get("/")
    record = json.loads(out.getvalue())
    assert (record["action"], record["terminatingRuleId"]) == ("BLOCK", "Mamori_Internal_Error")


def test_forwarded_ip_config_sets_the_client_ip() -> None:
    out = io.StringIO()
    client = _flask(logger=WafLogger(out), forwarded_ip_header="X-Forwarded-For",
                    forwarded_ip_position="LAST")  # fmt: skip
    client.get("/", headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.20"})
    client.get("/", headers={"X-Forwarded-For": "not-an-ip"})
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["httpRequest"]["clientIp"] == "198.51.100.20"
    assert second["httpRequest"]["clientIp"] == "127.0.0.1"  # the connection's address


def test_allow_inserts_custom_request_headers_for_the_app() -> None:
    acl = compile_acl(rule("ok", 0, byte_match("/", field("UriPath"), "STARTS_WITH"), **{
        "Action": {"Allow": {"CustomRequestHandling": {
            "InsertHeaders": [{"Name": "verified", "Value": "yes"}]}}}}))  # fmt: skip

    async def show(request: StarletteRequest) -> JSONResponse:
        return JSONResponse({"h": request.headers.get("x-amzn-waf-verified")})

    app = Starlette(routes=[Route("/", show)])
    assert TestClient(WafMiddleware(app, web_acl=acl)).get("/").json() == {"h": "yes"}


def test_websocket_handshake_is_judged() -> None:
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    async def ws(socket: WebSocket) -> None:
        await socket.accept()
        await socket.send_text("hi")
        await socket.close()

    app = WafMiddleware(Starlette(routes=[WebSocketRoute("/ws", ws)]), web_acl=_acl())
    with TestClient(app).websocket_connect("/ws") as socket:
        assert socket.receive_text() == "hi"
    with pytest.raises(WebSocketDisconnect), TestClient(app).websocket_connect("/ws?a=1'or'1'='1"):
        pass


_ASGI = _asgi()
_WSGI = _flask()
_TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True), value=_TEXT,
       body=st.binary(max_size=300), path=_TEXT)  # fmt: skip
def test_arbitrary_headers_and_bodies_never_raise(
    name: str, value: str, body: bytes, path: str
) -> None:
    # Under a fixed first segment: a path starting "//" would be read by the test client as a
    # network-path reference (host and port), a client-side error, not the middleware's.
    uri = "/p/" + path.replace("#", "").replace("?", "")
    r = _ASGI.post(uri, headers={name: value}, content=body)
    assert r.status_code < 500  # answered, whatever the routing made of it
    w = _WSGI.post(uri, headers={name: value}, data=body)
    assert w.status_code < 500


@settings(max_examples=40, deadline=None)
@given(raw=st.binary(min_size=1, max_size=60))
def test_raw_undecodable_bytes_in_headers_and_path_never_raise(raw: bytes) -> None:
    """Bytes no HTTP client library would send, straight into the ASGI scope."""
    out = io.StringIO()
    middleware = WafMiddleware(_starlette(), web_acl=_acl(), logger=WafLogger(out))
    scope: dict[str, Any] = {
        "type": "http", "method": "POST", "http_version": "1.1", "path": "/x",
        "raw_path": b"/" + raw.replace(b"?", b""), "query_string": raw,
        "headers": [(b"x-raw", raw), (b"cookie", raw)], "client": ("192.0.2.1", 5000),
        "server": ("test", 80), "scheme": "http", "root_path": "",
    }  # fmt: skip
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": raw, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    import anyio

    anyio.run(middleware, scope, receive, send)
    assert sent[0]["type"] == "http.response.start"
    assert json.loads(out.getvalue())["httpRequest"]["uri"]  # the record was written
