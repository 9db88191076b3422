"""Every registered rule: valid metadata, SQL that DuckDB runs with exactly the contract's
columns, and that sqlglot can carry to Spark."""

from __future__ import annotations

import pytest
import sqlglot

from mamori.core import InputError
from mamori.detect.rules import COLUMNS, RULES, Rule, register, rules
from tests.detect.rules_support import connection

ALL = rules()


def test_at_least_forty_finding_types_over_every_source() -> None:
    assert len(ALL) >= 40
    assert {r.data_source for r in ALL} == {"cloudtrail", "s3-data", "vpc-flow", "dns", "waf"}


@pytest.mark.parametrize("rule", ALL, ids=[r.finding_type for r in ALL])
def test_sql_returns_the_contract_columns(rule: Rule) -> None:
    con = connection()
    relation = con.sql(rule.sql)
    assert tuple(relation.columns) == COLUMNS
    types = dict(zip(relation.columns, (str(t) for t in relation.types), strict=True))
    assert types["event_count"] == "BIGINT"
    assert types["evidence_ids"] == "VARCHAR[]"
    assert types["detail"] == "VARCHAR"
    assert types["first_seen"].startswith("TIMESTAMP")


@pytest.mark.parametrize("rule", ALL, ids=[r.finding_type for r in ALL])
def test_sql_parses_as_duckdb_and_transpiles_to_spark(rule: Rule) -> None:
    parsed = sqlglot.parse_one(rule.sql, read="duckdb")
    assert parsed is not None
    spark = sqlglot.transpile(rule.sql, read="duckdb", write="spark")
    assert spark and spark[0]
    assert "GROUP BY ALL" not in rule.sql.upper()


def test_unknown_rule_id_names_close_matches() -> None:
    with pytest.raises(InputError, match=r"did you mean.*CloudTrailLoggingDisabled"):
        rules(["Stealth:IAMUser/CloudTrailLogingDisabled"])


def test_rules_by_id_keep_the_order_asked() -> None:
    ids = ["Recon:EC2/Portscan", "Policy:IAMUser/RootCredentialUsage"]
    assert [r.finding_type for r in rules(ids)] == ids


def test_duplicate_registration_is_an_error() -> None:
    existing = RULES["Recon:EC2/Portscan"]
    with pytest.raises(InputError, match="registered twice"):
        register(existing)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("finding_type", "NotAType"),
        ("severity", 11.0),
        ("data_source", "syslog"),
        ("tactic", "Evasion"),
        ("technique_id", "1562"),
        ("title", " "),
    ],
)
def test_bad_metadata_is_rejected(field: str, value: object) -> None:
    fields = {**RULES["Recon:EC2/Portscan"].__dict__, field: value}
    with pytest.raises(InputError, match="rule"):
        Rule(**fields)


def test_macros_compute_addresses_and_names() -> None:
    con = connection()
    row = con.execute(
        "SELECT ip4_num('10.1.2.3'), ip4_num('256.1.1.1'), ip4_num('ec2.amazonaws.com'),"
        " is_private_ip('172.20.1.1'), is_private_ip('8.8.8.8'), is_private_ip('fd00::1'),"
        " registrable_domain('a.b.example.co.uk'), registrable_domain('x.y.example.com'),"
        " dns_suffixes('a.b.com'), in_net('10.0.0.9', '10.0.0.0/24', 167772160, 167772415),"
        " in_net('2001:db8::1', '2001:DB8::1', NULL, NULL), str_entropy('abcd')"
    ).fetchone()
    assert row == (
        167838211,
        None,
        None,
        True,
        False,
        True,
        "example.co.uk",
        "example.com",
        ["a.b.com", "b.com", "com"],
        True,
        True,
        2.0,
    )


@pytest.mark.parametrize(
    "moment",
    [
        "2026-11-01 09:59:59.999999+00",
        "2026-11-01 10:00:00+00",
        "1969-12-31 23:30:00+00",
        "2024-02-29 23:59:59+00",
    ],
)
@pytest.mark.parametrize("unit", ["minute", "hour", "day"])
def test_window_start_is_date_trunc_in_utc(moment: str, unit: str) -> None:
    from mamori.detect.rules.base import window_start

    con = connection()
    t = f"TIMESTAMPTZ '{moment}'"
    fast, slow = con.execute(
        f"SELECT {window_start(t, unit)}, date_trunc('{unit}', {t})"
    ).fetchone()
    assert fast == slow
