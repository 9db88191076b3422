"""The dashboard driven as a person would, in Debian's Chromium through Playwright, against a
real uvicorn server on a free loopback port over a store the analyses filled."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from mamori.hub import Store
from mamori.web import WebConfig, create_app
from mamori.web.accounts import Accounts
from mamori.web.server import listen
from tests.hub.conftest import db_url, pg_url  # noqa: F401 - fixtures
from tests.web.data import (
    CIS,
    PASSWORD,
    PUBLIC_CHECK,
    USER,
    XSS,
    Filled,
    Investigated,
    fill,
    investigated,
)

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{CHROMIUM} is missing: CI must install chromium (.ci/run)", pytrace=False)
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402


@contextmanager
def uvicorn_on_loopback(config: WebConfig) -> Iterator[str]:
    """The app under uvicorn in a thread, on a free loopback port; yields its base URL."""
    with Accounts.open(config.db_url) as accounts:
        accounts.add_user(USER, PASSWORD)
    sock = listen("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(config), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            thread.join(0.05)
        assert server.started, "the server did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def served(db_url: str) -> Iterator[tuple[str, Filled]]:  # noqa: F811
    with Store.open(db_url) as store:
        filled = fill(store)
    with uvicorn_on_loopback(WebConfig(db_url=db_url)) as base:
        yield base, filled


@pytest.fixture
def served_graph(tmp_path: Path) -> Iterator[tuple[str, Investigated]]:
    world = investigated(tmp_path / "world")
    with uvicorn_on_loopback(WebConfig(db_url=world.db_url, data_dir=world.data_dir)) as base:
        yield base, world


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[tuple[Page, list[str]]]:
    """A page of a fresh profile; the second item collects dialogs and CSP complaints."""
    problems: list[str] = []
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=ARGS
        )
        try:
            page = context.new_page()
            page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
            page.on(
                "console",
                lambda m: (
                    problems.append(f"console: {m.text}")
                    if m.type == "error" and "Content Security Policy" in m.text
                    else None
                ),
            )
            page.set_default_timeout(10_000)
            yield page, problems
        finally:
            context.close()


def _log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/")


def _score(page: Page, base: str) -> float:
    page.goto(f"{base}/")
    text = page.locator(f'[data-score="{CIS}"]').inner_text()
    return float(text.rstrip("%"))


def test_analyst_session(served: tuple[str, Filled], browser_page: tuple[Page, list[str]]) -> None:
    base, filled = served
    page, problems = browser_page

    # Log in: any page sends to the form, which comes back to it.
    page.goto(f"{base}/findings")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("input[name=username]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/findings")
    before = _score(page, base)

    # Filter the findings list by severity.
    page.goto(f"{base}/findings")
    page.check("input[name=severity][value=HIGH]")
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"severity=HIGH"))
    severities = page.locator("table.findings tbody .sev").all_inner_texts()
    assert severities and set(severities) == {"HIGH"}

    # Open a finding and suppress it, with a note.
    page.goto(f"{base}/findings?check={PUBLIC_CHECK}&status=FAILED&order=account_id")
    page.locator("table.findings a.title").first.click()
    expect(page).to_have_url(f"{base}/findings/{filled.public_bucket}")
    expect(page.locator("h1")).to_contain_text("blocks public access")
    page.select_option("form.workflow select[name=status]", "SUPPRESSED")
    page.fill("form.workflow input[name=note]", "accepted: static website bucket")
    page.click("form.workflow button[type=submit]")
    expect(page.locator("[data-workflow]")).to_have_text("SUPPRESSED")
    expect(page.locator("table.history")).to_contain_text("accepted: static website bucket")

    # The score moves: a suppressed failure is an accepted risk.
    assert _score(page, base) > before

    # Bulk action: every finding of a check resolved at once.
    page.goto(f"{base}/findings?check=s3.bucket_mfa_delete_enabled&limit=100")
    expect(page.locator("button.apply")).to_be_disabled()
    page.check("input.pick-all")
    expect(page.locator("button.apply")).to_have_text("Apply to 60")
    page.select_option("form.bulk select[name=status]", "RESOLVED")
    page.click("button.apply")
    page.goto(f"{base}/findings?check=s3.bucket_mfa_delete_enabled&workflow=NEW")
    expect(page.locator(".summary")).to_contain_text("0 findings")

    # The escalation paths of an identity finding, drawn as a graph.
    page.goto(f"{base}/identity?finding={filled.escalation}")
    graph = page.locator("svg.graph")
    expect(graph.locator("g.node-root")).to_contain_text("user/keys")
    expect(graph.locator("g.node-admin")).to_contain_text("user/root-like")
    expect(graph.locator(".edge-label")).to_have_text(["CreateAccessKey"])

    assert problems == []


def test_hostile_text_renders_as_text(
    served: tuple[str, Filled], browser_page: tuple[Page, list[str]]
) -> None:
    base, filled = served
    page, problems = browser_page
    _log_in(page, base)
    page.goto(f"{base}/findings/{filled.hostile_import}")
    expect(page.locator("h1")).to_contain_text(XSS)
    page.goto(f"{base}/findings/{filled.hostile_detection}")
    expect(page.locator("pre.evidence")).to_contain_text(XSS)
    for path in ("/findings?text=script", "/threats", "/"):
        page.goto(base + path)
        expect(page.locator("main")).to_contain_text(XSS)
    # A javascript: remediation link is shown as text, never as a link.
    page.goto(f"{base}/findings/{filled.hostile_import}")
    assert page.locator('a[href^="javascript:"]').count() == 0
    assert problems == [], "a script from finding text ran (or the CSP blocked our own)"


def test_investigate_an_access_key(
    served_graph: tuple[str, Investigated], browser_page: tuple[Page, list[str]]
) -> None:
    base, world = served_graph
    page, problems = browser_page
    _log_in(page, base)
    page.click("nav >> text=Investigate")
    page.select_option("select[name=kind]", "access_key")
    page.fill("input[name=id]", world.access_key)
    page.fill("input[name=days]", "1")
    page.click("form.filters button[type=submit]")
    graph = page.locator("svg.graph")
    expect(graph.locator("g.node-center")).to_contain_text(world.access_key)
    attacker = graph.locator(f'g.node[data-node="ip:{world.attack_ip}"]')
    expect(attacker).to_be_visible()
    expect(page.locator(".entity")).to_contain_text("New behaviour")
    # Following the attacker's address opens its own profile.
    attacker.locator("a").click()
    expect(page).to_have_url(re.compile(rf"kind=ip&id={re.escape(world.attack_ip)}"))
    expect(page.locator("svg.graph g.node-center")).to_contain_text(world.attack_ip)
    assert problems == []
