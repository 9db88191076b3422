"""Schemathesis against the API's OpenAPI description, in-process (its ASGI transport):
generated requests to every operation never get a server error, and every answer matches the
documented status codes, content types and schemas."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from mamori.hub import Store
from mamori.web import WebConfig, create_app
from mamori.web.accounts import Accounts
from tests.hub.conftest import module_db_url, pg_url  # noqa: F401 - fixtures
from tests.web.data import USER, fill

EXAMPLES = 12  # per operation: the whole run stays within seconds
MUTELIST = """
rules:
  - id: sandbox
    reason: accepted
    owner: secops@example.com
    match: {accounts: ["222222222222"]}
"""


@pytest.fixture(scope="module")
def auth(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:  # noqa: F811
    with Store.open(module_db_url) as store:
        fill(store)
    with Accounts.open(module_db_url) as accounts:
        accounts.add_user(USER)
        token, session = accounts.start_session(USER)
    rules = Path(tmp_path_factory.mktemp("rules")) / "mutelist.yaml"
    rules.write_text(MUTELIST, encoding="utf-8")
    # Schemathesis' in-process client calls the app "testserver".
    app = create_app(WebConfig(db_url=module_db_url, allowed_hosts=("testserver",), mutelist=rules))
    headers = {"Cookie": f"mamori_session={token}", "X-CSRF-Token": session.csrf_token}
    yield app, headers


@pytest.fixture(scope="module")
def api_schema(auth: Any) -> Any:
    app, headers = auth
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app, headers=headers)
    # Logging out would end the run's session; logging in is throttled by design.
    return loaded.exclude(path_regex=r"^/api/(login|logout)$")


def test_api_conforms_to_its_description(api_schema: Any, auth: Any) -> None:
    # Hypothesis drives each operation's strategy directly: Schemathesis' pytest plugin does
    # not run under this pytest.
    _app, headers = auth
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 12

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def conforms(case: Any) -> None:
            # Schema-valid values can still name nothing usable (an entity id that is no IP
            # address, a mutelist the server was not given): those get the documented 400.
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        conforms()
