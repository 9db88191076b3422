"""The log generator: AWS delivery layouts, parseable records, labels, determinism, volumes."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mamori.core import InputError
from mamori.detect.generator import SCENARIOS, Generated, generate
from mamori.detect.generator.network import V2_FIELDS, V5_FIELDS

ACCOUNTS = ["111111111111", "222222222222"]
REGIONS = ["us-east-1", "eu-west-1"]
START = datetime(2024, 5, 1, tzinfo=UTC)
DAYS = 2
VOLUME = {"events_per_day": 400, "flows_per_day": 300, "dns_per_day": 200}

CT_PATH = re.compile(
    r"AWSLogs/(?P<acct>\d{12})/CloudTrail/(?P<region>[a-z0-9-]+)/(?P<y>\d{4})/(?P<m>\d\d)/(?P<d>\d\d)/"
    r"(?P=acct)_CloudTrail_(?P=region)_(?P<ts>\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz"
)
FLOW_PATH = re.compile(
    r"AWSLogs/(?P<acct>\d{12})/vpcflowlogs/(?P<region>[a-z0-9-]+)/(?P<y>\d{4})/(?P<m>\d\d)/"
    r"(?P<d>\d\d)/(?P=acct)_vpcflowlogs_(?P=region)_fl-[0-9a-f]{17}_(?P<ts>\d{8}T\d{4}Z)_"
    r"[0-9a-f]{8}\.log\.gz"
)
DNS_PATH = re.compile(
    r"AWSLogs/(?P<acct>\d{12})/vpcdnsquerylogs/(?P<vpc>vpc-[0-9a-f]{17})/(?P<y>\d{4})/(?P<m>\d\d)/"
    r"(?P<d>\d\d)/(?P=acct)_vpcdnsquerylogs_(?P=vpc)_(?P<ts>\d{8}T\d{4}Z)_[0-9a-f]{8}\.log\.gz"
)
FINDING_TYPE = re.compile(r"^[A-Za-z]+:[A-Za-z0-9]+/[A-Za-z0-9&]+(\.[A-Za-z0-9]+)*(![A-Za-z]+)?$")
CT_KEYS = {
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "requestParameters",
    "responseElements",
    "requestID",
    "eventID",
    "readOnly",
    "eventType",
    "managementEvent",
    "recipientAccountId",
    "eventCategory",
}


def _run(out: Path, **overrides: Any) -> Generated:
    args: dict[str, Any] = {
        "accounts": ACCOUNTS,
        "regions": REGIONS,
        "start": START,
        "days": DAYS,
        **VOLUME,
    }
    args.update(overrides)
    return generate(out, **args)


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    return _run(tmp_path_factory.mktemp("full"))


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _ct_records(root: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in _files(root):
        if "/CloudTrail/" in path.as_posix():
            out.extend(json.loads(gzip.decompress(path.read_bytes()))["Records"])
    return out


def _lines(path: Path) -> list[str]:
    return gzip.decompress(path.read_bytes()).decode().splitlines()


def _window(match: re.Match[str]) -> tuple[datetime, datetime]:
    start = datetime.strptime(match["ts"], "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    return start, start + timedelta(minutes=5)


def test_every_file_follows_an_aws_delivery_layout(full: Generated) -> None:
    kinds = Counter()
    for path in _files(full.root):
        rel = _rel(full.root, path)
        matched = [
            name
            for name, rx in (("ct", CT_PATH), ("flow", FLOW_PATH), ("dns", DNS_PATH))
            if rx.fullmatch(rel)
        ]
        assert len(matched) == 1, rel
        kinds[matched[0]] += 1
    assert kinds["ct"] and kinds["flow"] and kinds["dns"]


def test_cloudtrail_files_hold_records_of_their_account_region_and_window(full: Generated) -> None:
    seen_types, data_events = set(), 0
    for path in _files(full.root):
        m = CT_PATH.fullmatch(_rel(full.root, path))
        if not m:
            continue
        records = json.loads(gzip.decompress(path.read_bytes()))["Records"]
        assert records
        lo, hi = _window(m)
        for rec in records:
            assert rec.keys() >= CT_KEYS, rec["eventName"]
            assert rec["awsRegion"] == m["region"]
            assert rec["recipientAccountId"] == m["acct"]
            t = datetime.strptime(rec["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            assert lo <= t < hi
            seen_types.add(rec["userIdentity"]["type"])
            if rec["eventCategory"] == "Data":
                data_events += 1
                assert rec["managementEvent"] is False
                assert {r["type"] for r in rec["resources"]} == {
                    "AWS::S3::Object",
                    "AWS::S3::Bucket",
                }
    assert {"IAMUser", "AssumedRole", "Root", "AWSService"} <= seen_types
    assert data_events > 0


def test_assumed_role_sessions_carry_issuer_and_mfa_attribute(full: Generated) -> None:
    sessions = [
        r["userIdentity"]
        for r in _ct_records(full.root)
        if r["userIdentity"]["type"] == "AssumedRole"
    ]
    assert sessions
    for ident in sessions:
        ctx = ident["sessionContext"]
        assert ctx["sessionIssuer"]["arn"].startswith("arn:aws:iam::")
        assert ctx["attributes"]["mfaAuthenticated"] in ("true", "false")
        assert ident["arn"].split("/")[1] == ctx["sessionIssuer"]["userName"]


def test_flow_files_have_a_header_and_both_formats(full: Generated) -> None:
    headers = set()
    for path in _files(full.root):
        m = FLOW_PATH.fullmatch(_rel(full.root, path))
        if not m:
            continue
        header, *rows = _lines(path)
        fields = header.split()
        assert fields in (V2_FIELDS, V5_FIELDS)
        headers.add(header)
        lo, hi = _window(m)
        for row in rows:
            values = dict(zip(fields, row.split(" "), strict=True))
            assert values["account-id"] == m["acct"]
            assert values["version"] == ("2" if fields == V2_FIELDS else "5")
            assert lo <= datetime.fromtimestamp(int(values["start"]), UTC) < hi
    assert len(headers) == 2


def test_dns_files_are_json_lines_of_their_vpc(full: Generated) -> None:
    for path in _files(full.root):
        m = DNS_PATH.fullmatch(_rel(full.root, path))
        if not m:
            continue
        for line in _lines(path):
            rec = json.loads(line)
            assert rec["vpc_id"] == m["vpc"] and rec["account_id"] == m["acct"]
            assert rec["query_name"].endswith(".")
            assert rec["srcids"]["instance"].startswith("i-")


def test_counts_match_what_was_written(full: Generated) -> None:
    ct = len(_ct_records(full.root))
    flows = dns = 0
    for path in _files(full.root):
        rel = _rel(full.root, path)
        if FLOW_PATH.fullmatch(rel):
            flows += len(_lines(path)) - 1
        elif DNS_PATH.fullmatch(rel):
            dns += len(_lines(path))
    assert full.counts == {"cloudtrail": ct, "vpc-flow": flows, "dns": dns}


def test_background_volume_is_exact_without_scenarios(tmp_path: Path) -> None:
    result = _run(tmp_path, scenarios=[], events_per_day=150, flows_per_day=120, dns_per_day=90)
    n = len(ACCOUNTS) * DAYS
    assert result.counts == {"cloudtrail": 150 * n, "vpc-flow": 120 * n, "dns": 90 * n}
    assert result.labels == []


def test_every_scenario_leaves_a_label_and_its_look_alike(full: Generated) -> None:
    by_scenario: dict[str, set[bool]] = {}
    for label in full.labels:
        by_scenario.setdefault(label.scenario, set()).add(label.benign)
        assert label.finding_type in SCENARIOS[label.scenario].finding_types
        assert label.account_id in ACCOUNTS
        assert START <= label.first_seen < START + timedelta(days=DAYS)
    assert set(by_scenario) == set(SCENARIOS)
    for scenario_id, spec in SCENARIOS.items():
        assert False in by_scenario[scenario_id], scenario_id
        assert (True in by_scenario[scenario_id]) == spec.has_benign, scenario_id


def test_scenario_ids_and_finding_types_are_well_formed() -> None:
    assert len(SCENARIOS) >= 25
    for scenario_id, spec in SCENARIOS.items():
        assert re.fullmatch(r"[a-z0-9-]+", scenario_id)
        for finding_type in spec.finding_types:
            assert FINDING_TYPE.fullmatch(finding_type), finding_type


def test_cloudtrail_labels_point_at_a_record_of_their_actor(full: Generated) -> None:
    index = {
        (r["eventTime"], r["userIdentity"].get("arn"), r["recipientAccountId"])
        for r in _ct_records(full.root)
    }
    for label in full.labels:
        if label.source == "cloudtrail":
            key = (label.first_seen.strftime("%Y-%m-%dT%H:%M:%SZ"), label.actor, label.account_id)
            assert key in index, label


def test_network_labels_point_at_a_record_of_their_instance(full: Generated) -> None:
    flow_keys, dns_keys = set(), set()
    for path in _files(full.root):
        rel = _rel(full.root, path)
        if FLOW_PATH.fullmatch(rel):
            header, *rows = _lines(path)
            for row in rows:
                v = dict(zip(header.split(), row.split(" "), strict=True))
                flow_keys.add((int(v["start"]), v.get("instance-id")))
        elif DNS_PATH.fullmatch(rel):
            for line in _lines(path):
                rec = json.loads(line)
                dns_keys.add((rec["query_timestamp"], rec["srcids"]["instance"]))
    for label in full.labels:
        if label.source == "vpc-flow":
            assert (int(label.first_seen.timestamp()), label.resource) in flow_keys, label
        elif label.source == "dns":
            stamp = label.first_seen.strftime("%Y-%m-%dT%H:%M:%SZ")
            assert (stamp, label.resource) in dns_keys, label


def test_tester_canary_and_threat_ips_appear(full: Generated) -> None:
    text = b"".join(gzip.decompress(p.read_bytes()) for p in _files(full.root))
    for needle in (
        b"guarddutyc2activityb.com.",
        b"192.0.2.11",
        b"192.0.2.66",
        b"192.0.2.77",
        b"kali",
        b'"cidrIp":"0.0.0.0/0"',
        b"AdministratorAccess",
    ):
        assert needle in text, needle


def test_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    small = {"days": 1, "events_per_day": 120, "flows_per_day": 80, "dns_per_day": 40}
    first = _run(tmp_path / "a", **small)
    second = _run(tmp_path / "b", **small)
    other = _run(tmp_path / "c", seed=8, **small)

    def snapshot(root: Path) -> dict[str, bytes]:
        return {_rel(root, p): p.read_bytes() for p in _files(root)}

    assert snapshot(first.root) == snapshot(second.root)
    assert first.labels == second.labels and first.counts == second.counts
    assert snapshot(first.root) != snapshot(other.root)


def test_scenario_selection_limits_labels_and_records(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        scenarios=["root-usage"],
        events_per_day=50,
        flows_per_day=0,
        dns_per_day=0,
        days=1,
    )
    assert {label.scenario for label in result.labels} == {"root-usage"}
    records = _ct_records(result.root)
    root_calls = [r for r in records if r["userIdentity"]["type"] == "Root"]
    assert any(r["eventName"] == "ConsoleLogin" for r in root_calls)
    assert result.counts["cloudtrail"] == 50 * len(ACCOUNTS) + len(root_calls)
    assert result.counts["vpc-flow"] == result.counts["dns"] == 0


def test_network_scenarios_alone_write_no_extra_cloudtrail(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        scenarios=["port-scan", "dns-exfiltration"],
        events_per_day=10,
        flows_per_day=0,
        dns_per_day=0,
        days=1,
    )
    assert result.counts["cloudtrail"] == 10 * len(ACCOUNTS)
    assert result.counts["vpc-flow"] > 150 and result.counts["dns"] >= 81
    assert {lb.source for lb in result.labels} == {"vpc-flow", "dns"}


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"scenarios": ["no-such-scenario"]}, "no-such-scenario"),
        ({"accounts": ["12345"]}, "accounts"),
        ({"accounts": []}, "accounts"),
        ({"regions": ["mars-1"]}, "regions"),
        ({"days": 0}, "days"),
        ({"events_per_day": -1}, "events_per_day"),
        ({"scenarios": "root-usage"}, "scenarios"),
    ],
    ids=[
        "unknown-scenario",
        "short-account",
        "no-accounts",
        "bad-region",
        "zero-days",
        "negative-volume",
        "string-scenarios",
    ],
)
def test_bad_input_is_named(tmp_path: Path, overrides: dict[str, Any], named: str) -> None:
    with pytest.raises(InputError, match=re.escape(named)):
        _run(tmp_path, **overrides)
    assert not (tmp_path / "AWSLogs").exists()
