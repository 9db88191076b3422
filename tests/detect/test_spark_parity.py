"""The Spark engine: every registered rule, transpiled, finds exactly what DuckDB finds on the
same data; the macros' Spark forms agree with DuckDB's on edge values; the CLI runs on Spark.

Spark needs Java. Without it these tests skip on a developer's machine and fail in CI (CI=true),
where .ci/run installs a JRE. All Spark tests share one session (10-15 s to start), so they are
one xdist group (scripts/test.sh runs pytest with --dist loadgroup).
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from mamori.cli.main import EXIT_USAGE, app
from mamori.core import Finding, InputError
from mamori.detect import run_tables
from mamori.detect.engine import DetectResult, connect, run_rules
from mamori.detect.generator import (
    MALICIOUS_IPS,
    TOR_EXIT_IPS,
    generate,
    write_intel_lists,
)
from mamori.detect.generator.waf import generate_waf
from mamori.detect.ingest import Source, ingest
from mamori.detect.intel import load_intel
from mamori.detect.rules.base import MACROS, rules
from mamori.detect.rules.dns import CANARY_DOMAINS
from mamori.detect.schema import DNS, EVENTS, FLOWS
from mamori.detect.spark_engine import check_master, detect_spark, preflight, spark_session
from mamori.detect.sqldialect import to_spark
from tests.detect.logfiles import small_world
from tests.detect.rules_support import dns, ev, flow, table_of

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.xdist_group("spark")

MASTER = "local[2]"  # one master for every test: a different one would restart the session
START = datetime(2026, 11, 1, tzinfo=UTC)
LEARNING = timedelta(hours=12)  # as the end-to-end test: principals are judged on day two
C2_IP = "203.0.113.66"
ACCOUNT = "111111111111"
_ADMIN_DOC = '{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'


@pytest.fixture(scope="module")
def spark() -> SparkSession:
    try:
        preflight(MASTER)
    except InputError as exc:
        if os.environ.get("CI") == "true":
            raise  # CI installs Java: a missing one is a broken setup, not a reason to skip
        pytest.skip(str(exc))
    return spark_session(MASTER)


@dataclass(frozen=True)
class Runs:
    duckdb: DetectResult
    spark: DetectResult
    duckdb_seconds: float
    spark_seconds: float


@pytest.fixture(scope="module")
def runs(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    root = tmp_path_factory.mktemp("parity")
    generate(
        root / "logs",
        accounts=[ACCOUNT, "222222222222"],
        regions=["us-east-1", "eu-west-1"],
        start=START,
        days=2,
        events_per_day=800,
        flows_per_day=800,
        dns_per_day=300,
    )
    generate_waf(root / "logs", start=START, hours=3, requests_per_minute=40, account=ACCOUNT)
    lists = write_intel_lists(root / "intel", extra_c2=[C2_IP])
    logs = str(root / "logs")
    sources = [Source(kind, logs) for kind in ("cloudtrail", "vpc-flow", "dns", "waf")]
    assert ingest(sources, root / "data").errors == []
    _network_extras(root / "data")
    intel = load_intel(lists.threats, lists.trusted, tor_exit_list=lists.tor)
    chosen = rules()
    t0 = time.perf_counter()
    con = connect(root / "data", intel)
    run_tables.prepare(con, None, learning=LEARNING)
    duck = run_rules(con, chosen)
    t1 = time.perf_counter()
    # The run tables (baseline, ip_info, ip_trusted, ip_intel) go to Spark as DuckDB made them.
    extra = run_tables.handed_over(con)
    sprk = detect_spark(root / "data", intel, chosen, master=MASTER, extra=extra)
    t2 = time.perf_counter()
    return Runs(duck, sprk, t1 - t0, t2 - t1)


def _network_extras(data: Path) -> None:
    """Flow and DNS records the generator has no scenario for (floods, sweeps, brute force,
    traffic with listed hosts, the GuardDuty tester's domains), written beside the ingested
    parts, so that every network rule's SQL is compared on rows it matches."""
    when = START + timedelta(days=1, hours=10)
    host, far = "10.0.1.5", "198.18.7.7"
    flows = [
        flow(host, TOR_EXIT_IPS[0], 9001, start_time=when),
        flow(TOR_EXIT_IPS[1], host, 443, start_time=when),
        flow(host, MALICIOUS_IPS[0], 443, start_time=when),
        flow(host, C2_IP, 8443, start_time=when),
        *(flow(far, host, 3389, src_port=40000 + i, start_time=when) for i in range(25)),
        *(flow(far, f"10.0.2.{i}", 23, vpc_id="vpc-0abc", start_time=when) for i in range(25)),
        *(flow(host, f"198.18.1.{i}", 25, start_time=when) for i in range(12)),
        flow(host, "198.18.9.1", 80, packets=600_000, start_time=when),
        flow(host, "198.18.9.2", 9999, protocol=17, packets=600_000, start_time=when),
        flow(host, "198.18.9.3", 53, protocol=17, packets=600_000, start_time=when),
    ]
    queries = [dns(name, query_time=when) for name in CANARY_DOMAINS]
    for table, rows in ((FLOWS, flows), (DNS, queries), (EVENTS, _cloudtrail_extras(when))):
        for row in rows:
            row["account_id"] = ACCOUNT
        pq.write_table(table_of(rows, table.schema), data / table.name / "extra-records.parquet")


def _cloudtrail_extras(when: datetime) -> list[dict[str, Any]]:
    """Calls the generator makes no scenario of: logging and guard rails switched off, public
    buckets, wildcard policies, penetration-testing distributions' user agents."""
    s3, parrot = "s3.amazonaws.com", "aws-cli/2.15 Python/3.11 Linux/6.1-parrot"
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("DeleteFlowLogs", "ec2.amazonaws.com", {"flowLogIds": ["fl-0abc123"]}),
        ("DeleteResolverQueryLogConfig", "route53resolver.amazonaws.com", {"id": "rqlc-0ab1"}),
        ("DisableSecurityHub", "securityhub.amazonaws.com", {}),
        ("StopConfigurationRecorder", "config.amazonaws.com", {"configurationRecorderName": "d"}),
        ("DeleteLogGroup", "logs.amazonaws.com", {"logGroupName": "/aws/app"}),
        ("PutBucketLogging", s3, {"bucketName": "b1", "BucketLoggingStatus": {}}),
        ("PutBucketAcl", s3, {"bucketName": "b2", "x-amz-acl": ["authenticated-read"]}),
        ("DeleteAccountPublicAccessBlock", s3, {}),
        (
            "PutEventSelectors",
            "cloudtrail.amazonaws.com",
            {
                "trailName": "t",
                "eventSelectors": [
                    {"readWriteType": "WriteOnly", "includeManagementEvents": False}
                ],
            },
        ),
        (
            "PutUserPolicy",
            "iam.amazonaws.com",
            {
                "userName": "bob",
                "policyDocument": _ADMIN_DOC,
            },
        ),
    ]
    rows = [ev(name, source, request_parameters=params) for name, source, params in calls]
    rows.append(ev("ListUsers", read_only=True, user_agent=parrot))
    rows.append(ev("ListObjects", s3, request_parameters={"bucketName": "b3"}, user_agent=parrot))
    rows.append(ev("ListUsers", read_only=True, user_agent="Pentoo aws-cli/2"))
    rows.append(ev("GetObject", s3, request_parameters={"bucketName": "b3"}, user_agent="pentoo"))
    who = f"arn:aws:iam::{ACCOUNT}:user/alice"
    for row in rows:
        row.update(event_time=when, principal_arn=who, principal_account=ACCOUNT)
    return rows


