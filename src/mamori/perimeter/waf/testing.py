"""`mamori waf test`: requests from a JSON Lines file, each judged by a Web ACL.

One JSON object per line: `id`, `method`, `uri` (path and query), `headers` (an object, or a
list of [name, value] pairs to keep order and repeats), `body` (text) or `body_base64`, and
`client_ip`. A malformed line is reported with its number and the others are still judged.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from mamori.core import InputError
from mamori.perimeter.waf.compiler import Verdict, WebAcl
from mamori.perimeter.waf.request import Request


@dataclass(frozen=True, slots=True)
class Judged:
    line: int
    id: str
    verdict: Verdict | None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        if self.verdict is None:
            return {"id": self.id, "line": self.line, "error": self.error}
        out = self.verdict.as_dict()
        return {"id": self.id, **out}


def _headers(value: Any) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list) and all(isinstance(p, list) and len(p) == 2 for p in value):
        pairs = [(p[0], p[1]) for p in value]
    else:
        raise ValueError("headers: an object or a list of [name, value] pairs")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in pairs):
        raise ValueError("headers: names and values are strings")
    return tuple(pairs)


def _string(record: dict[str, Any], key: str, default: str) -> str:
    value = record.get(key, default)
    if not isinstance(value, str):
        raise ValueError(f"{key}: a string")
    return value


def parse_request(record: Any) -> Request:
    if not isinstance(record, dict):
        raise ValueError("a JSON object per line")
    if "body_base64" in record:
        try:
            body = base64.b64decode(_string(record, "body_base64", ""), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("body_base64: not base64") from None
    else:
        body = _string(record, "body", "").encode("utf-8", "surrogatepass")
    return Request(
        _string(record, "method", "GET"),
        _string(record, "uri", "/"),
        _headers(record.get("headers")),
        body,
        _string(record, "client_ip", "127.0.0.1"),
    )


def judge_file(web_acl: WebAcl, path: Path) -> Iterator[Judged]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    with handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                yield Judged(number, "", None, f"{path}:{number}: not JSON: {exc}")
                continue
            ident = record.get("id", number) if isinstance(record, dict) else number
            ident = str(ident)
            try:
                request = parse_request(record)
            except ValueError as exc:
                yield Judged(number, ident, None, f"{path}:{number}: {exc}")
                continue
            yield Judged(number, ident, web_acl.evaluate(request))
