"""Behaviour baselines: the anomaly rules (a principal's first call of an API from a place or
client it never used), the learning period, ASNs from MMDB files, and baselines kept across runs."""

from __future__ import annotations

import ipaddress
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from netaddr import IPSet

from mamori.core import InputError
from mamori.detect import baseline, run_tables
from mamori.detect.enrichment import Enrichment
from mamori.detect.rules import RULES
from tests.detect.logfiles import small_world
from tests.detect.rules_support import (
    ALICE,
    DAY1,
    DAY3,
    OFFICE_IP,
    connection,
    ev,
    role_ev,
    summary,
)

NEW_IP = "198.18.42.7"  # a network alice never used
NEW_AGENT = "aws-sdk-go/1.44.0 (go1.20.4; linux; amd64)"
PERSIST = "Persistence:IAMUser/AnomalousBehavior"
ESCALATE = "PrivilegeEscalation:IAMUser/AnomalousBehavior"
IMPACT = "Impact:IAMUser/AnomalousBehavior"
LOGIN = "InitialAccess:IAMUser/AnomalousBehavior"


def history(**kw: Any) -> list[dict[str, Any]]:
    """Alice's routine on day one: reads from the office with the aws-cli."""
    return [
        ev("ListUsers", read_only=True, event_time=DAY1 + timedelta(hours=h), **kw) for h in (0, 1)
    ]


def rows(finding_type: str, events: list[dict[str, Any]], con: Any = None) -> list[Any]:
    con = con or connection(events=events)
    found = con.sql(RULES[finding_type].sql).to_arrow_table().to_pylist()
    return sorted(found, key=lambda r: (str(r["resource_id"]), str(r["actor"])))


@pytest.mark.parametrize(
    ("finding_type", "api", "source"),
    [
        (PERSIST, "CreateAccessKey", "iam.amazonaws.com"),
        (ESCALATE, "AttachUserPolicy", "iam.amazonaws.com"),
        (IMPACT, "TerminateInstances", "ec2.amazonaws.com"),
    ],
)
def test_first_call_of_an_api_from_a_new_network_is_found(
    finding_type: str, api: str, source: str
) -> None:
    attack = [
        ev(api, source, source_ip=NEW_IP, event_time=DAY3),
        # The rest of the session from the same place is still new the same day.
        ev(api, source, source_ip=NEW_IP, event_time=DAY3 + timedelta(minutes=5)),
    ]
    found = rows(finding_type, [*history(), *attack])
    assert summary(found) == [(ALICE, ALICE, 2)]


@pytest.mark.parametrize(
    ("label", "events"),
    [
        ("from the office", [ev("CreateAccessKey", event_time=DAY3)]),
        ("during learning", [ev("CreateAccessKey", source_ip=NEW_IP, event_time=DAY1)]),
        (
            "an API called before",
            [
                ev("CreateAccessKey", event_time=DAY1 + timedelta(hours=2)),
                ev("CreateAccessKey", source_ip=NEW_IP, event_time=DAY3),
            ],
        ),
        (
            "a network used days before",
            [
                ev("ListRoles", source_ip=NEW_IP, event_time=DAY1 + timedelta(hours=3)),
                ev("CreateAccessKey", source_ip=NEW_IP, event_time=DAY3),
            ],
        ),
        (
            "denied",
            [ev("CreateAccessKey", source_ip=NEW_IP, event_time=DAY3, error_code="AccessDenied")],
        ),
        ("not a persistence API", [ev("ListRoles", source_ip=NEW_IP, event_time=DAY3)]),
    ],
)
def test_look_alikes_are_not_found(label: str, events: list[dict[str, Any]]) -> None:
    assert rows(PERSIST, [*history(), *events]) == [], label


def test_a_new_client_from_a_known_network_is_new_behaviour() -> None:
    found = rows(PERSIST, [*history(), ev("CreateUser", user_agent=NEW_AGENT, event_time=DAY3)])
    assert summary(found) == [(ALICE, ALICE, 1)]
    detail = json.loads(found[0]["detail"])
    assert (detail["new_place"], detail["new_user_agent"]) == (False, True)
    # A new version of the same client is not.
    upgraded = ev("CreateUser", user_agent="aws-cli/2.99.0 Python/3.12", event_time=DAY3)
    assert rows(PERSIST, [*history(), upgraded]) == []


def test_a_trusted_network_is_never_new() -> None:
    con = connection(
        events=[*history(), ev("CreateUser", source_ip=NEW_IP, event_time=DAY3)],
        trusted=[{"network": "198.18.42.0/24", "list_name": "vpn"}],
    )
    assert rows(PERSIST, [], con) == []


def test_role_sessions_share_their_role_s_baseline() -> None:
    learned = [role_ev("ListRoles", "deploy", "s-1", event_time=DAY1)]
    attack = role_ev("AttachRolePolicy", "deploy", "s-2", source_ip=NEW_IP, event_time=DAY3)
    found = rows(ESCALATE, [*learned, attack])
    assert [r["resource_id"] for r in found] == ["arn:aws:iam::111122223333:role/deploy"]
    # A role first seen in this very session has no history: nothing to compare with.
    assert rows(ESCALATE, [attack]) == []


def test_console_login_from_a_new_network() -> None:
    def login(ip: str, when: Any) -> dict[str, Any]:
        return ev(
            "ConsoleLogin",
            "signin.amazonaws.com",
            source_ip=ip,
            event_time=when,
            event_type="AwsConsoleSignIn",
            response_elements={"ConsoleLogin": "Success"},
            additional_event_data={"MFAUsed": "Yes"},
        )

    assert summary(rows(LOGIN, [*history(), login(NEW_IP, DAY3)])) == [(ALICE, ALICE, 1)]
    assert rows(LOGIN, [*history(), login(OFFICE_IP, DAY3)]) == []


