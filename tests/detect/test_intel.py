"""Threat-intel loaders (TXT, STIX, OTX CSV, Tor, trusted lists) and IP enrichment."""

from __future__ import annotations

import gzip
import ipaddress
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
import stix2
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.detect.intel import (
    BUILTIN_LIST,
    BUILTIN_THREAT,
    INTEL_IP_TABLE,
    MAX_ERRORS_PER_FILE,
    TRUSTED_IP_TABLE,
    Enrichment,
    ip_to_int,
    load_intel,
    network_range,
)
from mamori.detect.schema import INTEL_DOMAIN

TS = "2024-01-01T00:00:00.000Z"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _ips(intel: Any) -> dict[str, dict[str, Any]]:
    return {row["network"]: row for row in intel.ips.to_pylist()}


def _domains(intel: Any) -> dict[str, dict[str, Any]]:
    return {row["domain"]: row for row in intel.domains.to_pylist()}


def test_txt_list_loads_ips_cidrs_domains_and_reports_bad_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "bad-actors.txt",
        "# a comment\n"
        "198.51.100.7\n"
        "\n"
        "203.0.113.0/24   # inline comment\n"
        "10.1.2.3/8 ; host bits set\n"
        "2001:DB8:0::1\n"  # written as the logs write it: 2001:db8::1
        "Evil.Example.COM.\n"
        "1.2.3.999\n"
        "two entries.com here.com\n"
        "198.51.100.7\n",
    )
    intel = load_intel([path], include_builtin=False)
    ips = _ips(intel)
    assert set(ips) == {"198.51.100.7", "203.0.113.0/24", "10.0.0.0/8", "2001:db8::1"}
    assert intel.ips.num_rows == 4  # the repeated 198.51.100.7 is kept once
    assert ips["203.0.113.0/24"]["net_lo"] == int(ipaddress.IPv4Address("203.0.113.0"))
    assert ips["203.0.113.0/24"]["net_hi"] == int(ipaddress.IPv4Address("203.0.113.255"))
    assert ips["2001:db8::1"]["net_lo"] is None
    assert ips["198.51.100.7"]["list_name"] == "bad-actors.txt"
    assert ips["198.51.100.7"]["threat"] == "bad-actors"
    assert set(_domains(intel)) == {"evil.example.com"}
    assert intel.ips.schema == INTEL_IP_TABLE
    assert intel.domains.schema == INTEL_DOMAIN
    assert len(intel.errors) == 2
    assert intel.errors[0].startswith(f"{path}:8: ")
    assert "1.2.3.999" in intel.errors[0]
    assert intel.errors[1].startswith(f"{path}:9: ")


def test_alienvault_reputation_lines_take_their_activity_as_threat(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "reputation.data",
        "192.0.2.10#4#2#Scanning Host#CN##39.9,116.3#11\n"
        "192.0.2.11#3#3#Malicious Host;C&C#US#City#1.0,2.0#3\n"
        "not-an-ip#3#3#Spamming#US#City#1.0,2.0#3\n",
    )
    intel = load_intel([path], include_builtin=False)
    ips = _ips(intel)
    assert ips["192.0.2.10"]["threat"] == "Scanning Host"
    assert ips["192.0.2.11"]["threat"] == "Malicious Host,C&C"
    assert intel.errors == [f"{path}:3: not an IP address: 'not-an-ip'"]


def _indicator(pattern: str, **extra: Any) -> stix2.v21.Indicator:
    return stix2.v21.Indicator(
        pattern=pattern, pattern_type="stix", valid_from=TS, created=TS, modified=TS, **extra
    )


def test_stix21_bundle_indicators_by_pattern_and_type(tmp_path: Path) -> None:
    good = [
        _indicator("[ipv4-addr:value = '198.51.100.9']", indicator_types=["malicious-activity"]),
        _indicator("[ipv4-addr:value ISSUBSET '203.0.113.0/25']"),
        _indicator("[domain-name:value IN ('c2.example.net', 'drop.example.org')]"),
        _indicator("[url:value = 'http://Phish.Example.com:8080/login?x=1']"),
        _indicator("[ipv6-addr:value = '2001:db8::5'] OR [ipv4-addr:value != '192.0.2.1']"),
        _indicator("[file:hashes.'SHA-256' = '" + "a" * 64 + "']"),  # nothing to match: skipped
        _indicator("[ipv4-addr:value = '192.0.2.200']", revoked=True),
    ]
    doc = json.loads(stix2.v21.Bundle(objects=good).serialize())
    bad = dict(doc["objects"][0], id="indicator--00000000-0000-4000-8000-000000000001")
    bad["pattern"] = "[ipv4-addr:value = "
    doc["objects"].append(bad)
    doc["objects"].append("not an object")
    path = _write(tmp_path / "feed.json", json.dumps(doc))

    intel = load_intel([path], include_builtin=False)
    ips, domains = _ips(intel), _domains(intel)
    assert set(ips) == {"198.51.100.9", "203.0.113.0/25", "2001:db8::5"}
    assert ips["198.51.100.9"]["threat"] == "malicious-activity"
    assert ips["203.0.113.0/25"]["threat"] == "feed"  # no type stated: the list's name
    assert set(domains) == {"c2.example.net", "drop.example.org", "phish.example.com"}
    assert domains["c2.example.net"]["list_name"] == "feed.json"
    assert len(intel.errors) == 2
    assert intel.errors[0].startswith(f"{path}:{bad['id']}: invalid STIX indicator")
    assert intel.errors[1] == f"{path}:objects[8]: not a STIX object"


