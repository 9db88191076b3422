"""IP address, network and domain-name parsing shared by threat intel and enrichment.

IPv4 networks are also given as integer ranges (`net_lo`, `net_hi`) so that the engine can join
log addresses to lists with a plain BETWEEN, which DuckDB and Spark both run without an IP type.
"""

from __future__ import annotations

import ipaddress
import re

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
# At least two labels, and a last label that is not all digits: a malformed IPv4 address such as
# 1.2.3.999 must not be taken for a domain name.
_DOMAIN_RE = re.compile(rf"(?:{_LABEL}\.)+(?=[a-z0-9_-]*[a-z_-])[a-z0-9_-]{{1,63}}")
_MAX_DOMAIN = 253


def ip_to_int(ip: str) -> int | None:
    """The IPv4 address `ip` as an integer, or None when `ip` is not a dotted-quad IPv4 address.

    Same acceptance as `ipaddress.IPv4Address` (no leading zeros, no spaces, ASCII digits only),
    written out because it runs once per distinct address of the logs.
    """
    parts = ip.split(".")
    if len(parts) != 4:
        return None
    value = 0
    for part in parts:
        if not (0 < len(part) <= 3 and part.isascii() and part.isdigit()):
            return None
        if part[0] == "0" and len(part) > 1:
            return None
        octet = int(part)
        if octet > 255:
            return None
        value = (value << 8) | octet
    return value


def parse_network(text: str) -> IPNetwork | None:
    """`text` (an IPv4/IPv6 address or CIDR) as a network, host bits cleared; None if it is not."""
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def network_range(text: str) -> tuple[int, int] | None:
    """First and last address, as integers, of the IPv4 address or CIDR `text`; else None."""
    net = parse_network(text)
    if net is None or net.version != 4:
        return None
    return int(net.network_address), int(net.broadcast_address)


def network_text(net: IPNetwork) -> str:
    """How `net` is written in the intel tables: a bare address for a single host, else a CIDR.

    Rules compare IPv6 log addresses to this text as is (there is no BIGINT range for them), so a
    single IPv6 host must read exactly as the logs write it: compressed and lower-case.
    """
    return str(net.network_address) if net.prefixlen == net.max_prefixlen else net.with_prefixlen


def ipv4_range(net: IPNetwork) -> tuple[int | None, int | None]:
    """`net` as an integer range if IPv4; (None, None) for IPv6, which BIGINT cannot hold."""
    if net.version != 4:
        return None, None
    return int(net.network_address), int(net.broadcast_address)


def normalize_domain(text: str) -> str | None:
    """`text` as a lower-case DNS name without the trailing dot (IDNs as punycode), or None."""
    name = text.strip().rstrip(".").lower()
    if not name:
        return None
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if len(name) > _MAX_DOMAIN or not _DOMAIN_RE.fullmatch(name):
        return None
    return name