class AsnReader:
    """Stands in for an ASN MMDB: one AS for the office /24 and for NEW_IP's /24."""

    def __init__(self, asn_of: dict[str, int]) -> None:
        self.nets = {ipaddress.ip_network(k): v for k, v in asn_of.items()}

    def get(self, ip: Any) -> Any:
        asn = next((v for n, v in self.nets.items() if ip in n), None)
        return {"autonomous_system_number": asn} if asn else None

    def close(self) -> None:
        pass


def _with_asns(events: list[dict[str, Any]], asn_of: dict[str, int]) -> duckdb.DuckDBPyConnection:
    con = connection(events=events)
    run_tables.prepare(con, None, Enrichment([AsnReader(asn_of)]), learning=timedelta(days=1))
    return con


def test_a_new_address_of_a_known_as_is_not_a_new_place() -> None:
    events = [*history(), ev("CreateUser", source_ip=NEW_IP, event_time=DAY3)]
    same_as = {"198.51.100.0/24": 64500, "198.18.42.0/24": 64500}
    assert rows(PERSIST, [], _with_asns(events, same_as)) == []
    other_as = {"198.51.100.0/24": 64500, "198.18.42.0/24": 64666}
    found = rows(PERSIST, [], _with_asns(events, other_as))
    assert summary(found) == [(ALICE, ALICE, 1)]


def test_the_baseline_outlives_the_logs_it_was_learned_from(tmp_path: Path) -> None:
    first = connection(events=history())
    baseline.update(first, tmp_path, learning=timedelta(days=1))
    # A later run sees only day three (logs pruned, or --since): alice's history is remembered.
    later_events = [
        ev("CreateUser", event_time=DAY3),  # from the office: known
        ev("CreateRole", source_ip=NEW_IP, event_time=DAY3),  # from a new place
    ]
    later = connection(events=later_events)
    baseline.update(later, tmp_path, learning=timedelta(days=1))
    found = later.sql(RULES[PERSIST].sql).to_arrow_table().to_pylist()
    assert [r["event_count"] for r in found] == [1]
    stored = baseline.register_stored  # the files hold both runs, earliest sighting first
    con = duckdb.connect()
    stored(con, tmp_path)
    first_seen = con.sql(
        "SELECT min(first_seen) FROM baseline_activity WHERE dim = 'net'"
    ).fetchall()[0][0]
    assert first_seen == DAY1
    [(principals,)] = con.sql("SELECT count(*) FROM baseline_principal").fetchall()
    assert principals == 1


def test_updating_twice_with_the_same_logs_changes_nothing(tmp_path: Path) -> None:
    events = [*history(), ev("CreateRole", source_ip=NEW_IP, event_time=DAY3)]
    one = baseline.update(connection(events=events), tmp_path, learning=timedelta(days=1))
    two = baseline.update(connection(events=events), tmp_path, learning=timedelta(days=1))
    key = ["account_id", "principal", "dim", "value"]
    assert (
        two["baseline_activity"]
        .sort_by([(k, "ascending") for k in key])
        .equals(one["baseline_activity"].sort_by([(k, "ascending") for k in key]))
    )


def test_a_corrupt_stored_baseline_is_named(tmp_path: Path) -> None:
    path = baseline.files(tmp_path)["baseline_activity"]
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not parquet")
    with pytest.raises(InputError, match=r"activity\.parquet: the stored behaviour baseline"):
        baseline.update(connection(events=history()), tmp_path)


@pytest.mark.parametrize(
    ("agent", "family"),
    [
        ("aws-cli/2.15.30 Python/3.11.8 Darwin/23.4.0", "aws-cli"),
        ("Boto3/1.34.51 md/Botocore#1.34.51", "boto3"),
        ("[aws-sdk-go/1.44.0]", "aws-sdk-go"),
        ("console.amazonaws.com", "console.amazonaws.com"),
        ("", ""),
        ("  ", ""),
    ],
)
def test_agent_family(agent: str, family: str) -> None:
    con = duckdb.connect()
    [(got,)] = con.execute(f"SELECT {baseline.agent_family('$1')}", [agent]).fetchall()
    assert got == family


def test_detect_cli_joins_mmdb_country_and_asn(tmp_path: Path) -> None:
    from mmdb_writer import MMDBWriter
    from typer.testing import CliRunner

    from mamori.cli.main import app
    from mamori.detect.generator.scenarios_iam import STOLEN_KEY_IP

    small_world(tmp_path / "logs", DAY1, ["iam-anomalous-behaviour"], events_per_day=300)
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-City")
    record = {"country": {"iso_code": "NL"}, "autonomous_system_number": 64666}
    writer.insert_network(IPSet([STOLEN_KEY_IP + "/24"]), record)
    writer.to_db_file(str(tmp_path / "geo.mmdb"))
    args = ["detect", "--cloudtrail", str(tmp_path / "logs"), "--data-dir", str(tmp_path / "d")]
    args += ["--mmdb", str(tmp_path / "geo.mmdb"), "--learning-days", "0.5", "--no-store"]
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    found = {f["generator_id"]: f for f in json.loads(result.stdout)}
    assert {PERSIST, ESCALATE, IMPACT} <= set(found)
    assert found[PERSIST]["evidence"]["detail"]["countries"] == ["NL"]
    kept = baseline.files(tmp_path / "d")
    assert all(path.exists() for path in kept.values())
    # A learning period longer than the logs judges no one.
    again = CliRunner().invoke(app, [*args, "--learning-days", "7", "--format", "json"])
    assert again.exit_code == 0, again.output
    assert not {PERSIST, ESCALATE, IMPACT} & {f["generator_id"] for f in json.loads(again.stdout)}