def test_stix20_labels_are_the_threat(tmp_path: Path) -> None:
    indicator = stix2.v20.Indicator(
        labels=["anomalous-activity"],
        pattern="[domain-name:value = 'odd.example.com']",
        valid_from=TS,
    )
    path = _write(tmp_path / "old.stix", stix2.v20.Bundle(objects=[indicator]).serialize())
    intel = load_intel([path], include_builtin=False)
    assert intel.errors == []
    assert _domains(intel)["odd.example.com"]["threat"] == "anomalous-activity"


def test_unparseable_or_unreadable_files_are_named_and_the_rest_loaded(tmp_path: Path) -> None:
    broken = _write(tmp_path / "broken.json", '{"type": "bundle", "objects": [')
    missing = tmp_path / "missing.txt"
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage")
    ok = _write(tmp_path / "ok.txt", "192.0.2.1\n")
    intel = load_intel([broken, missing, binary, ok], include_builtin=False)
    assert set(_ips(intel)) == {"192.0.2.1"}
    assert len(intel.errors) == 3
    assert intel.errors[0].startswith(f"{broken}:1: not JSON")
    assert intel.errors[1].startswith(f"{missing}: cannot read")
    assert intel.errors[2].startswith(f"{binary}: not UTF-8")


def test_gzipped_list_and_directory_of_lists(tmp_path: Path) -> None:
    folder = tmp_path / "lists"
    folder.mkdir()
    (folder / "zipped.txt.gz").write_bytes(gzip.compress(b"192.0.2.50\n"))
    _write(folder / "plain.txt", "bad.example.com\n")
    intel = load_intel([folder], include_builtin=False)
    assert _ips(intel)["192.0.2.50"]["threat"] == "zipped"
    assert _ips(intel)["192.0.2.50"]["list_name"] == "zipped.txt.gz"
    assert set(_domains(intel)) == {"bad.example.com"}


def test_otx_csv(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "pulse.csv",
        "Indicator type,Indicator,Description\n"
        "IPv4,198.51.100.20,scanner\n"
        'domain,bad.example.com,"multi\nline description"\n'
        "hostname,www.bad.example.com,\n"
        "URL,https://203.0.113.9/payload.sh,dropper\n"
        "CIDR,192.0.2.0/28,\n"
        "FileHash-SHA256," + "b" * 64 + ",ignored\n"
        "IPv4,300.1.1.1,broken\n"
        "IPv6\n",
    )
    intel = load_intel([path], include_builtin=False)
    assert set(_ips(intel)) == {"198.51.100.20", "203.0.113.9", "192.0.2.0/28"}
    assert set(_domains(intel)) == {"bad.example.com", "www.bad.example.com"}
    assert _ips(intel)["198.51.100.20"]["threat"] == "pulse"
    assert intel.errors == [
        f"{path}:9: not an IP address or CIDR: '300.1.1.1'",  # physical line
        f"{path}:10: expected 3 columns, found 1",
    ]


def test_csv_without_otx_header_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path / "other.csv", "ip,score\n192.0.2.1,5\n")
    intel = load_intel([path], include_builtin=False)
    assert intel.ips.num_rows == 0
    assert intel.errors == [f"{path}:1: not an OTX CSV header, missing indicator type, indicator"]


def test_tor_exit_lists_plain_and_exit_addresses(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "exit-addresses",
        "ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E\n"
        "Published 2024-01-01 00:00:00\n"
        "LastStatus 2024-01-01 01:00:00\n"
        "ExitAddress 192.0.2.77 2024-01-01 01:02:03\n"
        "198.51.100.78\n"
        "ExitAddress nonsense 2024-01-01\n",
    )
    intel = load_intel([], tor_exit_list=path, include_builtin=False)
    ips = _ips(intel)
    assert set(ips) == {"192.0.2.77", "198.51.100.78"}
    assert {row["threat"] for row in ips.values()} == {"tor-exit-node"}
    assert intel.errors == [f"{path}:6: not an IP address: 'nonsense'"]


