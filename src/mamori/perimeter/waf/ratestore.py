"""Rate-based rule counters in Redis, so several workers (processes, hosts) share one limit.

    acl = load_web_acl("webacl.json")
    app = WafMiddleware(app, web_acl=acl, rate_store="redis://127.0.0.1:6379/0")

Each (rule, aggregation key) is one Redis hash whose fields are time buckets of 1/60 of the
evaluation window (1 s for 60 s, 10 s for 600 s) and whose values are request counts. A Lua
script adds the request, sums the buckets still inside the window and deletes the older ones in
one round trip, atomically: the work per request is bounded by 60 fields whatever the traffic,
which a sorted set of one member per request (O(log n), memory growing with the limit) is not.
The key expires one bucket after the window, so an idle client leaves nothing behind.

Key names are `mamori:waf:rate:<rule digest>:<key digest>`: BLAKE2b digests of the Web ACL name
and statement path, and of the aggregation key's values, so attacker-controlled header or
cookie values never reach Redis as key names and every key has the same short length.

Time comes from the Redis server (`TIME`), so workers on several hosts agree on the buckets
without agreeing on their clocks; tests inject a clock instead.

Redis unreachable or slow (over `timeout`): `add` raises `RateStoreError`, which the runtime's
fail-open/fail-closed policy answers and logs. Falling back to per-process counters instead
would silently multiply every limit by the number of workers. After a failure the store is not
asked again for `retry_after` seconds, so an outage costs each request no connection timeout.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

import redis

from mamori.core import InputError, StoreError
from mamori.perimeter.waf.compiler import WebAcl
from mamori.perimeter.waf.ratebased import bind_counters

_log = logging.getLogger("mamori.waf")
_PREFIX = "mamori:waf:rate:"
_BUCKETS = 60  # buckets per window: the count's precision is 1/60 of the window
_SCHEMES = ("redis://", "rediss://", "unix://")

# KEYS[1]: the (rule, key) hash. ARGV: now in seconds ("" for the server's clock), window, width.
_SCRIPT = """
local now = tonumber(ARGV[1])
if not now then now = tonumber(redis.call('TIME')[1]) end
local window = tonumber(ARGV[2])
local width = tonumber(ARGV[3])
local bucket = math.floor(now / width)
local oldest = bucket - math.floor(window / width) + 1
redis.call('HINCRBY', KEYS[1], bucket, 1)
local fields = redis.call('HGETALL', KEYS[1])
local total, stale = 0, {}
for i = 1, #fields, 2 do
  if tonumber(fields[i]) < oldest then
    stale[#stale + 1] = fields[i]
  else
    total = total + tonumber(fields[i + 1])
  end
end
if #stale > 0 then redis.call('HDEL', KEYS[1], unpack(stale)) end
redis.call('EXPIRE', KEYS[1], window + width)
return total
"""


class RateStoreError(StoreError):
    """The shared rate store could not count a request."""


def _digest(*parts: bytes, size: int) -> str:
    # length-prefixed, so ("ab", "c") and ("a", "bc") are different keys
    h = hashlib.blake2b(digest_size=size, person=b"mamori-rate")
    for part in parts:
        h.update(len(part).to_bytes(4, "big"))
        h.update(part)
    return h.hexdigest()


class RedisCounter:
    """One rate-based statement's counts in Redis (the `RateCounter` interface)."""

    def __init__(self, store: RedisRateStore, namespace: str, window: int) -> None:
        self.store = store
        self.window = window
        self.width = max(1, window // _BUCKETS)
        self.prefix = _PREFIX + _digest(namespace.encode("utf-8"), size=8) + ":"

    def key_name(self, key: tuple[bytes, ...]) -> str:
        return self.prefix + _digest(*key, size=16)

    def add(self, key: tuple[bytes, ...]) -> int:
        now = "" if self.store.clock is None else repr(self.store.clock())
        return self.store.run(self.key_name(key), now, self.window, self.width)


class RedisRateStore:
    """A Redis server holding the counters of any number of workers' rate-based rules."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 0.25,
        retry_after: float = 1.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if not url.startswith(_SCHEMES):
            raise InputError(f"rate store {url!r}: expected redis://host:port/db (or rediss://)")
        try:
            self.client = redis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout
            )
        except ValueError as exc:
            raise InputError(f"rate store {url!r}: {exc}") from exc
        self.where = self.client.connection_pool.connection_kwargs.get("host", "unix socket")
        self.script = self.client.register_script(_SCRIPT)
        self.retry_after = retry_after
        self.clock = clock  # wall-clock seconds (tests); None: the Redis server's clock
        self.down_until = 0.0

    def counter(self, namespace: str, window: int) -> RedisCounter:
        return RedisCounter(self, namespace, window)

    def run(self, key: str, *args: Any) -> int:
        if time.monotonic() < self.down_until:
            raise RateStoreError(f"rate store at {self.where} unreachable (retrying shortly)")
        try:
            return int(self.script(keys=[key], args=list(args)))
        except redis.RedisError as exc:
            self.down_until = time.monotonic() + self.retry_after
            _log.error("WAF rate store at %s failed: %s", self.where, exc)
            raise RateStoreError(f"rate store at {self.where}: {exc}") from exc

    def check(self) -> None:
        """Fail now, with a clear error, if the server cannot be reached."""
        try:
            self.client.ping()
        except redis.RedisError as exc:
            raise RateStoreError(f"rate store at {self.where} unreachable: {exc}") from exc

    def close(self) -> None:
        self.client.close()


def use_rate_store(web_acl: WebAcl, store: RedisRateStore | str) -> RedisRateStore:
    """Count the compiled Web ACL's rate-based rules in `store` (an object or a redis:// URL)
    instead of per process; the store."""
    if isinstance(store, str):
        store = RedisRateStore(store)
    shared = store
    bind_counters(
        web_acl.hooks, lambda path, window: shared.counter(f"{web_acl.name}\0{path}", window)
    )
    return store
