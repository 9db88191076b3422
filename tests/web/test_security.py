"""The dashboard's own security: login required, CSRF, Origin and Host checks, cookies,
headers, login throttling, and attacker-controlled text rendered as text."""

from __future__ import annotations

import re

import pytest

from mamori.web.security import CSP
from tests.web.conftest import BASE, Site, serve
from tests.web.data import PASSWORD, USER, XSS

PAGES = ["/", "/findings", "/compliance", "/identity", "/threats", "/mutelist"]


def _form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field in the form"
    return found.group(1)


def test_everything_needs_a_login(site: Site) -> None:
    for path in ["/api/findings", "/api/overview", f"/api/findings/{site.filled.escalation}"]:
        answer = site.client.get(path)
        assert answer.status_code == 401, path
    assert site.client.get("/openapi.json").status_code == 401
    for path in PAGES:
        answer = site.client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/login?next=")
    refused = site.client.post("/api/findings/workflow", json={"ids": ["x"], "status": "NEW"})
    assert refused.status_code == 401


def test_wrong_credentials_are_refused(site: Site) -> None:
    for body in (
        {"username": USER, "password": "wrong password!"},
        {"username": "nobody", "password": PASSWORD},
    ):
        assert site.client.post("/api/login", json=body).status_code == 401
    assert site.client.get("/api/findings").status_code == 401