def test_trusted_lists_take_ips_and_cidrs_only(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "office.txt", "# offices\n192.0.2.0/24\n2001:db8::/32\nvpn.example.com\n"
    )
    intel = load_intel([], [path], include_builtin=False)
    assert intel.trusted.schema == TRUSTED_IP_TABLE
    rows = {row["network"]: row for row in intel.trusted.to_pylist()}
    assert set(rows) == {"192.0.2.0/24", "2001:db8::/32"}
    assert rows["192.0.2.0/24"]["list_name"] == "office.txt"
    assert (rows["192.0.2.0/24"]["net_lo"], rows["192.0.2.0/24"]["net_hi"]) == network_range(
        "192.0.2.0/24"
    )
    assert len(intel.errors) == 1
    assert intel.errors[0].startswith(f"{path}:4: trusted lists hold IP addresses and CIDRs only")


def test_builtin_canaries_only_when_asked() -> None:
    with_builtin = load_intel([])
    domains = _domains(with_builtin)
    assert "guarddutyc2activityb.com" in domains
    assert {row["threat"] for row in domains.values()} == {BUILTIN_THREAT}
    assert {row["list_name"] for row in domains.values()} == {BUILTIN_LIST}
    assert with_builtin.ips.num_rows == 0
    without = load_intel([], include_builtin=False)
    assert without.domains.num_rows == 0
    assert without.domains.schema == INTEL_DOMAIN


def test_errors_are_capped_per_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "junk.txt", "not valid!\n" * (MAX_ERRORS_PER_FILE + 5))
    intel = load_intel([path], include_builtin=False)
    assert len(intel.errors) == MAX_ERRORS_PER_FILE + 1
    assert intel.errors[-1] == f"{path}: 5 more errors not shown"


