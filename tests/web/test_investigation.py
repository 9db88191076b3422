"""The investigation view over a graph built by a real detection run: an access key's
profile and neighbourhood through the API and the page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from mamori.web.accounts import Accounts
from mamori.web.investigation import entity_links
from tests.hub.builders import detection, posture
from tests.web.conftest import serve
from tests.web.data import PASSWORD, USER, Investigated, investigated


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Investigated:
    done = investigated(tmp_path_factory.mktemp("investigated"))
    with Accounts.open(done.db_url) as accounts:
        accounts.add_user(USER, PASSWORD)
    return done


@pytest.fixture
def client(world: Investigated) -> Iterator[TestClient]:
    with serve(world.db_url, data_dir=world.data_dir) as c:
        assert c.post("/api/login", json={"username": USER, "password": PASSWORD}).is_success
        yield c


def test_profile_and_neighbourhood_of_an_access_key(
    client: TestClient, world: Investigated
) -> None:
    answer = client.get("/api/investigate/access_key", params={"id": world.access_key, "days": 1})
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["profile"]["entity"]["id"] == world.access_key
    assert data["profile"]["seen"] is True
    assert data["profile"]["findings"], "no finding names the stolen key"
    nodes = {n["id"]: n for n in data["graph"]["nodes"]}
    center = nodes[f"access_key:{world.access_key}"]
    assert center["x"] == min(n["x"] for n in nodes.values())
    attacker = nodes[f"ip:{world.attack_ip}"]
    assert attacker["kind"] == "ip" and attacker["x"] > center["x"]
    assert attacker["href"] == f"/investigate?kind=ip&id={world.attack_ip}"
    assert any(e["label"] == "called_from" for e in data["graph"]["edges"])


def test_the_page_draws_the_graph(client: TestClient, world: Investigated) -> None:
    html = client.get("/investigate", params={"kind": "access_key", "id": world.access_key}).text
    assert 'class="graph"' in html
    assert world.attack_ip in html
    assert "Findings naming it" in html


def test_malformed_ids_are_refused_by_name(client: TestClient) -> None:
    answer = client.get("/api/investigate/access_key", params={"id": "akia-lower"})
    assert answer.status_code == 400
    assert "access key" in answer.json()["detail"]
    assert client.get("/api/investigate/planet", params={"id": "x"}).status_code == 422
    page = client.get("/investigate", params={"kind": "planet", "id": "x"})
    assert page.status_code == 200 and "unknown entity kind" in page.text


def test_without_a_graph_the_view_says_so(
    world: Investigated, tmp_path_factory: pytest.TempPathFactory
) -> None:
    empty = tmp_path_factory.mktemp("no-graph")
    with serve(world.db_url, data_dir=empty) as c:
        c.post("/api/login", json={"username": USER, "password": PASSWORD})
        answer = c.get("/api/investigate/ip", params={"id": "203.0.113.9"})
        assert answer.status_code == 400
        assert "no investigation graph" in answer.json()["detail"]


def test_findings_link_their_entities() -> None:
    key = detection("AKIAIOSFODNN7EXAMPLE")
    assert entity_links(key) == {
        "AKIAIOSFODNN7EXAMPLE": "/investigate?kind=access_key&id=AKIAIOSFODNN7EXAMPLE"
    }
    bucket = posture("logs-bucket")
    assert entity_links(bucket) == {
        "arn:aws:s3:::logs-bucket": "/investigate?kind=bucket&id=logs-bucket"
    }
