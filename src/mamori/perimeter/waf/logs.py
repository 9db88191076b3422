"""WAF logs in AWS WAF's own log record format, one JSON object a line.

The record has the fields AWS WAF writes for a Web ACL's traffic (timestamp, formatVersion,
webaclId, terminatingRuleId/Type, action, ruleGroupList, rateBasedRuleList,
nonTerminatingMatchingRules, requestHeadersInserted, responseCodeSent, httpRequest {clientIp,
country, headers[], uri, args, httpVersion, httpMethod, requestId}, labels), so that what reads
AWS's logs (`mamori detect`, Athena tables, SIEM parsers) reads these too. Header values are
kept as sent except the ones named for redaction, which read `REDACTED` as in AWS's logs when a
logging configuration redacts a field.

One `WafLogger` is shared by the middleware and the proxy. A file is opened in append mode and
each record is one `write` call, so several worker processes can append to the same file
without interleaving lines.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import orjson

from mamori.core import InputError
from mamori.perimeter.waf.compiler import Rule, Verdict, WebAcl
from mamori.perimeter.waf.request import Request

DEFAULT_REDACT = ("authorization", "proxy-authorization", "cookie")
REDACTED = "REDACTED"
ERROR_RULE = "Mamori_Internal_Error"  # terminatingRuleId when the engine failed (fail open/closed)
_COUNTRY_LABEL = "awswaf:clientip:geolocation:country:"
_LIMIT_KEYS = {"CUSTOM_KEYS": "CUSTOMKEYS"}  # AWS logs the aggregate key type without the "_"
# The interstitial stand-ins: AWS answers a request without a token with these codes.
CHALLENGE_CODES = {"CAPTCHA": 405, "CHALLENGE": 202}


def _country(labels: Iterable[str]) -> str:
    for label in labels:
        if label.startswith(_COUNTRY_LABEL):
            return label[len(_COUNTRY_LABEL) :]
    return "-"  # AWS's value when it cannot tell


def _split_uri(uri: str) -> tuple[str, str]:
    path, _, query = uri.split("#", 1)[0].partition("?")
    return path, query


def _rate_entry(rule: Rule, request: Request) -> dict[str, Any]:
    spec = rule.rate or {}
    key = str(spec.get("AggregateKeyType") or "IP")
    entry: dict[str, Any] = {
        "rateBasedRuleId": rule.name,
        "rateBasedRuleName": rule.name,
        "limitKey": _LIMIT_KEYS.get(key, key),
        "maxRateAllowed": int(spec.get("Limit") or 0),
        "evaluationWindowSec": str(spec.get("EvaluationWindowSec") or 300),
    }
    if key == "IP":
        entry["limitValue"] = request.client_ip
    elif key == "CUSTOM_KEYS":
        entry["customValues"] = []  # the key values are not kept by the counter
    return entry


def _group_entries(acl: WebAcl, verdict: Verdict) -> list[dict[str, Any]]:
    """One entry per rule group the request went through, as AWS lists them."""
    inner_counts: dict[str, list[str]] = {}
    for counted in verdict.non_terminating_matches:
        outer, sep, inner = counted.partition(":")
        if sep:
            inner_counts.setdefault(outer, []).append(inner)
    entries = []
    for rule in acl.rules:
        if rule.group is not None:
            terminated = rule.name == verdict.terminating_rule and verdict.rule_group_rule
            entries.append({
                "ruleGroupId": rule.group.id or rule.group.name,
                "terminatingRule": {
                    "ruleId": verdict.rule_group_rule, "action": verdict.action,
                    "ruleMatchDetails": None,
                } if terminated else None,
                "nonTerminatingMatchingRules": [
                    {"action": "COUNT", "ruleId": name, "ruleMatchDetails": []}
                    for name in inner_counts.get(rule.name, ())
                ],
                "excludedRules": None,
            })  # fmt: skip
        if rule.name == verdict.terminating_rule:
            break
    return entries


def log_record(
    acl: WebAcl,
    request: Request,
    verdict: Verdict,
    *,
    request_id: str,
    http_version: str = "HTTP/1.1",
    http_source_name: str = "-",
    http_source_id: str = "-",
    redact: Iterable[str] = DEFAULT_REDACT,
    timestamp_ms: int | None = None,
) -> dict[str, Any]:
    """The AWS WAF log record of one judged request."""
    index = {rule.name: rule for rule in acl.rules}
    top = index.get(verdict.terminating_rule)
    hidden = {name.lower() for name in redact}
    path, query = _split_uri(request.uri)
    rates = [
        _rate_entry(index[name], request)
        for name in (*verdict.non_terminating_matches, verdict.terminating_rule)
        if name in index and index[name].kind == "RATE_BASED"
    ]
    response = verdict.response
    inserted = response.insert_headers if response is not None else ()
    record: dict[str, Any] = {
        "timestamp": timestamp_ms if timestamp_ms is not None else int(time.time() * 1000),
        "formatVersion": 1,
        "webaclId": acl.arn or acl.name,
        "terminatingRuleId": verdict.terminating_rule,
        "terminatingRuleType": top.kind if top is not None else "REGULAR",
        "action": verdict.action,
        "terminatingRuleMatchDetails": [],
        "httpSourceName": http_source_name,
        "httpSourceId": http_source_id,
        "ruleGroupList": _group_entries(acl, verdict),
        "rateBasedRuleList": rates,
        "nonTerminatingMatchingRules": [
            {"ruleId": name, "action": "COUNT", "ruleMatchDetails": []}
            for name in verdict.non_terminating_matches
            if ":" not in name  # a rule group's own counts are in its ruleGroupList entry
        ],
        "requestHeadersInserted": [{"name": n, "value": v} for n, v in inserted] or None,
        "responseCodeSent": response.status if response is not None else None,
        "httpRequest": {
            "clientIp": request.client_ip,
            "country": _country(verdict.labels),
            "headers": [
                {"name": name, "value": REDACTED if name.lower() in hidden else value}
                for name, value in request.headers
            ],
            "uri": path,
            "args": query,
            "httpVersion": http_version,
            "httpMethod": request.method,
            "requestId": request_id,
        },
    }
    if verdict.action in CHALLENGE_CODES:
        key = "captchaResponse" if verdict.action == "CAPTCHA" else "challengeResponse"
        record[key] = {
            "responseCode": CHALLENGE_CODES[verdict.action],
            "failureReason": "TOKEN_MISSING",  # Mamori issues no tokens
        }
    if verdict.labels:  # AWS leaves the field out when no label was added
        record["labels"] = [{"name": label} for label in verdict.labels]
    return record


def _clean(value: Any) -> Any:
    """`value` with every string made valid UTF-8 (lone surrogates become U+FFFD)."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


