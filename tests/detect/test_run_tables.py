"""The run tables of addresses: every caller and flow address inside a trusted network, and the
ones on a threat list outside them, each address matched once a run."""

from __future__ import annotations

from typing import Any

from tests.detect.rules_support import connection


def _tables(**tables: Any) -> tuple[set[str], set[tuple[str, str]]]:
    con = connection(**tables)
    trusted = {ip for (ip,) in con.sql("SELECT ip FROM ip_trusted").fetchall()}
    intel = {tuple(row) for row in con.sql("SELECT ip, kind FROM ip_intel").fetchall()}
    return trusted, intel


_EVENTS = [
    {"source_ip": "192.0.2.10"},
    {"source_ip": "2001:DB8::7"},
    {"source_ip": "ec2.amazonaws.com"},
    {"source_ip": None},
]
_FLOWS = [
    {"src_addr": "198.51.100.5", "dst_addr": "10.0.0.4"},
    {"src_addr": "10.0.0.4", "dst_addr": "203.0.113.9"},
]


def test_addresses_of_every_source_are_matched_by_range_or_text() -> None:
    trusted, intel = _tables(
        events=_EVENTS,
        flows=_FLOWS,
        trusted=[
            {"network": "192.0.2.0/24", "list_name": "office"},
            {"network": "2001:db8::7", "list_name": "vpn"},
            {"network": "10.0.0.0/8", "list_name": "vpc"},
        ],
        intel_ip=[
            {"network": "192.0.2.10", "list_name": "bad.txt", "threat": "c2"},
            {"network": "198.51.100.0/24", "list_name": "tor-exits.txt", "threat": None},
            {"network": "203.0.113.9", "list_name": "mining-pools.txt", "threat": None},
        ],
    )
    assert trusted == {"192.0.2.10", "2001:DB8::7", "10.0.0.4"}
    # 192.0.2.10 is on a list but trusted: trusted networks win.
    assert intel == {("198.51.100.5", "tor"), ("203.0.113.9", "mining")}


def test_without_lists_nothing_is_worked_out() -> None:
    assert _tables(events=_EVENTS, flows=_FLOWS) == (set(), set())


def test_a_trusted_list_alone_still_fills_ip_trusted() -> None:
    trusted, intel = _tables(
        events=_EVENTS, trusted=[{"network": "192.0.2.8/29", "list_name": "office"}]
    )
    assert (trusted, intel) == ({"192.0.2.10"}, set())
