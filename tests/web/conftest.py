"""The dashboard served in-process (Starlette's TestClient) over a filled store, on SQLite and
PostgreSQL (the hub tests' database fixtures)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from mamori.hub import Store
from mamori.web import WebConfig, create_app
from mamori.web.accounts import Accounts
from tests.hub.conftest import db_url, pg_url  # noqa: F401 - fixtures
from tests.web.data import PASSWORD, USER, Filled, fill

# The loopback name the default configuration serves (the Host header is checked).
BASE = "http://127.0.0.1:8000"


@dataclass
class Site:
    client: TestClient
    db_url: str
    filled: Filled

    def login(self, user: str = USER, password: str = PASSWORD) -> str:
        """Log in through the JSON API; returns the CSRF token."""
        answer = self.client.post("/api/login", json={"username": user, "password": password})
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["csrf_token"]
        return token


@contextmanager
def serve(url: str, **config: object) -> Iterator[TestClient]:
    app = create_app(WebConfig(db_url=url, **config))  # type: ignore[arg-type]
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        yield client


@pytest.fixture
def site(db_url: str) -> Iterator[Site]:  # noqa: F811 - the fixture imported above
    with Store.open(db_url) as store:
        filled = fill(store)
    with Accounts.open(db_url) as accounts:
        accounts.add_user(USER, PASSWORD)
    with serve(db_url) as client:
        yield Site(client, db_url, filled)
