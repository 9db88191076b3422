"""The `webhook` action: a finding POSTed as a Slack, Microsoft Teams or plain JSON message.

Payloads:
- `slack`: an incoming-webhook message with Block Kit blocks (header, fields, description).
- `teams`: a message with one Adaptive Card attachment, what Teams workflows ("post to a
  channel when a webhook request is received") and bots accept.
- `teams_messagecard`: the legacy Office 365 connector MessageCard.
- `json`: `{"rule": ..., "finding": <ASFF>}` for any other receiver.

Finding text comes partly from logs and from outside (user agents, report titles), so it is
placed where the chat format does not interpret it: Slack plain_text objects with &, < and >
escaped (Slack's control characters, so no mention or link can be forged), Adaptive Card
TextRuns (never Markdown), MessageCard sections with Markdown off and HTML escaped.

The URL is a secret (Slack's and Teams' carry their token in the path): it comes from the rule
or, better, from an environment variable the rule names, and is never written out whole: every
message, error and audit record shows only its scheme and host. The POST goes through the
standard library, which logs nothing (urllib3 and httpx log request URLs). Redirects are not
followed; connection failures, timeouts, 429 and 5xx answers are retried with backoff.
"""

from __future__ import annotations

import html
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field, model_validator

from mamori.core import Finding, InputError, SeverityLabel
from mamori.exports.asff import to_asff
from mamori.hub.automation.actions import (
    ActionContext,
    ActionParams,
    Outcome,
    action,
    done,
    failed,
    planned,
)

Format = Literal["slack", "teams", "teams_messagecard", "json"]
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_MAX_RETRY_AFTER_S = 30.0
_MAX_BACKOFF_S = 8.0
_BODY_SNIPPET = 200
# Slack's documented limits for the blocks used.
_SLACK_HEADER = 150
_SLACK_TEXT = 3000
_SLACK_FIELD = 2000
_USER_AGENT = "mamori-automation"


class WebhookError(Exception):
    """A POST that did not succeed after its retries; the text never holds the URL's secret."""


class WebhookParams(ActionParams):
    type: Literal["webhook"]
    format: Format = "slack"
    url: str | None = None  # prefer url_env: a webhook URL is a secret
    url_env: str | None = Field(default=None, pattern=_ENV_NAME)
    timeout: float = Field(default=10.0, gt=0, le=60)
    retries: int = Field(default=3, ge=0, le=5)

    @model_validator(mode="after")
    def _one_url(self) -> WebhookParams:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url and url_env")
        if self.url is not None:
            try:
                check_url(self.url, "url")
            except InputError as exc:
                raise ValueError(str(exc).removeprefix("url: ")) from None
        return self


