"""The reader's address scopes answer as the rules' SQL macros do, on any text."""

from __future__ import annotations

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.detect.readers.scope import ip_scope
from mamori.detect.rules import MACROS

EDGES = [
    "10.0.0.1",
    "9.255.255.255",
    "11.0.0.0",
    "172.15.255.255",
    "172.16.0.0",
    "172.31.255.255",
    "172.32.0.0",
    "192.168.1.1",
    "192.169.0.1",
    "127.0.0.1",
    "169.254.169.254",
    "100.63.255.255",
    "100.64.0.0",
    "100.127.255.255",
    "100.128.0.0",
    "203.0.113.9",
    "256.1.1.1",
    "10.0.0",
    "010.0.0.1",
    "10.0.0.1 ",
    "fd00::1",
    "FC12:3::",
    "fe80::1",
    "::1",
    "::2",
    "2001:db8::1",
    "fc00:zz",
    "-",
    "",
    "ec2.amazonaws.com",
    None,
]


def _macros(values: list[str | None]) -> list[str | None]:
    con = duckdb.connect()
    for macro in MACROS:
        con.execute(macro)
    con.register("t", pa.table({"ip": pa.array(values, pa.string())}))
    rows = con.sql(
        "SELECT CASE WHEN ip IS NULL OR NOT is_ip(ip) THEN NULL"
        " WHEN is_private_ip(ip) THEN 'private' ELSE 'public' END FROM t"
    ).fetchall()
    return [r[0] for r in rows]


def test_edges_match_the_macros() -> None:
    got = ip_scope(pa.array(EDGES, pa.string())).to_pylist()
    assert got == _macros(EDGES)
    assert got[:4] == ["private", "public", "public", "public"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.ip_addresses().map(str),
            st.text(alphabet="0123456789abcdefABCDEF:.", max_size=20),
            st.text(max_size=12),
        ),
        max_size=30,
    )
)
def test_any_text_matches_the_macros(values: list[str]) -> None:
    assert ip_scope(pa.array(values, pa.string())).to_pylist() == _macros(values)