def _comparable(finding: Finding) -> dict[str, Any]:
    # Everything but the times the Finding objects were made.
    return finding.model_dump(mode="json", exclude={"created_at", "updated_at"})


def test_every_rule_finds_the_same_on_both_engines(runs: Runs) -> None:
    assert runs.duckdb.errors == []
    assert runs.spark.errors == []
    assert runs.spark.rows == runs.duckdb.rows
    # One id may be several rows (a rule that splits by time window): compare as sorted lists.
    duck = sorted((_comparable(f) for f in runs.duckdb.findings), key=json.dumps)
    sprk = sorted((_comparable(f) for f in runs.spark.findings), key=json.dumps)
    assert [f["id"] for f in sprk] == [f["id"] for f in duck]
    for mine, theirs in zip(sprk, duck, strict=True):
        assert mine == theirs, theirs["generator_id"]
    print(
        f"\nparity run: DuckDB {runs.duckdb_seconds:.1f}s, Spark {runs.spark_seconds:.1f}s"
        f" ({runs.spark.seconds:.1f}s in rules), {len(duck)} findings"
    )


def test_a_good_share_of_rules_fire(runs: Runs) -> None:
    # Parity over empty results would prove nothing: most rules must have found something, and
    # among them every kind of rule SQL (intel joins, DNS suffix matching, prefiltered flows,
    # bursts over baselines, anomaly rules on the baseline tables).
    fired = {f.generator_id for f in runs.spark.findings}
    silent = sorted(r.finding_type for r in rules() if r.finding_type not in fired)
    print(f"\n{len(fired)} rules fired; silent: {silent}")
    assert len(fired) >= 60, f"rules that found nothing: {silent}"
    assert {
        "Backdoor:EC2/C&CActivity.B!DNS",
        "CryptoCurrency:EC2/BitcoinTool.B",
        "UnauthorizedAccess:EC2/TorIPCaller",
        "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom",
        "Recon:EC2/Portscan",
        "Trojan:EC2/DNSDataExfiltration",
        "Trojan:EC2/DGADomainRequest.B",
        "Impact:S3/ObjectDeletion.Unusual",
        "Persistence:IAMUser/AnomalousBehavior",
        "Policy:EC2/SecurityGroupOpenToWorld",
        "Impact:WebACL/HTTPFlood",
        "Impact:WebACL/HTTPFlood.SingleSource",
        "InitialAccess:WebACL/InjectionAllowed",
        "Recon:WebACL/WebScan",
    } <= fired


