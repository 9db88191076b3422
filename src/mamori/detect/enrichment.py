"""Where an IP address is: country and AS from MMDB files, AWS service and region from AWS's
published ip-ranges.json. Nothing is downloaded; the user points at files they have.

MMDB records are read in the GeoIP2/GeoLite2 layout (which DB-IP's lite databases share:
`country.iso_code`, `autonomous_system_number`, `autonomous_system_organization`) and in the flat
layout of IPinfo's databases (`country_code`, `asn` as "AS123", `as_name`). Several files are
merged, the first one that knows a field wins, so a country database and an ASN database can be
given together.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import maxminddb
import pyarrow as pa

from mamori.detect.netaddr import parse_network

ENRICHMENT_SCHEMA = pa.schema(
    [
        ("ip", pa.string()),
        ("country", pa.string()),  # ISO 3166-1 alpha-2
        ("asn", pa.int64()),
        ("as_org", pa.string()),
        ("aws_service", pa.string()),  # e.g. EC2, S3; AMAZON when only the umbrella lists it
        ("aws_region", pa.string()),  # e.g. us-east-1, GLOBAL
    ]
)
_FIELDS = [name for name in ENRICHMENT_SCHEMA.names if name != "ip"]
_UMBRELLA = "AMAZON"  # ip-ranges.json lists every prefix under AMAZON besides its service


class MmdbReader(Protocol):
    """What Enrichment needs of a `maxminddb.Reader`; tests may hand in their own."""

    def get(self, ip_address: Any) -> Any: ...

    def close(self) -> None: ...


class AwsRanges:
    """Longest-prefix lookup over AWS's ip-ranges.json."""

    def __init__(self) -> None:
        # version -> prefix length -> network as int -> {service: region}
        self._nets: dict[int, dict[int, dict[int, dict[str, str]]]] = {4: {}, 6: {}}
        self._lengths: dict[int, list[int]] = {4: [], 6: []}

    def add(self, prefix: str, service: str, region: str) -> bool:
        net = parse_network(prefix)
        if net is None:
            return False
        by_len = self._nets[net.version].setdefault(net.prefixlen, {})
        by_len.setdefault(int(net.network_address), {}).setdefault(service, region)
        self._lengths[net.version] = sorted(self._nets[net.version], reverse=True)
        return True

    def lookup(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> tuple[str, str] | None:
        """(service, region) of the most specific prefix holding `ip`, or None outside AWS."""
        value, bits = int(ip), ip.max_prefixlen
        for length in self._lengths[ip.version]:
            mask = ((1 << length) - 1) << (bits - length)
            services = self._nets[ip.version][length].get(value & mask)
            if services:
                named = sorted(s for s in services if s != _UMBRELLA) or [_UMBRELLA]
                return ",".join(named), services[named[0]]
        return None

    @classmethod
    def from_json(cls, text: str, where: str, errors: list[str]) -> AwsRanges:
        ranges = cls()
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            errors.append(f"{where}:{exc.lineno}: not JSON: {exc.msg}")
            return ranges
        if not isinstance(doc, dict):
            errors.append(f"{where}: expected an object with prefixes and ipv6_prefixes")
            return ranges
        for key, prefix_key in (("prefixes", "ip_prefix"), ("ipv6_prefixes", "ipv6_prefix")):
            entries = doc.get(key, [])
            if not isinstance(entries, list):
                errors.append(f"{where}: {key} is not a list")
                continue
            for index, entry in enumerate(entries):
                if not _add_entry(ranges, entry, prefix_key):
                    errors.append(
                        f"{where}: {key}[{index}]: expected {prefix_key}, region, service"
                    )
        return ranges


def _add_entry(ranges: AwsRanges, entry: object, prefix_key: str) -> bool:
    if not isinstance(entry, dict):
        return False
    prefix, region, service = entry.get(prefix_key), entry.get("region"), entry.get("service")
    if not (isinstance(prefix, str) and isinstance(region, str) and isinstance(service, str)):
        return False
    return ranges.add(prefix, service, region)


class Enrichment:
    """Country, AS and AWS location of IP addresses, for the engine to join to the logs."""

    def __init__(
        self,
        readers: Sequence[MmdbReader] = (),
        aws: AwsRanges | None = None,
        errors: list[str] | None = None,
    ) -> None:
        self.readers = list(readers)
        self.aws = aws
        self.errors = errors if errors is not None else []

    @classmethod
    def load(cls, mmdb: Iterable[Path] = (), ip_ranges: Path | None = None) -> Enrichment:
        """Open the MMDB files and ip-ranges.json; a file that cannot be used lands in `errors`."""
        errors: list[str] = []
        readers: list[MmdbReader] = []
        for path in mmdb:
            try:
                readers.append(maxminddb.open_database(str(path)))
            except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
                errors.append(f"{path}: cannot open as an MMDB database: {exc}")
        aws = None
        if ip_ranges is not None:
            try:
                text = Path(ip_ranges).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                errors.append(f"{ip_ranges}: cannot read: {exc}")
            else:
                aws = AwsRanges.from_json(text, str(ip_ranges), errors)
        return cls(readers, aws, errors)

    def lookup(self, ip: str) -> dict[str, Any]:
        """Country, asn, as_org, aws_service, aws_region of `ip`; all None for a non-address
        (CloudTrail's sourceIPAddress may be a service name such as ec2.amazonaws.com)."""
        result: dict[str, Any] = dict.fromkeys(_FIELDS)
        try:
            address = ipaddress.ip_address(ip.strip())
        except (ValueError, AttributeError):
            return result
        for reader in self.readers:
            try:
                record = reader.get(address)
            except ValueError:  # an IPv6 address asked of an IPv4-only database
                continue
            for key, value in _from_record(record).items():
                if result[key] is None:
                    result[key] = value
        if self.aws is not None:
            found = self.aws.lookup(address)
            if found is not None:
                result["aws_service"], result["aws_region"] = found
        return result

    def table(self, ips: Iterable[str | None]) -> pa.Table:
        """One row per distinct address of `ips` (nulls dropped), in ENRICHMENT_SCHEMA."""
        distinct = list(dict.fromkeys(ip for ip in ips if ip))
        rows = [{"ip": ip, **self.lookup(ip)} for ip in distinct]
        return pa.Table.from_pylist(rows, schema=ENRICHMENT_SCHEMA)

    def close(self) -> None:
        for reader in self.readers:
            reader.close()
        self.readers = []

    def __enter__(self) -> Enrichment:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _from_record(record: object) -> dict[str, Any]:
    if not isinstance(record, dict):
        return {}
    found: dict[str, Any] = {}
    country = _country(record)
    if country:
        found["country"] = country
    asn = _asn(record.get("autonomous_system_number", record.get("asn")))
    if asn is not None:
        found["asn"] = asn
    org = record.get("autonomous_system_organization", record.get("as_name"))
    if isinstance(org, str) and org:
        found["as_org"] = org
    return found


def _country(record: dict[str, Any]) -> str | None:
    for key in ("country", "registered_country"):
        value = record.get(key)
        if isinstance(value, dict) and isinstance(value.get("iso_code"), str):
            return str(value["iso_code"])
    code = record.get("country_code")
    return code if isinstance(code, str) and code else None


def _asn(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        digits = value.upper().removeprefix("AS")
        if digits.isascii() and digits.isdigit():
            return int(digits)
    return None
