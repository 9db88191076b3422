"""The web request a Web ACL inspects, and the per-request view of it that rules share.

`Request` is what a caller hands in: the method, the URI as sent (path and query), the headers
in their order and case, the body bytes and the client address. `Inspection` is built once per
evaluation and parses lazily: the query arguments, cookies and the JSON body are parsed the
first time a rule asks for them, and transformed field values are cached, so two rules that look
at the same field through the same transformations pay for it once.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson

Headers = tuple[tuple[str, str], ...]


def as_bytes(text: str) -> bytes:
    """Request text as the bytes on the wire; lone surrogates (undecodable input) survive."""
    return text.encode("utf-8", "surrogatepass")


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    uri: str
    headers: Headers = ()
    body: bytes = b""
    client_ip: str = "127.0.0.1"

    @classmethod
    def build(
        cls,
        method: str,
        uri: str,
        headers: Any = (),
        body: bytes | str = b"",
        client_ip: str = "127.0.0.1",
    ) -> Request:
        """From friendlier inputs: headers as a mapping or pairs, the body as text or bytes."""
        pairs = headers.items() if isinstance(headers, dict) else headers
        data = as_bytes(body) if isinstance(body, str) else bytes(body)
        return cls(method, uri, tuple((str(k), str(v)) for k, v in pairs), data, client_ip)


@dataclass(slots=True)
class Inspection:
    """One request under evaluation: lazily parsed parts, caches, labels added so far."""

    request: Request
    body_limit: int
    labels: list[str] = field(default_factory=list)
    _label_set: set[str] = field(default_factory=set)
    cache: dict[Any, Any] = field(default_factory=dict)
    _path: bytes | None = None
    _query: bytes | None = None
    _args: list[tuple[bytes, bytes]] | None = None
    _cookies: list[tuple[bytes, bytes]] | None = None
    _json: Any = None
    _json_state: int = 0  # 0 not parsed, 1 valid, 2 invalid
    _client_ip: Any = False  # False: not parsed yet (None is an unparseable address)

    def labels_add(self, label: str) -> None:
        if label not in self._label_set:
            self._label_set.add(label)
            self.labels.append(label)

    def _split(self) -> None:
        raw = as_bytes(self.request.uri)
        raw = raw.split(b"#", 1)[0]
        path, _, query = raw.partition(b"?")
        if b"://" in path[:16]:  # absolute-form request target: keep the path only
            path = b"/" + path.split(b"://", 1)[1].partition(b"/")[2]
        self._path, self._query = path, query

    @property
    def path(self) -> bytes:
        if self._path is None:
            self._split()
        return self._path  # type: ignore[return-value]

    @property
    def query(self) -> bytes:
        if self._query is None:
            self._split()
        return self._query  # type: ignore[return-value]

    @property
    def fragment(self) -> bytes | None:
        raw = as_bytes(self.request.uri)
        return raw.split(b"#", 1)[1] if b"#" in raw else None

    @property
    def args(self) -> list[tuple[bytes, bytes]]:
        """Query arguments as (name, value), both as sent (not URL-decoded)."""
        if self._args is None:
            pairs = []
            for part in self.query.split(b"&"):
                if part:
                    name, _, value = part.partition(b"=")
                    pairs.append((name, value))
            self._args = pairs
        return self._args

    def header_values(self, name: str) -> list[bytes]:
        key = name.lower()
        return [as_bytes(v) for k, v in self.request.headers if k.lower() == key]

    @property
    def cookies(self) -> list[tuple[bytes, bytes]]:
        if self._cookies is None:
            pairs = []
            for header in self.header_values("cookie"):
                for part in header.split(b";"):
                    name, _, value = part.strip().partition(b"=")
                    if name:
                        pairs.append((name, value))
            self._cookies = pairs
        return self._cookies

    @property
    def body(self) -> bytes:
        return self.request.body[: self.body_limit]

    @property
    def body_oversize(self) -> bool:
        return len(self.request.body) > self.body_limit

    def json_body(self) -> tuple[bool, Any]:
        """(valid, document) of the inspected part of the body, parsed once."""
        if self._json_state == 0:
            try:
                self._json = orjson.loads(self.body)
                self._json_state = 1
            except orjson.JSONDecodeError:
                self._json_state = 2
        return self._json_state == 1, self._json

    def client_ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        if self._client_ip is False:  # parsed once: every IP statement asks
            self._client_ip = parse_ip(self.request.client_ip)
        return self._client_ip  # type: ignore[no-any-return]


def parse_ip(text: str | bytes) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        raw = text.decode("ascii") if isinstance(text, bytes) else text
        return ipaddress.ip_address(raw.strip().strip("[]"))
    except (ValueError, UnicodeDecodeError):
        return None


def url_decoded(value: bytes) -> bytes:
    return unquote_to_bytes(value.replace(b"+", b" "))
