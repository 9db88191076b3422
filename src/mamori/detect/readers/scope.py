"""Whether address text is a private or a public IP address, for a whole column at once.

The same answer as the SQL macros `is_ip` and `is_private_ip` of the rules (rules/base.py), which
tests hold the two to: an IPv4 address is private in 10/8, 172.16/12, 192.168/16, 127/8,
169.254/16 and 100.64/10; an IPv6 address in fc00::/7, fe80::/10 (as written with "fe80:") and
::1. Anything else that is not an address is NULL.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$"
_IPV6 = r"^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$"
# On text already known to be a dotted quad, the private ranges are prefixes.
_PRIVATE_V4 = (
    r"^(10\.|172\.(1[6-9]|2[0-9]|3[01])\.|192\.168\.|127\.|169\.254\."
    r"|100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.)"
)
_PRIVATE_V6 = r"^(f[cd][0-9a-f]{2}:|fe80:|::1$)"


def ip_scope(addresses: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """ "private", "public" or NULL for each address text."""
    v4 = pc.match_substring_regex(addresses, _IPV4)
    v6 = pc.and_(pc.invert(v4), pc.match_substring_regex(addresses, _IPV6))
    private = pc.or_(
        pc.and_(v4, pc.match_substring_regex(addresses, _PRIVATE_V4)),
        pc.and_(v6, pc.match_substring_regex(pc.utf8_lower(addresses), _PRIVATE_V6)),
    )
    scope = pc.if_else(private, "private", "public")
    return pc.if_else(pc.or_(v4, v6), scope, pa.scalar(None, pa.string()))