def test_a_broken_rule_is_named_and_the_others_still_report(spark: SparkSession) -> None:
    del spark
    good = rules(["Stealth:IAMUser/CloudTrailLoggingDisabled", "Recon:EC2/Portscan"])
    broken = replace(good[0], finding_type="Stealth:IAMUser/Broken", sql="SELECT nope FROM events")
    empty = Path("does-not-exist")
    result = detect_spark(empty, None, [good[0], broken, good[1]], master=MASTER)
    assert [e.split(":", 2)[:2] for e in result.errors] == [["rule Stealth", "IAMUser/Broken"]]
    assert set(result.per_rule) == {r.finding_type for r in good}
    assert result.rows == {"events": 0, "flows": 0, "dns": 0, "waf": 0}


def test_since_limits_what_spark_sees(spark: SparkSession, tmp_path: Path) -> None:
    del spark
    stop = "Stealth:IAMUser/CloudTrailLoggingDisabled"
    rows = [
        ev("StopLogging", "cloudtrail.amazonaws.com", event_time=START + timedelta(days=d))
        for d in (0, 2)
    ]
    (tmp_path / "events").mkdir()
    table = pa.Table.from_pylist(
        [{n: r.get(n) for n in EVENTS.schema.names} for r in rows], schema=EVENTS.schema
    )
    pq.write_table(table, tmp_path / "events" / "part.parquet")
    since = START + timedelta(days=1)
    result = detect_spark(tmp_path, None, rules([stop]), master=MASTER, since=since)
    assert result.errors == [] and result.rows["events"] == 1
    [finding] = result.findings
    assert finding.count == 1 and finding.first_observed_at == START + timedelta(days=2)


# ---------------------------------------------------------------------------------------------
# The macros, one by one, on values chosen to break a careless translation.