def check_url(url: str, source: str) -> str:
    """An http(s) URL with a host; InputError naming `source`, never echoing the URL."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
    except ValueError:
        raise InputError(f"{source}: not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{source}: only http:// and https:// URLs with a host are allowed")
    return url.strip()


def redact(url: str) -> str:
    """Scheme and host only: Slack and Teams webhook URLs carry their token in the path."""
    parts = urllib.parse.urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}/…"


# -- payloads -----------------------------------------------------------------------------------


def _status(f: Finding) -> str:
    return f.status.value if f.status else "-"


def _facts(f: Finding) -> list[tuple[str, str]]:
    res = f.resource
    return [
        ("Severity", f.severity.label.value),
        ("Status", _status(f)),
        ("Workflow", f.workflow.status.value),
        ("Account", f.account_id),
        ("Region", f.region),
        ("Check", f.generator_id),
        ("Resource", f"{res.type} {res.id}"),
    ]


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _slack_text(text: str, limit: int) -> dict[str, Any]:
    # Escape first, then cut: an entity is never split, and the limit holds for what is sent.
    escaped = _slack_escape(text)
    if len(escaped) > limit:
        escaped = re.sub(r"&[a-z]*$", "", escaped[: limit - 1]) + "…"
    return {"type": "plain_text", "text": escaped or "-", "emoji": False}


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(f: Finding, rule_id: str) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _slack_text(f.title, _SLACK_HEADER)},
        {
            "type": "section",
            "fields": [_slack_text(f"{k}: {v}", _SLACK_FIELD) for k, v in _facts(f)],
        },
    ]
    if f.description.strip():
        blocks.append({"type": "section", "text": _slack_text(f.description, _SLACK_TEXT)})
    if f.remediation.text.strip():
        blocks.append(
            {
                "type": "section",
                "text": _slack_text(f"Remediation: {f.remediation.text}", _SLACK_TEXT),
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [_slack_text(f"Mamori rule {rule_id} · finding {f.id}", _SLACK_FIELD)],
        }
    )
    fallback = f"[{f.severity.label.value}] {f.title} ({f.account_id} {f.region})"
    return {"text": _slack_escape(_fit(fallback, _SLACK_TEXT)), "blocks": blocks}


_ATTENTION = {SeverityLabel.CRITICAL, SeverityLabel.HIGH}


def _run(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextRun", "text": text, **style}


def teams_payload(f: Finding, rule_id: str) -> dict[str, Any]:
    """An Adaptive Card whose every piece of finding text is a TextRun (never Markdown)."""
    color = "Attention" if f.severity.label in _ATTENTION else "Warning"
    body: list[dict[str, Any]] = [
        {
            "type": "RichTextBlock",
            "inlines": [_run(f.title, weight="Bolder", size="Medium")],
        },
        *(
            {
                "type": "RichTextBlock",
                "inlines": [
                    _run(f"{label}: ", weight="Bolder"),
                    _run(value, color=color if label == "Severity" else "Default"),
                ],
            }
            for label, value in _facts(f)
        ),
    ]
    if f.description.strip():
        body.append({"type": "RichTextBlock", "inlines": [_run(f.description)]})
    if f.remediation.text.strip():
        body.append(
            {
                "type": "RichTextBlock",
                "inlines": [_run("Remediation: ", weight="Bolder"), _run(f.remediation.text)],
            }
        )
    body.append(
        {
            "type": "RichTextBlock",
            "inlines": [_run(f"Mamori rule {rule_id} · finding {f.id}", isSubtle=True)],
        }
    )
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def messagecard_payload(f: Finding, rule_id: str) -> dict[str, Any]:
    """The legacy connector card: Markdown off in every section, HTML escaped."""
    esc = html.escape
    color = "D13438" if f.severity.label in _ATTENTION else "FFB900"
    section: dict[str, Any] = {
        "markdown": False,
        "facts": [{"name": k, "value": esc(v)} for k, v in _facts(f)],
    }
    if f.description.strip():
        section["text"] = esc(f.description)
    sections = [section]
    if f.remediation.text.strip():
        sections.append({"markdown": False, "text": esc(f"Remediation: {f.remediation.text}")})
    sections.append({"markdown": False, "text": esc(f"Mamori rule {rule_id} · finding {f.id}")})
    return {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": esc(_fit(f.title, 200)),
        "themeColor": color,
        "title": esc(f.title),
        "sections": sections,
    }


def json_payload(f: Finding, rule_id: str) -> dict[str, Any]:
    return {"source": "mamori", "rule": rule_id, "finding": to_asff(f)}


PAYLOADS: dict[str, Callable[[Finding, str], dict[str, Any]]] = {
    "slack": slack_payload,
    "teams": teams_payload,
    "teams_messagecard": messagecard_payload,
    "json": json_payload,
}


# -- sending ------------------------------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirected webhook would turn the POST into a GET elsewhere: report it, don't follow.
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects())


def post_json(
    url: str,
    payload: dict[str, Any],
    *,
    timeout: float = 10.0,
    retries: int = 3,
    backoff: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """POST `payload` as JSON; the HTTP status of the accepted answer. WebhookError after the
    retries, naming only the URL's scheme and host."""
    target = check_url(url, "webhook URL")
    body = json.dumps(payload, ensure_ascii=False).encode()
    where = redact(target)
    last = ""
    for attempt in range(retries + 1):
        wait = min(backoff * 2**attempt, _MAX_BACKOFF_S)
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
            target,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": _USER_AGENT},
        )
        try:
            with _OPENER.open(request, timeout=timeout) as answer:
                answer.read(65536)
                return int(answer.status)
        except urllib.error.HTTPError as exc:
            snippet = exc.read(_BODY_SNIPPET).decode("utf-8", "replace").strip()
            last = f"HTTP {exc.code}" + (f": {snippet}" if snippet else "")
            if exc.code not in _RETRY_STATUS:
                raise WebhookError(f"{where} answered {last}") from None
            wait = max(wait, _retry_after(exc.headers.get("Retry-After")))
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            last = f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__
        if attempt < retries:
            sleep(wait)
    raise WebhookError(f"{where}: {last} (after {retries + 1} attempt(s))")


def _retry_after(value: str | None) -> float:
    try:
        seconds = float(value) if value else 0.0
    except ValueError:
        return 0.0
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER_S)


@action(
    "webhook",
    WebhookParams,
    summary="POST the finding to a Slack, Teams or JSON webhook.",
)
def webhook(finding: Finding, params: WebhookParams, ctx: ActionContext) -> Outcome:
    if params.url_env is not None:
        raw = ctx.run.env.get(params.url_env, "").strip()
        if not raw:
            return failed("no URL", f"environment variable {params.url_env} is not set")
        source = f"environment variable {params.url_env}"
    else:
        raw, source = params.url or "", "url"
    try:
        url = check_url(raw, source)
    except InputError as exc:
        return failed("no usable URL", str(exc))
    payload = PAYLOADS[params.format](finding, ctx.rule_id)
    what = f"{params.format} message to {redact(url)}"
    if ctx.dry_run:
        return planned(f"would POST a {what}")
    try:
        status = post_json(url, payload, timeout=params.timeout, retries=params.retries)
    except WebhookError as exc:
        return failed(f"POST a {what}", str(exc))
    return done(f"POSTed a {what} (HTTP {status})")