def test_login_sets_a_strict_http_only_cookie_and_logout_ends_it(site: Site) -> None:
    answer = site.client.post("/api/login", json={"username": USER, "password": PASSWORD})
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert "secure" not in cookie  # plain HTTP on loopback: a Secure cookie would not come back
    csrf = answer.json()["csrf_token"]
    assert site.client.get("/api/findings").status_code == 200
    token = site.client.cookies.get("mamori_session")
    assert site.client.post("/api/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    site.client.cookies.set("mamori_session", token or "")
    assert site.client.get("/api/findings").status_code == 401, "a logged-out session lives on"


def test_state_changes_need_the_csrf_token(site: Site) -> None:
    csrf = site.login()
    change = {"ids": [site.filled.public_bucket], "status": "SUPPRESSED"}
    assert site.client.post("/api/findings/workflow", json=change).status_code == 403
    wrong = site.client.post(
        "/api/findings/workflow", json=change, headers={"X-CSRF-Token": csrf[:-1] + "x"}
    )
    assert wrong.status_code == 403
    # Forms carry it as a field; without it the page's POST is refused too.
    form = {"ids": site.filled.public_bucket, "status": "SUPPRESSED"}
    assert site.client.post("/findings/workflow", data=form).status_code == 403
    assert site.client.post("/mutelist/apply", data={"dry_run": "yes"}).status_code == 403
    assert site.client.post("/logout").status_code == 403
    detail = site.client.get(f"/api/findings/{site.filled.public_bucket}").json()
    assert detail["finding"]["workflow"]["status"] == "NEW", "a refused change was applied"
    done = site.client.post(
        "/findings/workflow",
        data={**form, "csrf_token": csrf, "note": "seen", "back": "/findings"},
    )
    assert done.status_code == 303 and done.headers["location"] == "/findings"
    detail = site.client.get(f"/api/findings/{site.filled.public_bucket}").json()
    assert detail["finding"]["workflow"]["status"] == "SUPPRESSED"


def test_cross_site_requests_are_refused_even_with_the_token(site: Site) -> None:
    csrf = site.login()
    change = {"ids": [site.filled.public_bucket], "status": "RESOLVED"}
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        answer = site.client.post(
            "/api/findings/workflow", json=change, headers={"X-CSRF-Token": csrf, **headers}
        )
        assert answer.status_code == 403, headers
    same = site.client.post(
        "/api/findings/workflow", json=change, headers={"X-CSRF-Token": csrf, "Origin": BASE}
    )
    assert same.status_code == 200


def test_json_login_needs_a_json_body(site: Site) -> None:
    body = f'{{"username": "{USER}", "password": "{PASSWORD}"}}'
    answer = site.client.post("/api/login", content=body, headers={"Content-Type": "text/plain"})
    assert answer.status_code in (415, 422)


def test_login_form_needs_its_own_token(site: Site) -> None:
    form = {"username": USER, "password": PASSWORD, "next": "/findings"}
    assert site.client.post("/login", data={**form, "csrf_token": "guess"}).status_code == 403
    token = _form_token(site.client.get("/login").text)
    answer = site.client.post("/login", data={**form, "csrf_token": token})
    assert answer.status_code == 303 and answer.headers["location"] == "/findings"
    assert site.client.get("/findings").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil"])
def test_login_never_redirects_off_site(site: Site, target: str) -> None:
    token = _form_token(site.client.get("/login").text)
    answer = site.client.post(
        "/login",
        data={"username": USER, "password": PASSWORD, "csrf_token": token, "next": target},
    )
    assert answer.headers["location"] == "/"


def test_login_is_rate_limited(site: Site) -> None:
    for _ in range(5):
        wrong = {"username": USER, "password": "not the password"}
        assert site.client.post("/api/login", json=wrong).status_code == 401
    # Locked for this user name, even with the right password.
    answer = site.client.post("/api/login", json={"username": USER, "password": PASSWORD})
    assert answer.status_code == 429
    assert int(answer.headers["retry-after"]) > 0
    token = _form_token(site.client.get("/login").text)
    form = {"username": USER, "password": PASSWORD, "csrf_token": token}
    assert site.client.post("/login", data=form).status_code == 429


def test_unknown_host_names_are_refused(site: Site) -> None:
    # A DNS-rebinding page reaches the loopback server under its own name.
    answer = site.client.get("/login", headers={"Host": "attacker.example"})
    assert answer.status_code == 400


def test_security_headers_on_every_answer(site: Site) -> None:
    answers = [site.client.get("/login"), site.client.get("/api/findings")]
    site.login()
    answers += [site.client.get(p) for p in [*PAGES, "/api/overview", "/static/app.css"]]
    for answer in answers:
        h = answer.headers
        assert h["content-security-policy"] == CSP, answer.url
        assert "'unsafe-inline'" not in h["content-security-policy"]
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert h["x-frame-options"] == "DENY"
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "same-origin"
        assert "cache-control" in h


def test_pages_have_no_inline_script_or_style(site: Site) -> None:
    site.login()
    for path in [
        *PAGES,
        f"/findings/{site.filled.escalation}",
        f"/identity?finding={site.filled.escalation}",
    ]:
        html = site.client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert " style=" not in html and "<style" not in html, path
        assert not re.search(r"\son[a-z]+=", html), path


def test_hostile_finding_text_is_escaped_everywhere(site: Site) -> None:
    site.login()
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for path in [
        f"/findings/{site.filled.hostile_import}",
        f"/findings/{site.filled.hostile_detection}",
        "/findings?text=script",
        "/threats",
        "/",
    ]:
        html = site.client.get(path).text
        assert XSS not in html, path
        assert escaped in html or "&lt;script&gt;" in html, path
    detail = site.client.get(f"/findings/{site.filled.hostile_import}").text
    assert 'href="javascript:' not in detail
    assert "onerror=" not in detail.replace("onerror=&#34;", "")


def test_secure_cookies_when_served_over_tls(db_url: str) -> None:
    from mamori.web.accounts import Accounts

    with Accounts.open(db_url) as accounts:
        accounts.add_user(USER, PASSWORD)
    with serve(db_url, secure_cookies=True, hsts=True, allowed_hosts=("127.0.0.1",)) as client:
        answer = client.post("/api/login", json={"username": USER, "password": PASSWORD})
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith("__Host-mamori_session=")
        assert "secure" in cookie.lower()
        assert answer.headers["strict-transport-security"].startswith("max-age=")