_IPS = [
    "10.0.0.1",
    "8.8.8.8",
    "172.16.5.4",
    "172.32.0.1",
    "192.168.1.300",
    "255.255.255.255",
    "256.1.1.1",
    "01.2.3.4",
    " 1.2.3.4",
    "1.2.3.4\n",
    "100.64.0.1",
    "169.254.169.254",
    "::1",
    "fe80::1",
    "FC00::1",
    "fd12:3456::1",
    "2001:db8::1",
    "1:2",
    "ec2.amazonaws.com",
    "AWS Internal",
    "garbage",
    "",
    None,
]
_NAMES = [
    "a.b.example.com",
    "example.com",
    "x.example.co.uk",
    "example.co.uk",
    "www.gov.uk",
    "localhost",
    "",
    None,
    ".",
    "a..b",
    "trailing.",
    "xkqjzv7tpl.com",
    "Ünïcödé.example.com",
]
_STRINGS = ["aaaa", "abcd", "xkqjzv7tpl", "aAbB", "ab.ab", "", None, "a" * 40, "Ünïcödé"]
_TIMES = [
    "2026-11-01 09:59:59.999999+00",
    "2026-11-01 10:00:00+00",
    "2026-11-01 10:00:00.000001+00",
    "1969-12-31 23:30:00+00",
    "1969-12-31 23:00:00+00",
    "2024-02-29 23:59:59+00",
    None,
]
_CASES: list[tuple[str, list[Any]]] = [
    ("ip4_num(v)", _IPS),
    ("is_ip(v)", _IPS),
    ("is_private_ip(v)", _IPS),
    ("net24(v)", _IPS),
    ("registrable_domain(v)", _NAMES),
    ("dns_suffixes(v)", _NAMES),
    ("str_entropy(v)", _STRINGS),
    ("in_net(v, '10.0.0.0/8', 167772160, 184549375)", _IPS),
    ("in_net(v, 'FE80::1', NULL, NULL)", _IPS),
    ("intel_kind(v, NULL)", ["tor-exits", "Tor exit node", "guardduty-test", "tornado", ""]),
    ("intel_kind('list', v)", ["Bitcoin miner", "C&C", "phishing kit", "drop zone", None, "x"]),
    ("intel_kind(v, 'botnet')", ["GuardDuty-Test list", None, "mine"]),
    *(
        (
            f"time_floor(CAST(v AS TIMESTAMPTZ), {width})"
            f" = date_trunc('{unit}', CAST(v AS TIMESTAMPTZ))",
            _TIMES,
        )
        for unit, width in (
            ("minute", 60_000_000),
            ("hour", 3_600_000_000),
            ("day", 86_400_000_000),
        )
    ),
]


def _values_sql(values: list[Any]) -> str:
    def lit(v: Any) -> str:
        return "NULL" if v is None else "'" + str(v).replace("'", "''") + "'"

    rows = ", ".join(f"({i}, CAST({lit(v)} AS VARCHAR))" for i, v in enumerate(values))
    return f"(VALUES {rows}) t(i, v)"


@pytest.mark.parametrize(("expr", "values"), _CASES, ids=[c[0] for c in _CASES])
def test_each_macro_computes_on_spark_what_it_computes_on_duckdb(
    spark: SparkSession, expr: str, values: list[Any]
) -> None:
    import duckdb

    sql = f"SELECT i, {expr} AS out FROM {_values_sql(values)} ORDER BY i NULLS LAST"  # noqa: S608
    con = duckdb.connect()
    for macro in MACROS:
        con.execute(macro)
    expected = [row["out"] for row in con.sql(sql).to_arrow_table().to_pylist()]
    got = [row["out"] for row in spark.sql(to_spark(sql)).toArrow().to_pylist()]
    assert len(got) == len(expected)
    for value, want, have in zip(values, expected, got, strict=True):
        if isinstance(want, float):
            assert math.isclose(want, have, abs_tol=1e-9), (value, want, have)
        else:
            assert have == want, (value, want, have)


def test_timestamps_in_evidence_ids_read_as_on_duckdb(spark: SparkSession) -> None:
    import duckdb

    times = ["2026-11-01 09:00:00", "2026-11-01 09:00:00.5", "2026-11-01 09:00:00.123456"]
    rows = ", ".join(f"({i}, TIMESTAMPTZ '{t}+00')" for i, t in enumerate(times))
    sql = f"SELECT i, CAST(ts AS VARCHAR) AS out FROM (VALUES {rows}) t(i, ts) ORDER BY i"  # noqa: S608
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    expected = [row["out"] for row in con.sql(sql).to_arrow_table().to_pylist()]
    got = [row["out"] for row in spark.sql(to_spark(sql)).toArrow().to_pylist()]
    assert got == expected == [f"{t}+00" for t in times]


