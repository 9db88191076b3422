"""Log readers: CloudTrail, VPC Flow Logs, Route 53 Resolver query logs and AWS WAF logs -> the
typed Arrow tables of `mamori.detect.schema`, and the listing of log files in their delivery
layouts."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pyarrow as pa

from mamori.detect.readers.cloudtrail import read_cloudtrail
from mamori.detect.readers.common import Problems, ReadError
from mamori.detect.readers.dns import read_dns
from mamori.detect.readers.flows import read_flows
from mamori.detect.readers.sources import KINDS, InputFile, list_files, path_facts, read_bytes
from mamori.detect.readers.waf import read_waf

# Which table each kind of log fills.
TABLE_OF = {"cloudtrail": "events", "vpc-flow": "flows", "dns": "dns", "waf": "waf"}

_Reader = Callable[[bytes, InputFile, int, Problems], Iterator[pa.Table]]

_READERS: dict[str, _Reader] = {
    "cloudtrail": lambda data, item, rows, problems: read_cloudtrail(
        data, item.uri, chunk_rows=rows, problems=problems
    ),
    "vpc-flow": lambda data, item, rows, problems: read_flows(
        data,
        item.uri,
        account=item.account,
        region=item.region,
        chunk_rows=rows,
        problems=problems,
    ),
    "dns": lambda data, item, rows, problems: read_dns(
        data, item.uri, chunk_rows=rows, problems=problems
    ),
    "waf": lambda data, item, rows, problems: read_waf(
        data,
        item.uri,
        account=item.account,
        region=item.region,
        chunk_rows=rows,
        problems=problems,
    ),
}


def read_file(
    kind: str, data: bytes, item: InputFile, *, chunk_rows: int, problems: Problems
) -> Iterator[pa.Table]:
    """One file's bytes -> chunks of its kind's table (ReadError if the file is unreadable)."""
    return _READERS[kind](data, item, chunk_rows, problems)


__all__ = [
    "KINDS",
    "TABLE_OF",
    "InputFile",
    "Problems",
    "ReadError",
    "list_files",
    "path_facts",
    "read_bytes",
    "read_cloudtrail",
    "read_dns",
    "read_file",
    "read_flows",
    "read_waf",
]
