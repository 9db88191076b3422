"""Address and port sets as Network Firewall rules state them, matched against one value or a
whole Arrow column at once.

A set is what stateless MatchAttributes, a 5-tuple Header and a Suricata header all reduce to:
some networks (or any) minus some networks. Columns of addresses are parsed once into 32-bit
integers (IPv4) so that a CIDR test is a mask and a compare per record; IPv6 records, rare in
flow logs, are tested one by one.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cached_property

import pyarrow as pa
import pyarrow.compute as pc

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$"


def parse_network(text: str) -> Network:
    """A CIDR or a single address; ValueError with a readable reason otherwise."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address or CIDR block") from None


@dataclass(frozen=True)
class AddressSet:
    """`include` (None: any address) minus `exclude`."""

    include: tuple[Network, ...] | None = None
    exclude: tuple[Network, ...] = ()

    @property
    def is_any(self) -> bool:
        return self.include is None and not self.exclude

    def negated(self) -> AddressSet:
        if self.exclude:
            # !(A minus B) is (not A) or B: a union of a complement, which this shape cannot hold.
            raise ValueError("negating a set that already has negated entries is not supported")
        return AddressSet(None, self.include or ())

    def contains(self, address: Address | None) -> bool:
        """Whether the address is in the set; an unknown address is only in `any`."""
        if address is None:
            return self.is_any
        if self.include is not None and not any(address in n for n in self.include):
            return False
        return not any(address in n for n in self.exclude)

    def match(self, column: AddressColumn) -> pa.Array:
        """The set's membership for every address of the column."""
        if self.is_any:
            return pa.repeat(pa.scalar(True), column.rows)
        hit = column.within(self.include) if self.include is not None else column.known
        if self.exclude:
            hit = pc.and_(hit, pc.invert(column.within(self.exclude)))
        return hit


ANY_ADDRESS = AddressSet()


@dataclass(frozen=True)
class PortSet:
    """`include` ranges (None: any port) minus `exclude` ranges, both inclusive."""

    include: tuple[tuple[int, int], ...] | None = None
    exclude: tuple[tuple[int, int], ...] = ()

    @property
    def is_any(self) -> bool:
        return self.include is None and not self.exclude

    def negated(self) -> PortSet:
        if self.exclude:
            raise ValueError(
                "negating a port set that already has negated entries is not supported"
            )
        return PortSet(None, self.include or ())

    def contains(self, port: int | None) -> bool:
        if port is None:
            return self.is_any
        if self.include is not None and not any(lo <= port <= hi for lo, hi in self.include):
            return False
        return not any(lo <= port <= hi for lo, hi in self.exclude)

    def match(self, ports: pa.Array) -> pa.Array:
        if self.is_any:
            return pa.repeat(pa.scalar(True), len(ports))
        known = pc.is_valid(ports)
        hit = _in_ranges(ports, self.include) if self.include is not None else known
        if self.exclude:
            hit = pc.and_(hit, pc.invert(_in_ranges(ports, self.exclude)))
        return pc.fill_null(pc.and_(hit, known), False)


ANY_PORT = PortSet()


def _in_ranges(ports: pa.Array, ranges: tuple[tuple[int, int], ...]) -> pa.Array:
    hit = pa.repeat(pa.scalar(False), len(ports))
    for low, high in ranges:
        inside = (
            pc.equal(ports, low)
            if low == high
            else pc.and_(pc.greater_equal(ports, low), pc.less_equal(ports, high))
        )
        hit = pc.or_(hit, pc.fill_null(inside, False))
    return hit


@dataclass
class AddressColumn:
    """A column of address texts, parsed once for every set that tests it."""

    texts: pa.Array

    @property
    def rows(self) -> int:
        return len(self.texts)

    @cached_property
    def _v4_mask(self) -> pa.Array:
        return pc.fill_null(pc.match_substring_regex(self.texts, _IPV4), False)

    @cached_property
    def _v4_int(self) -> pa.Array:
        parts = pc.split_pattern(pc.if_else(self._v4_mask, self.texts, "0.0.0.0"), ".")
        value = pa.repeat(pa.scalar(0, pa.uint32()), self.rows)
        for index in range(4):
            octet = pc.list_element(parts, index).cast(pa.uint32())
            value = pc.bit_wise_or(pc.shift_left(value, 8), octet)
        return value

    @cached_property
    def _v6_rows(self) -> dict[int, ipaddress.IPv6Address]:
        rows: dict[int, ipaddress.IPv6Address] = {}
        maybe = pc.and_(
            pc.invert(self._v4_mask), pc.fill_null(pc.match_substring(self.texts, ":"), False)
        )
        for index in pc.indices_nonzero(maybe).to_pylist():
            try:
                rows[index] = ipaddress.IPv6Address(self.texts[index].as_py())
            except ValueError:
                continue
        return rows

    @cached_property
    def known(self) -> pa.Array:
        """Rows holding a parseable address."""
        if not self._v6_rows:
            return self._v4_mask
        flags = self._v4_mask.to_pylist()
        for index in self._v6_rows:
            flags[index] = True
        return pa.array(flags, pa.bool_())

    def within(self, networks: tuple[Network, ...]) -> pa.Array:
        hit = pa.repeat(pa.scalar(False), self.rows)
        v6 = [n for n in networks if n.version == 6]
        for net in networks:
            if net.version != 4:
                continue
            mask = int(net.netmask)
            masked = pc.bit_wise_and(self._v4_int, pa.scalar(mask, pa.uint32()))
            inside = pc.equal(masked, pa.scalar(int(net.network_address), pa.uint32()))
            hit = pc.or_(hit, pc.and_(inside, self._v4_mask))
        if v6 and self._v6_rows:
            flags = hit.to_pylist()
            for index, address in self._v6_rows.items():
                flags[index] = flags[index] or any(address in n for n in v6)
            hit = pa.array(flags, pa.bool_())
        return hit


def parse_address(text: str | None) -> Address | None:
    if not text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