# ---------------------------------------------------------------------------------------------
# The command line.


def test_cli_engine_spark_finds_what_duckdb_finds(spark: SparkSession, tmp_path: Path) -> None:
    del spark
    small_world(
        tmp_path / "logs", START, ["cloudtrail-logging-disabled", "tor-caller", "root-usage"]
    )
    tor = tmp_path / "tor.txt"
    tor.write_text("\n".join(TOR_EXIT_IPS))
    found = {}
    for engine in ("duckdb", "spark"):
        args = ["detect", "--cloudtrail", str(tmp_path / "logs"), "--no-store", "--format", "json"]
        args += ["--data-dir", str(tmp_path / engine), "--tor-exit-list", str(tor)]
        args += ["--engine", engine, "--spark-master", MASTER]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        found[engine] = sorted((f["id"], f["count"]) for f in json.loads(result.stdout))
    assert len(found["spark"]) >= 3
    assert found["spark"] == found["duckdb"]


@pytest.mark.parametrize("master", ["", "local[two]", "http://host:7077", "spark://", "yarn; rm"])
def test_a_bad_master_is_a_usage_error(master: str, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="spark-master"):
        check_master(master)
    args = ["detect", "--data-dir", str(tmp_path), "--no-store", "--engine", "spark"]
    result = CliRunner().invoke(app, [*args, "--spark-master", master])
    assert result.exit_code == EXIT_USAGE
    assert "spark-master" in result.output


def test_no_java_is_a_usage_error_naming_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(InputError, match="Java 17"):
        preflight(MASTER)
    args = ["detect", "--data-dir", str(tmp_path), "--no-store", "--engine", "spark"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == EXIT_USAGE
    assert "Java" in result.output


def test_an_unknown_engine_is_refused(tmp_path: Path) -> None:
    args = ["detect", "--data-dir", str(tmp_path), "--no-store", "--engine", "trino"]
    assert CliRunner().invoke(app, args).exit_code == EXIT_USAGE


# ---------------------------------------------------------------------------------------------
# The translation alone (no Java needed).


def test_every_registered_rule_translates_without_duckdb_leftovers() -> None:
    leftovers = ("list_slice", "list_has_all", "regexp_full_match", "struct_pack", "ip4_num(")
    for rule in rules():
        spark_sql = to_spark(rule.sql).lower()
        assert not [w for w in leftovers if w in spark_sql], rule.finding_type
        assert "collect_list(evidence_id)" not in spark_sql  # the evidence order was kept


@pytest.mark.parametrize(
    ("duck", "spark_part"),
    [
        ("SELECT list_slice(l, 1, 20) FROM t", "SLICE(l, 1, 20)"),
        ("SELECT list_slice(l, 3, 4) FROM t", "SLICE(l, 3, 2)"),
        ("SELECT len(regexp_extract_all(s, 'x')) FROM t", "SIZE(REGEXP_EXTRACT_ALL("),
        ("SELECT length(s) FROM t", "LENGTH(s)"),
        ("SELECT len(e.resources) FROM events e", "SIZE(e.resources)"),
        ("SELECT regexp_full_match(s, 'a|b') FROM t", "s RLIKE '^(?:a|b)\\\\z'"),
        ("SELECT CAST(event_time AS VARCHAR) FROM t", "DATE_FORMAT(event_time"),
        ("SELECT CAST(region AS VARCHAR) FROM t", "CAST(region AS STRING)"),
        ("SELECT to_json(struct_pack(a := 1)) FROM t", "MAP('ignoreNullFields', 'false')"),
    ],
)
def test_rewrites(duck: str, spark_part: str) -> None:
    assert spark_part in to_spark(duck)


@pytest.mark.parametrize(
    "duck",
    [
        "SELECT array_agg(x ORDER BY t DESC) FROM t",
        "SELECT regexp_full_match(s, p) FROM t",
        "SELECT ip4_num(a, b) FROM t",
        "SELECT FROM WHERE (",
    ],
)
def test_what_cannot_be_translated_is_an_input_error(duck: str) -> None:
    with pytest.raises(InputError):
        to_spark(duck)
