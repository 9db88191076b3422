"""AWS WAF web ACL traffic logs (one JSON record a line, gzip or plain) -> the `waf` table.

Accepted as AWS delivers them: S3 (`AWSLogs/<account>/WAFLogs/<region>/<web-acl>/YYYY/MM/DD/
HH/mm/*.log.gz`), Firehose (the records one a line), CloudWatch Logs exports (each line
`<ISO time> <record>`) and CloudWatch Logs subscription payloads (`{"logEvents": [{"message":
<record>}...]}`). The account and region come from the record's web ACL ARN, else from the path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from mamori.detect.readers.common import (
    Problems,
    as_text,
    drop_rows,
    fit_int,
    inflate,
    tables_in_chunks,
    to_int,
)
from mamori.detect.schema import WAF

# Epoch milliseconds from 1970 up to the year 10000: outside that a time is not one.
_MAX_MS = 253_402_300_800_000


def _arn_parts(arn: str | None) -> tuple[str | None, str | None, str | None]:
    """(account, region, web ACL name) of `arn:aws:wafv2:<region>:<acct>:<scope>/webacl/<name>/
    <id>`; Nones for what is not such an ARN."""
    if not arn or not arn.startswith("arn:"):
        return None, None, None
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return None, None, None
    path = parts[5].split("/")
    name = path[2] if len(path) >= 3 and path[1] == "webacl" else None
    return parts[4] or None, parts[3] or None, name


def _headers(value: object) -> dict[str, str]:
    """The headers WAF logs as [{name, value}], by lower-cased name (the first one wins, as a
    server reads a repeated Host)."""
    found: dict[str, str] = {}
    if not isinstance(value, list):
        return found
    for header in value:
        if not isinstance(header, dict):
            continue
        name, text = as_text(header.get("name")), as_text(header.get("value"))
        if name is not None and text is not None:
            found.setdefault(name.lower(), text)
    return found


def _host(value: str | None) -> str | None:
    if value is None:
        return None
    host = value.strip().lower()
    if host.startswith("["):  # [IPv6]:port
        return host.partition("]")[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _names(value: object, key: str) -> list[str]:
    if not isinstance(value, list):
        return []
    out = []
    for item in value:
        name = as_text(item.get(key)) if isinstance(item, dict) else None
        if name is not None:
            out.append(name)
    return out


def _counted(record: dict[str, Any]) -> list[str]:
    """Every rule that matched and only counted, top-level and inside rule groups."""
    out = []
    top = record.get("nonTerminatingMatchingRules")
    for rule in top if isinstance(top, list) else ():
        if isinstance(rule, dict) and rule.get("action") == "COUNT":
            out.append(as_text(rule.get("ruleId")) or "")
    groups = record.get("ruleGroupList")
    for group in groups if isinstance(groups, list) else ():
        if not isinstance(group, dict):
            continue
        prefix = as_text(group.get("ruleGroupId")) or ""
        inner = group.get("nonTerminatingMatchingRules")
        for rule in inner if isinstance(inner, list) else ():
            if isinstance(rule, dict) and rule.get("action") == "COUNT":
                out.append(f"{prefix}/{as_text(rule.get('ruleId')) or ''}")
        out.extend(f"{prefix}/{rule}" for rule in _names(group.get("excludedRules"), "ruleId"))
    return out


def _time_us(value: object) -> int | None:
    ms = to_int(value)
    return ms * 1000 if ms is not None and 0 <= ms < _MAX_MS else None


def _row(
    record: dict[str, Any], line: str, source_file: str, account: str | None, region: str | None
) -> tuple[object, ...]:
    get = record.get
    acl_id = as_text(get("webaclId"))
    arn_account, arn_region, acl_name = _arn_parts(acl_id)
    request = get("httpRequest")
    req: dict[str, Any] = request if isinstance(request, dict) else {}
    headers = _headers(req.get("headers"))
    uri = as_text(req.get("uri"))
    return (
        _time_us(get("timestamp")),
        arn_account or account,
        arn_region or region,
        # A bare name where an ARN belongs (Mamori's own WAF writes one for an ACL without an ARN).
        acl_name or (acl_id if acl_id and not acl_id.startswith("arn:") else None),
        acl_id,
        as_text(get("httpSourceName")),
        as_text(get("httpSourceId")),
        as_text(get("action")),
        as_text(get("terminatingRuleId")),
        as_text(get("terminatingRuleType")),
        as_text(req.get("clientIp")),
        as_text(req.get("country")),
        as_text(req.get("httpMethod")),
        _host(headers.get("host")),
        uri.partition("?")[0] if uri is not None else None,
        as_text(req.get("args")),
        as_text(req.get("httpVersion")),
        headers.get("user-agent"),
        headers.get("referer"),
        _names(get("labels"), "name"),
        _counted(record),
        to_int(get("responseCodeSent")),
        as_text(req.get("requestId")),
        as_text(get("ja3Fingerprint")),
        source_file,
        line,
    )


def _table(rows: list[tuple[object, ...]], problems: Problems) -> pa.Table:
    names = WAF.columns
    columns = dict(zip(names, zip(*rows, strict=True), strict=True))
    arrays = []
    for f in WAF.schema:
        values = list(columns[f.name])
        if f.name == "response_code":
            arrays.append(fit_int(values, f.type))
        else:
            arrays.append(pa.array(values, f.type))
    table = pa.Table.from_arrays(arrays, schema=WAF.schema)
    bad = pc.is_null(table["request_time"]).combine_chunks()
    return drop_rows(table, bad, problems, "missing or invalid timestamp")


def _records(line: bytes, problems: Problems) -> list[tuple[dict[str, Any], str]]:
    """The WAF records of one line, with each one's text for `raw`."""
    text = line.strip()
    if text and not text.startswith(b"{"):
        # A CloudWatch Logs export line: "<ISO time> <record>".
        head, _, rest = text.partition(b" ")
        if head[:1].isdigit() and rest.startswith(b"{"):
            text = rest
    try:
        entry = orjson.loads(text)
    except orjson.JSONDecodeError:
        problems.add("line is not valid JSON")
        return []
    if not isinstance(entry, dict):
        problems.add("line is not a JSON object")
        return []
    events = entry.get("logEvents")
    if isinstance(events, list) and "timestamp" not in entry:
        # A CloudWatch Logs subscription payload: each event's message is one record.
        found = []
        for event in events:
            message = event.get("message") if isinstance(event, dict) else None
            if isinstance(message, str):
                found.extend(_records(message.encode(), problems))
            else:
                problems.add("log event without a message")
        return found
    return [(entry, text.decode("utf-8"))]


def read_waf(
    data: bytes,
    source_file: str,
    *,
    account: str | None = None,
    region: str | None = None,
    chunk_rows: int = 100_000,
    problems: Problems | None = None,
) -> Iterator[pa.Table]:
    """One WAF log file's bytes -> `waf` tables of at most chunk_rows rows each.

    `account` and `region` (the delivery path's) stand in where a record's web ACL ARN gives
    none. A line that is not a JSON object (a truncated last line, say) or a record without a
    valid time is skipped and counted in `problems`; a corrupt gzip is a ReadError."""
    found = problems if problems is not None else Problems()
    text = inflate(data, source_file)
    rows = (
        _row(record, line, source_file, account, region)
        for raw_line in text.splitlines()
        if raw_line.strip()
        for record, line in _records(raw_line, found)
    )
    yield from tables_in_chunks(rows, chunk_rows, lambda chunk: _table(chunk, found))
