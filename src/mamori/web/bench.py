"""Timers for bench/hub.py: dashboard pages rendered by the app in-process, through the whole
middleware chain (guard, session lookup, headers), over an existing store."""

from __future__ import annotations

from collections.abc import Callable

from mamori.web.accounts import Accounts
from mamori.web.app import WebConfig, create_app

BENCH_USER = "mamori-bench"


def page_timer(db_url: str, path: str) -> Callable[[], object]:
    """A function that GETs `path` as a logged-in user and checks the answer is a page."""
    from starlette.testclient import TestClient

    with Accounts.open(db_url) as accounts:
        if BENCH_USER not in {u.name for u in accounts.list_users()}:
            accounts.add_user(BENCH_USER)
        token, _ = accounts.start_session(BENCH_USER)
    client = TestClient(create_app(WebConfig(db_url=db_url)), base_url="http://127.0.0.1")
    client.__enter__()  # the app's lifespan (its store) stays open for the timer's life
    client.cookies.set("mamori_session", token)

    def get() -> object:
        answer = client.get(path)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path}: {answer.status_code}")
        return answer

    return get


def overview_timer(db_url: str) -> Callable[[], object]:
    return page_timer(db_url, "/")


def findings_timer(db_url: str) -> Callable[[], object]:
    return page_timer(db_url, "/findings?min_severity=high&status=FAILED")