def test_tables_join_in_duckdb_by_integer_range(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.txt", "203.0.113.0/24\n198.51.100.1\n")
    intel = load_intel([path], include_builtin=False)
    con = duckdb.connect()
    con.register("intel_ip", intel.ips)
    hits = con.execute(
        "SELECT a.ip, i.network FROM (VALUES ('203.0.113.77', ?), ('192.0.2.1', ?)) a(ip, n) "
        "JOIN intel_ip i ON a.n BETWEEN i.net_lo AND i.net_hi ORDER BY a.ip NULLS LAST",
        [ip_to_int("203.0.113.77"), ip_to_int("192.0.2.1")],
    ).fetchall()
    assert hits == [("203.0.113.77", "203.0.113.0/24")]


# --- enrichment ---------------------------------------------------------------------------------


class FakeReader:
    """Stands in for maxminddb.Reader: returns the record of the first network holding the IP."""

    def __init__(self, records: dict[str, Any]) -> None:
        self.records = {ipaddress.ip_network(k): v for k, v in records.items()}
        self.closed = False

    def get(self, ip_address: Any) -> Any:
        if ip_address.version == 6 and all(n.version == 4 for n in self.records):
            raise ValueError("IPv6 address in an IPv4-only database")
        return next((v for n, v in self.records.items() if ip_address in n), None)

    def close(self) -> None:
        self.closed = True


IP_RANGES = {
    "syncToken": "1",
    "createDate": "2024-01-01-00-00-00",
    "prefixes": [
        {"ip_prefix": "3.0.0.0/9", "region": "us-east-1", "service": "AMAZON"},
        {"ip_prefix": "3.0.0.0/9", "region": "us-east-1", "service": "EC2"},
        {"ip_prefix": "3.5.0.0/16", "region": "eu-west-1", "service": "AMAZON"},
        {"ip_prefix": "3.5.0.0/16", "region": "eu-west-1", "service": "S3"},
        {"ip_prefix": "52.94.0.0/22", "region": "GLOBAL", "service": "AMAZON"},
        {"ip_prefix": "bogus", "region": "x", "service": "EC2"},
        {"region": "x"},
    ],
    "ipv6_prefixes": [
        {"ipv6_prefix": "2600:1f00::/24", "region": "us-west-2", "service": "EC2"},
    ],
}


def _enrichment(tmp_path: Path) -> tuple[Enrichment, FakeReader]:
    path = _write(tmp_path / "ip-ranges.json", json.dumps(IP_RANGES))
    loaded = Enrichment.load([], path)
    country = FakeReader(
        {
            "3.0.0.0/8": {"country": {"iso_code": "US", "names": {"en": "United States"}}},
            "198.51.100.0/24": {"registered_country": {"iso_code": "JP"}},
        }
    )
    asn = FakeReader(
        {
            "3.0.0.0/8": {
                "autonomous_system_number": 16509,
                "autonomous_system_organization": "AMZ",
            },
            "198.51.100.0/24": {"asn": "AS64500", "as_name": "Example Net", "country_code": "FR"},
        }
    )
    return Enrichment([country, asn], loaded.aws, loaded.errors), country


def test_enrichment_lookup_merges_readers_and_aws_ranges(tmp_path: Path) -> None:
    enrich, _ = _enrichment(tmp_path)
    assert enrich.lookup("3.5.1.2") == {
        "country": "US",
        "asn": 16509,
        "as_org": "AMZ",
        "aws_service": "S3",  # the most specific prefix, its named service over AMAZON
        "aws_region": "eu-west-1",
    }
    assert enrich.lookup("3.1.0.1")["aws_service"] == "EC2"
    umbrella = enrich.lookup("52.94.1.1")
    assert (umbrella["aws_service"], umbrella["aws_region"]) == ("AMAZON", "GLOBAL")
    other = enrich.lookup("198.51.100.3")
    assert (other["country"], other["asn"], other["as_org"]) == ("JP", 64500, "Example Net")
    assert other["aws_service"] is None
    v6 = enrich.lookup("2600:1f00::1")
    assert (v6["aws_service"], v6["aws_region"], v6["country"]) == ("EC2", "us-west-2", None)
    assert set(enrich.lookup("ec2.amazonaws.com").values()) == {None}
    assert len(enrich.errors) == 2
    assert enrich.errors[0].endswith("prefixes[5]: expected ip_prefix, region, service")


def test_enrichment_table_has_one_row_per_distinct_ip(tmp_path: Path) -> None:
    enrich, country = _enrichment(tmp_path)
    table = enrich.table(["3.5.1.2", None, "3.5.1.2", "s3.amazonaws.com", "198.51.100.3"])
    assert table.column("ip").to_pylist() == ["3.5.1.2", "s3.amazonaws.com", "198.51.100.3"]
    assert table.column("asn").to_pylist() == [16509, None, 64500]
    assert table.column("aws_region").to_pylist() == ["eu-west-1", None, None]
    with enrich:
        pass
    assert country.closed


def test_enrichment_load_reports_unusable_files(tmp_path: Path) -> None:
    not_mmdb = _write(tmp_path / "country.mmdb", "plain text")
    ranges = _write(tmp_path / "ranges.json", "[1, 2")
    enrich = Enrichment.load([not_mmdb, tmp_path / "absent.mmdb"], ranges)
    assert enrich.readers == []
    assert len(enrich.errors) == 3
    assert enrich.errors[0].startswith(f"{not_mmdb}: cannot open as an MMDB database")
    assert enrich.errors[1].startswith(f"{tmp_path / 'absent.mmdb'}: cannot open")
    assert enrich.errors[2].startswith(f"{ranges}:1: not JSON")
    assert enrich.lookup("3.5.1.2")["aws_service"] is None


# --- properties -----------------------------------------------------------------------------------

_octet_text = st.one_of(
    st.integers(0, 300).map(str), st.text("0123456789", min_size=0, max_size=4), st.just("٣")
)
_quad = st.lists(_octet_text, min_size=3, max_size=5).map(".".join)


def _reference_int(text: str) -> int | None:
    try:
        return int(ipaddress.IPv4Address(text))
    except ValueError:
        return None


@given(st.one_of(_quad, st.text(max_size=20)))
def test_ip_to_int_agrees_with_ipaddress(text: str) -> None:
    assert ip_to_int(text) == _reference_int(text)


_cidr = st.builds(
    lambda quad, bits: f"{quad}/{bits}", _quad, st.one_of(st.integers(0, 33).map(str), st.text())
)


@given(st.one_of(_quad, _cidr, st.text(max_size=25)))
def test_network_range_agrees_with_ipaddress(text: str) -> None:
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        expected = None
    else:
        expected = (
            (int(net.network_address), int(net.broadcast_address)) if net.version == 4 else None
        )
    assert network_range(text) == expected


_line = st.one_of(
    st.text(max_size=60),
    _quad,
    _cidr,
    st.from_regex(r"[A-Za-z0-9.#;, \"-]{0,40}", fullmatch=True),
)


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(_line, max_size=20), suffix=st.sampled_from([".txt", ".csv"]))
def test_random_lines_never_crash_txt_and_csv_loaders(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str], suffix: str
) -> None:
    header = ["Indicator type,Indicator,Description"] if suffix == ".csv" else []
    path = tmp_path_factory.mktemp("fuzz") / f"list{suffix}"
    path.write_text("\n".join(header + lines), encoding="utf-8", errors="surrogatepass")
    intel = load_intel([path], [path], include_builtin=False)
    assert all(isinstance(message, str) for message in intel.errors)
    for row in intel.ips.to_pylist():
        net = ipaddress.ip_network(row["network"])
        single = net.prefixlen == net.max_prefixlen
        assert row["network"] == (str(net.network_address) if single else net.with_prefixlen)