class WafLogger:
    """Writes WAF log records as JSON lines to a file (appended) or a stream (stdout)."""

    def __init__(
        self,
        destination: Path | str | IO[str] | None = None,
        *,
        redact: Iterable[str] = DEFAULT_REDACT,
        http_source_name: str = "MAMORI",
        http_source_id: str = "-",
    ) -> None:
        self.redact = tuple(redact)
        self.http_source_name = http_source_name
        self.http_source_id = http_source_id
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._stream: IO[str] | None = None
        if destination is None or destination == "-":
            self._stream = sys.stdout
        elif isinstance(destination, str | Path):
            try:
                self._fd = os.open(destination, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            except OSError as exc:
                raise InputError(f"{destination}: cannot open the WAF log: {exc.strerror}") from exc
        else:
            self._stream = destination

    def log(
        self, acl: WebAcl, request: Request, verdict: Verdict, *, request_id: str, **http: Any
    ) -> dict[str, Any]:
        """Build and write one record; returns it."""
        record = log_record(
            acl, request, verdict, request_id=request_id, redact=self.redact,
            http_source_name=self.http_source_name, http_source_id=self.http_source_id, **http,
        )  # fmt: skip
        self.write(record)
        return record

    def write(self, record: dict[str, Any]) -> None:
        try:
            line = orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
        except TypeError:  # undecodable request bytes came through as lone surrogates
            line = orjson.dumps(_clean(record), option=orjson.OPT_APPEND_NEWLINE)
        if self._fd is not None:
            os.write(self._fd, line)  # one append: lines from several processes stay whole
            return
        assert self._stream is not None
        with self._lock:
            self._stream.write(line.decode())
            self._stream.flush()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
