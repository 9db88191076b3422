"""Webhook action against a real HTTP receiver on 127.0.0.1: Slack, Teams and JSON payloads,
hostile finding text kept inert, retries on 5xx, timeouts, and the URL's secret never shown."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from mamori.core import Finding, InputError, Remediation
from mamori.hub import Store
from mamori.hub.automation.actions import ActionContext, RunResources
from mamori.hub.automation.webhook import WebhookError, WebhookParams, post_json, webhook
from tests.hub.automation.receiver import receiver
from tests.hub.builders import posture

HOSTILE = posture("evil").model_copy(
    update={
        "title": "<script>alert(1)</script> <!channel> *bold* [x](https://evil.example) & co",
        "description": "user agent <img src=x onerror=alert(1)> _it_ **b** <@U123>",
        "remediation": Remediation(text="Turn on <b>Block</b> Public Access"),
    }
)
SECRET = "s3cr3t"


@pytest.fixture
def memory_store() -> Iterator[Store]:
    store = Store.open("sqlite://")
    yield store
    store.close()


def _ctx(store: Store, env: dict[str, str] | None = None, dry_run: bool = False) -> ActionContext:
    return ActionContext("notify-1", dry_run, RunResources(store, env=env or {}))


def _send(store: Store, url: str, fmt: str = "slack", finding: Finding = HOSTILE, **kw: Any) -> Any:
    params = WebhookParams(type="webhook", format=fmt, url=url, **kw)  # type: ignore[arg-type]
    return webhook(finding, params, _ctx(store))


def _texts(node: Any) -> Iterator[tuple[dict[str, Any], str]]:
    """Every (object, text) pair of a JSON payload."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("text", "title", "summary", "value") and isinstance(value, str):
                yield node, value
            yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def test_slack_payload_is_block_kit_with_inert_text(memory_store: Store) -> None:
    with receiver() as rx:
        outcome = _send(memory_store, rx.url, "slack")
    assert outcome.status == "done", outcome
    (payload,) = rx.payloads()
    assert rx.requests[0].headers["Content-Type"] == "application/json"
    assert [b["type"] for b in payload["blocks"]] == [
        "header", "section", "section", "section", "context",
    ]  # fmt: skip
    header = payload["blocks"][0]["text"]
    assert header["type"] == "plain_text" and len(header["text"]) <= 150
    fields = [f["text"] for f in payload["blocks"][1]["fields"]]
    assert "Severity: HIGH" in fields and "Account: 111111111111" in fields
    for obj, text in _texts(payload):
        # Slack's control characters are escaped everywhere, and no text object is mrkdwn.
        assert "<" not in text and ">" not in text, text
        assert obj.get("type", "plain_text") == "plain_text"
    assert "&lt;!channel&gt;" in payload["text"]
    assert "&amp; co" in payload["text"]


def test_teams_payload_is_an_adaptive_card_of_text_runs(memory_store: Store) -> None:
    with receiver() as rx:
        assert _send(memory_store, rx.url, "teams").status == "done"
    (payload,) = rx.payloads()
    assert payload["type"] == "message"
    (attachment,) = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    # TextRuns never interpret Markdown; a TextBlock would.
    assert {e["type"] for e in card["body"]} == {"RichTextBlock"}
    runs = [run for block in card["body"] for run in block["inlines"]]
    assert all(run["type"] == "TextRun" for run in runs)
    assert HOSTILE.title in [run["text"] for run in runs]


def test_teams_messagecard_turns_markdown_off_and_escapes_html(memory_store: Store) -> None:
    with receiver() as rx:
        assert _send(memory_store, rx.url, "teams_messagecard").status == "done"
    (payload,) = rx.payloads()
    assert payload["@type"] == "MessageCard"
    assert all(section["markdown"] is False for section in payload["sections"])
    for _, text in _texts(payload):
        assert "<" not in text, text
    assert payload["title"].startswith("&lt;script&gt;")


