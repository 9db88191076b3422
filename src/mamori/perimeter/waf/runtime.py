"""What the middleware and the proxy share: judge one request, decide what to answer, log it.

The inspection runs in the caller's thread, in the request path: a Web ACL evaluation costs
about 0.1 ms, less than a hop to a thread pool would. An exception inside the engine never
escapes: the request then fails closed (403) or open (passed on) as configured, and the error
is logged both to Python's logging and as a WAF log record whose terminating rule is
`Mamori_Internal_Error`.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Literal

from mamori.perimeter.waf.compiler import Rule, Verdict, WebAcl
from mamori.perimeter.waf.logs import CHALLENGE_CODES, ERROR_RULE, WafLogger
from mamori.perimeter.waf.request import Request, parse_ip

if TYPE_CHECKING:
    from mamori.perimeter.waf.ratestore import RedisRateStore

_log = logging.getLogger("mamori.waf")
_CONTENT_TYPES = {
    "TEXT_PLAIN": "text/plain; charset=utf-8",
    "TEXT_HTML": "text/html; charset=utf-8",
    "APPLICATION_JSON": "application/json",
}
_STAND_IN = {
    "CAPTCHA": b"CAPTCHA required: this server issues no CAPTCHA tokens.\n",
    "CHALLENGE": b"Challenge required: this server issues no challenge tokens.\n",
}
Position = Literal["FIRST", "LAST"]


@dataclass(frozen=True, slots=True)
class Reply:
    """The answer the WAF sends instead of the application's."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def status_line(self) -> str:
        try:
            return f"{self.status} {HTTPStatus(self.status).phrase}"
        except ValueError:  # a custom response code Python has no phrase for
            return f"{self.status} WAF"


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    request_id: str
    reply: Reply | None  # None: the request goes on to the application
    insert_headers: tuple[tuple[str, str], ...] = ()  # Allow/Count custom request handling


def decode(raw: bytes) -> str:
    """Wire bytes as the engine's text: valid UTF-8 round-trips, other bytes never raise."""
    return raw.decode("utf-8", "surrogateescape")


def _can_block(rules: Iterable[Rule]) -> bool:
    for rule in rules:
        if rule.group is not None and _can_block(rule.group.rules):
            return True
        if rule.action is not None and rule.action.kind not in ("COUNT", "ALLOW"):
            return True
    return False


def reply_for(verdict: Verdict) -> Reply | None:
    """Block: the rule's custom response or 403. Captcha/Challenge: AWS's answer to a request
    without a token (405 / 202 with `x-amzn-waf-action`), which is every request here."""
    if verdict.action == "BLOCK":
        action = verdict.response
        if action is None or action.status is None:
            return Reply(403, (("content-type", "text/plain; charset=utf-8"),), b"Forbidden\n")
        headers = list(action.response_headers)
        body = (action.body or "").encode("utf-8")
        if action.content_type:
            headers.append(("content-type", _CONTENT_TYPES.get(action.content_type, "text/plain")))
        return Reply(action.status, tuple(headers), body)
    if verdict.action in CHALLENGE_CODES:
        marker = (
            ("x-amzn-waf-action", verdict.action.lower()),
            ("content-type", "text/plain; charset=utf-8"),
        )
        return Reply(CHALLENGE_CODES[verdict.action], marker, _STAND_IN[verdict.action])
    return None


class Guard:
    """A Web ACL in the request path: `judge` a request, get the decision (logged)."""

    def __init__(
        self,
        web_acl: WebAcl,
        *,
        logger: WafLogger | None = None,
        fail_open: bool | None = None,
        body_limit: int | None = None,
        forwarded_ip_header: str | None = None,
        forwarded_ip_position: Position = "FIRST",
        rate_store: RedisRateStore | str | None = None,
    ) -> None:
        if body_limit is not None:
            if body_limit < 0:
                raise ValueError("body_limit must be >= 0")
            # the copy shares the compiled rules; only its inspection limit differs
            web_acl = dataclasses.replace(web_acl, body_limit=body_limit)
        self.acl = web_acl
        self.logger = logger
        can_block = _can_block(web_acl.rules) or web_acl.default.kind == "BLOCK"
        # Default: a Web ACL that can block fails closed; one that only counts fails open.
        self.fail_open = (not can_block) if fail_open is None else fail_open
        self.read_limit = web_acl.body_limit + 1  # one byte more tells the engine "oversize"
        self.forwarded_header = forwarded_ip_header.lower() if forwarded_ip_header else None
        self.forwarded_position = forwarded_ip_position
        # Shared rate limits: the Web ACL's rate-based rules count in Redis from now on. A store
        # error inside `evaluate` is an engine error like any other: the fail mode answers.
        self.rate_store: RedisRateStore | None = None
        if rate_store is not None:
            from mamori.perimeter.waf.ratestore import use_rate_store

            self.rate_store = use_rate_store(web_acl, rate_store)

    def client_ip(self, peer: str | None, headers: Iterable[tuple[str, str]]) -> str:
        """The connection's address, or the forwarded-IP header's when one is configured and
        holds a valid address (AWS's ForwardedIPConfig, applied to the whole request)."""
        if self.forwarded_header is not None:
            for name, value in headers:
                if name.lower() == self.forwarded_header:
                    parts = [p.strip() for p in value.split(",")]
                    chosen = parts[0] if self.forwarded_position == "FIRST" else parts[-1]
                    if parse_ip(chosen) is not None:
                        return chosen.strip("[]")
                    break
        return peer or "0.0.0.0"

    def judge(self, request: Request, http_version: str = "HTTP/1.1") -> Decision:
        request_id = secrets.token_urlsafe(12)
        try:
            verdict = self.acl.evaluate(request)
        except Exception:  # noqa: BLE001 - whatever failed, the configured fail mode answers
            mode = "open" if self.fail_open else "closed"
            _log.exception(
                "WAF %s: evaluating request %s failed; failing %s", self.acl.name, request_id, mode
            )
            verdict = Verdict("ALLOW" if self.fail_open else "BLOCK", ERROR_RULE, (), ())
        if self.logger is not None:
            try:
                self.logger.log(
                    self.acl, request, verdict, request_id=request_id, http_version=http_version
                )
            except Exception:  # noqa: BLE001 - a log write failing must not fail the request
                _log.exception("WAF %s: writing the log record failed", self.acl.name)
        inserted: tuple[tuple[str, str], ...] = ()
        if verdict.action == "ALLOW" and verdict.response is not None:
            inserted = verdict.response.insert_headers
        return Decision(verdict, request_id, reply_for(verdict), inserted)
