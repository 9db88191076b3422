"""Neighbourhoods for the dashboard to draw: within the depth, within the limit, nearest and
strongest first, the findings kept, every edge between nodes shown."""

from __future__ import annotations

import json

import pytest

from mamori.core import InputError
from mamori.investigate import neighbourhood
from mamori.investigate.model import Neighbourhood
from tests.investigate.world import ATTACK_IP, DAVE, World


def _consistent(n: Neighbourhood, depth: int, limit: int) -> None:
    keys = [node.key for node in n.nodes]
    assert len(keys) == len(set(keys)) <= limit
    assert n.nodes[0].key == n.center and n.nodes[0].depth == 0
    assert all(0 <= node.depth <= depth for node in n.nodes)
    assert [node.depth for node in n.nodes] == sorted(node.depth for node in n.nodes)
    for edge in n.edges:
        assert {edge.source, edge.target} <= set(keys)


def test_the_stolen_key_and_what_it_leads_to(world: World) -> None:
    n = neighbourhood(world.data_dir, "access_key", DAVE.access_key, depth=2, limit=60)
    _consistent(n, 2, 60)
    nodes = {node.key: node for node in n.nodes}
    assert nodes[f"user:{DAVE.arn}"].depth == 1
    assert nodes[f"ip:{ATTACK_IP}"].depth == 1
    findings = [node for node in n.nodes if node.kind == "finding"]
    assert findings and all(node.depth == 1 and node.severity for node in findings)
    # Two hops: the user's account, reached through the user.
    assert any(node.kind == "account" and node.depth == 2 for node in n.nodes)
    relations = {(e.source, e.relation, e.target) for e in n.edges}
    assert (f"access_key:{DAVE.access_key}", "owned_by", f"user:{DAVE.arn}") in relations
    assert (f"access_key:{DAVE.access_key}", "called_from", f"ip:{ATTACK_IP}") in relations
    assert json.loads(n.model_dump_json())["center"] == n.center


def test_a_small_limit_keeps_the_nearest_and_says_it_is_truncated(world: World) -> None:
    n = neighbourhood(world.data_dir, "access_key", DAVE.access_key, depth=2, limit=5)
    _consistent(n, 2, 5)
    assert len(n.nodes) == 5 and n.truncated
    assert all(node.depth <= 1 for node in n.nodes)
    # The findings are what an analyst came for: they are kept before plain relations.
    assert any(node.kind == "finding" for node in n.nodes)


def test_depth_one_is_the_direct_relations_only(world: World) -> None:
    n = neighbourhood(world.data_dir, "ip", ATTACK_IP, depth=1, limit=50)
    _consistent(n, 1, 50)
    assert {node.key for node in n.nodes if node.kind in ("user", "access_key")} == {
        f"user:{DAVE.arn}",
        f"access_key:{DAVE.access_key}",
    }
    assert not n.truncated


def test_an_unknown_entity_is_alone(world: World) -> None:
    n = neighbourhood(world.data_dir, "ip", "192.0.2.200")
    assert [node.key for node in n.nodes] == ["ip:192.0.2.200"] and n.edges == []


@pytest.mark.parametrize(("depth", "limit"), [(0, 10), (4, 10), (2, 0), (2, 501)])
def test_bounds_are_checked(world: World, depth: int, limit: int) -> None:
    with pytest.raises(InputError):
        neighbourhood(world.data_dir, "ip", ATTACK_IP, depth=depth, limit=limit)