def test_json_payload_carries_the_asff_finding(memory_store: Store) -> None:
    with receiver() as rx:
        assert _send(memory_store, rx.url, "json").status == "done"
    (payload,) = rx.payloads()
    assert payload["rule"] == "notify-1"
    assert payload["finding"]["Id"] == HOSTILE.id
    assert payload["finding"]["Title"] == HOSTILE.title  # data, for a receiver to escape


def test_retries_server_errors_then_succeeds() -> None:
    with receiver([500, 503, 200]) as rx:
        assert post_json(rx.url, {"a": 1}, retries=3, backoff=0.01) == 200
    assert len(rx.requests) == 3


def test_gives_up_after_its_retries_without_showing_the_secret() -> None:
    with receiver([500]) as rx, pytest.raises(WebhookError) as caught:
        post_json(rx.url, {"a": 1}, retries=2, backoff=0.01)
    assert len(rx.requests) == 3
    assert "HTTP 500" in str(caught.value) and "3 attempt" in str(caught.value)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize("status", [400, 403, 404, 302])
def test_client_errors_and_redirects_are_not_retried(status: int) -> None:
    with receiver([status]) as rx, pytest.raises(WebhookError, match=f"HTTP {status}"):
        post_json(rx.url, {"a": 1}, retries=3, backoff=0.01)
    assert len(rx.requests) == 1


def test_a_stalled_receiver_times_out() -> None:
    with receiver(["stall"]) as rx:
        started = time.monotonic()
        with pytest.raises(WebhookError, match=r"timed out|Timeout"):
            post_json(rx.url, {"a": 1}, timeout=0.3, retries=1, backoff=0.01)
        assert time.monotonic() - started < 2.5
    assert len(rx.requests) == 2


def test_unreachable_receiver_fails_cleanly() -> None:
    with receiver() as rx:
        url = rx.url
    with pytest.raises(WebhookError, match="Connection"):
        post_json(url, {"a": 1}, retries=0)


def test_url_from_the_environment_and_no_secret_anywhere(
    memory_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with receiver([500, 200]) as rx:
        params = WebhookParams(type="webhook", url_env="TEAM_HOOK", retries=1)
        outcome = webhook(HOSTILE, params, _ctx(memory_store, {"TEAM_HOOK": rx.url}))
    assert outcome.status == "done" and len(rx.requests) == 2
    assert rx.requests[0].path.endswith(SECRET)  # the receiver got the whole URL...
    assert SECRET not in outcome.detail  # ...nothing else shows it
    assert outcome.detail.endswith("/… (HTTP 200)")
    assert SECRET not in caplog.text


def test_missing_or_unsafe_urls_fail_without_a_request(memory_store: Store) -> None:
    params = WebhookParams(type="webhook", url_env="NOT_SET")
    outcome = webhook(HOSTILE, params, _ctx(memory_store, {}))
    assert outcome.status == "failed" and "NOT_SET is not set" in (outcome.error or "")
    params = WebhookParams(type="webhook", url_env="HOOK")
    outcome = webhook(HOSTILE, params, _ctx(memory_store, {"HOOK": "file:///etc/passwd"}))
    assert outcome.status == "failed" and "only http" in (outcome.error or "")
    assert "passwd" not in (outcome.error or "")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "https://", "x"])
def test_rule_files_refuse_non_http_urls(url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        WebhookParams(type="webhook", url=url)


def test_dry_run_sends_nothing(memory_store: Store) -> None:
    with receiver() as rx:
        params = WebhookParams(type="webhook", url=rx.url)
        outcome = webhook(HOSTILE, params, _ctx(memory_store, dry_run=True))
    assert outcome.status == "planned" and outcome.detail.startswith("would POST a slack message")
    assert rx.requests == []


def test_check_url_never_echoes_the_input() -> None:
    from mamori.hub.automation.webhook import check_url

    with pytest.raises(InputError) as caught:
        check_url("gopher://host/" + SECRET, "url")
    assert SECRET not in str(caught.value)
