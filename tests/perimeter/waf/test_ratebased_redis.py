"""Rate-based rules counted in a real Redis server (started here on a loopback port): several
workers share one limit, the window expires, hostile key values never become key names, and an
unreachable Redis is answered by the fail mode."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from typer.testing import CliRunner

from mamori.cli.main import app as cli
from mamori.perimeter.waf import WafMiddleware, WebAcl, build_web_acl, collect_resources
from mamori.perimeter.waf.model import parse_document
from mamori.perimeter.waf.proxy import ProxyConfig, build_app
from mamori.perimeter.waf.ratestore import RateStoreError, RedisRateStore, use_rate_store
from tests.perimeter.waf.builders import blocked, byte_match, field, req, rule, web_acl_doc

PEER = ("192.0.2.50", 50000)  # TestClient's default peer, "testclient", is no IP: never counted
KEY_NAME = re.compile(r"mamori:waf:rate:[0-9a-f]{16}:[0-9a-f]{32}")


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return int(sock.getsockname()[1])


@contextmanager
def _redis_server(directory: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("redis-server is not installed: CI must run the shared rate-limit tests")
        pytest.skip("redis-server is not installed (Debian package redis-server)")
    port = _free_port()
    cmd = [
        binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
        "--save", "", "--appendonly", "no", "--protected-mode", "yes",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert proc.poll() is None, proc.stderr.read().decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        client.close()
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _redis_server(tmp_path_factory.mktemp("redis")) as (url, _):
        yield url


def _rate_doc(limit: int = 10, window: int = 60, **rate: Any) -> dict[str, Any]:
    stmt = {
        "RateBasedStatement": {
            "Limit": limit,
            "EvaluationWindowSec": window,
            "AggregateKeyType": "IP",
            **rate,
        }
    }
    doc = web_acl_doc(rule("rate", 1, stmt))
    doc["WebACL"]["Name"] = f"acl-{uuid.uuid4().hex[:12]}"  # tests never share counters
    return doc


def _worker(doc: dict[str, Any], store: RedisRateStore | str) -> WebAcl:
    """What one worker process does: compile the Web ACL, count in the shared store."""
    acl = build_web_acl(parse_document(doc, "webacl.json"), collect_resources([]))
    use_rate_store(acl, store)
    return acl


def test_two_workers_share_one_limit(redis_url: str) -> None:
    doc = _rate_doc(limit=10)
    first, second = _worker(doc, redis_url), _worker(doc, redis_url)
    results = [
        blocked((first if i % 2 else second).evaluate(req(ip="192.0.2.1"))) for i in range(12)
    ]
    # each worker saw 6 requests, under the limit on its own: only the shared count blocks
    assert results == [False] * 10 + [True] * 2
    assert not blocked(first.evaluate(req(ip="192.0.2.2")))  # another key
    other = _worker(_rate_doc(limit=10), redis_url)  # another Web ACL: its own counters
    assert not blocked(other.evaluate(req(ip="192.0.2.1")))


def test_window_expires_with_the_injected_clock(redis_url: str) -> None:
    now = [1_000_000.0]
    store = RedisRateStore(redis_url, clock=lambda: now[0])
    acl = _worker(_rate_doc(limit=10, window=60), store)
    assert [blocked(acl.evaluate(req())) for _ in range(11)] == [False] * 10 + [True]
    now[0] += 30
    assert blocked(acl.evaluate(req()))  # still inside the 60 s window
    now[0] += 31  # the first eleven are out of the window now, the twelfth is not
    assert [blocked(acl.evaluate(req())) for _ in range(10)] == [False] * 9 + [True]
    now[0] += 61
    assert not blocked(acl.evaluate(req()))


def test_long_windows_use_ten_second_buckets_and_keys_expire(redis_url: str) -> None:
    now = [2_000_000.0]
    store = RedisRateStore(redis_url, clock=lambda: now[0])
    acl = _worker(_rate_doc(limit=10, window=600), store)
    for i in range(11):
        verdict = acl.evaluate(req(ip="192.0.2.9"))
        now[0] += 100 if i % 4 == 3 else 0  # 4, 4 and 3 requests 100 s apart
    assert blocked(verdict)
    now[0] += 100
    client = redis.Redis.from_url(redis_url)
    (name,) = [k for k in client.scan_iter("mamori:waf:rate:*") if client.hlen(k) == 3]
    assert sorted(int(b) for b in client.hkeys(name)) == [200_000, 200_010, 200_020]
    assert 600 < client.ttl(name) <= 610  # an idle key disappears one bucket after the window
    now[0] += 600
    assert not blocked(acl.evaluate(req(ip="192.0.2.9")))
    assert client.hlen(name) == 1  # the stale buckets were deleted
    client.close()


HOSTILE = [
    "*", "mamori:waf:rate:*", "a" * 100_000, "\r\nFLUSHALL\r\n", "key with spaces",
    "\x00\x01\xff", "😀" * 50, "{hashtag}", "",
]  # fmt: skip


def test_hostile_key_values_are_hashed_into_fixed_length_names(redis_url: str) -> None:
    doc = _rate_doc(limit=10, AggregateKeyType="CUSTOM_KEYS", CustomKeys=[
        {"Header": {"Name": "x-api-key", "TextTransformations": [
            {"Priority": 0, "Type": "NONE"}]}}])  # fmt: skip
    acl = _worker(doc, redis_url)
    for value in HOSTILE:
        results = [blocked(acl.evaluate(req(headers={"X-Api-Key": value}))) for _ in range(11)]
        assert results == [False] * 10 + [True], value[:20]
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    names = list(client.scan_iter("mamori:waf:rate:*"))
    client.close()
    assert all(KEY_NAME.fullmatch(n) for n in names)
    assert not any(v and v in n for n in names for v in HOSTILE[1:])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=64), min_size=1, max_size=3), st.binary(max_size=64))
def test_key_names_are_fixed_length_and_unambiguous(parts: list[bytes], extra: bytes) -> None:
    counter = RedisRateStore("redis://127.0.0.1:9/0").counter("acl\0Rules[0]", 300)
    key = tuple(parts)
    assert KEY_NAME.fullmatch(counter.key_name(key))
    # moving bytes between the key's values makes another key
    shifted = (*key[:-1], key[-1] + extra)
    if extra:
        assert counter.key_name(shifted) != counter.key_name(key)
    if len(key) > 1 and key[1]:
        joined = (key[0] + key[1][:1], key[1][1:], *key[2:])
        assert counter.key_name(joined) != counter.key_name(key)


def _app(acl: WebAcl, **kw: Any) -> TestClient:
    async def ok(_: Any) -> PlainTextResponse:
        return PlainTextResponse("ok")

    inner = Starlette(routes=[Route("/{path:path}", ok)])
    return TestClient(WafMiddleware(inner, web_acl=acl, **kw), client=PEER)


def test_redis_down_fails_closed_or_open_and_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    doc = _rate_doc(limit=100)
    with _redis_server(tmp_path) as (url, proc):
        closed = _app(_worker(doc, url), rate_store=url)
        opened = _app(_worker(doc, url), rate_store=url, fail_open=True)
        assert closed.get("/").status_code == 200 and opened.get("/").status_code == 200
        proc.terminate()
        proc.wait(10)
        with caplog.at_level(logging.ERROR, "mamori.waf"):
            assert closed.get("/").status_code == 403  # the Web ACL can block: closed
            assert opened.get("/").status_code == 200
            started = time.monotonic()
            assert closed.get("/").status_code == 403
        assert time.monotonic() - started < 0.2  # no reconnection attempt right after a failure
    assert "rate store at 127.0.0.1" in caplog.text
    assert "failing closed" in caplog.text and "failing open" in caplog.text
    assert caplog.text.count("RateStoreError") >= 2


def test_store_error_is_clear(tmp_path: Path) -> None:
    store = RedisRateStore(f"redis://127.0.0.1:{_free_port()}/0", timeout=0.2)
    with pytest.raises(RateStoreError, match=r"rate store at 127\.0\.0\.1"):
        store.check()
    with pytest.raises(RateStoreError, match="rate store"):
        store.counter("acl\0rule", 60).add((b"192.0.2.1",))


def test_proxy_workers_share_limits(redis_url: str, tmp_path: Path) -> None:
    path = tmp_path / "webacl.json"
    path.write_text(json.dumps(_rate_doc(limit=10)))
    # the upstream is down: passed requests get 502, rate-limited ones the WAF's 403
    config = ProxyConfig(web_acl=str(path), upstream=f"http://127.0.0.1:{_free_port()}",
                         rate_store=redis_url)  # fmt: skip
    with (
        TestClient(build_app(config), client=PEER) as first,
        TestClient(build_app(config), client=PEER) as second,
    ):
        codes = [(first, second)[i % 2].get("/").status_code for i in range(12)]
    assert codes == [502] * 10 + [403] * 2


def test_cli_rate_store_errors(tmp_path: Path) -> None:
    path = tmp_path / "webacl.json"
    path.write_text(json.dumps(_rate_doc()))
    base = ["waf", "proxy", "--web-acl", str(path), "--upstream", "http://127.0.0.1:9"]
    bad = CliRunner().invoke(cli, [*base, "--rate-store", "http://127.0.0.1:6379"])
    assert bad.exit_code == 2 and "redis://" in bad.output
    down = CliRunner().invoke(cli, [*base, "--rate-store", f"redis://127.0.0.1:{_free_port()}/0"])
    assert down.exit_code == 3 and "unreachable" in down.output


def test_cli_proxy_two_workers_count_in_redis(redis_url: str, tmp_path: Path) -> None:
    path = tmp_path / "webacl.json"
    doc = _rate_doc(limit=10)
    doc["WebACL"]["Rules"].append(
        rule("ok", 0, byte_match("/ok", field("UriPath"), "STARTS_WITH"), "Allow")
    )  # the readiness probe: allowed before the rate-based rule counts it
    path.write_text(json.dumps(doc))
    port = _free_port()
    cmd = [
        sys.executable, "-c", "from mamori.cli.main import run; run()", "waf", "proxy",
        "--web-acl", str(path), "--upstream", f"http://127.0.0.1:{_free_port()}",
        "--listen", f"127.0.0.1:{port}", "--workers", "2", "--rate-store", redis_url,
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/ok", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read().decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "the proxy did not start"
                time.sleep(0.2)
        codes = [httpx.get(f"http://127.0.0.1:{port}/x").status_code for _ in range(12)]
        assert codes == [502] * 10 + [403] * 2
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(20)
