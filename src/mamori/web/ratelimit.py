"""Login throttling: failed attempts counted per client address and per user name over a
sliding window, so that neither one address guessing many names nor many addresses guessing
one name gets more than a handful of tries.

Kept in the server's memory: `mamori serve` runs one process. Behind several workers each
counts apart, which multiplies the allowance by the number of workers.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_S = 300.0
PER_ADDRESS = 10
PER_USER = 5


class LoginLimiter:
    def __init__(
        self,
        *,
        window_s: float = WINDOW_S,
        per_address: int = PER_ADDRESS,
        per_user: int = PER_USER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._window = window_s
        self._limits = {"address": per_address, "user": per_user}
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()
        self._swept = clock()

    def retry_after(self, address: str, user: str) -> float:
        """Seconds until this address may try this user again; 0 when it may now."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in (("address", address), ("user", user.lower())):
                times = self._recent(key, now)
                if len(times) >= self._limits[key[0]]:
                    wait = max(wait, times[0] + self._window - now)
        return wait

    def failed(self, address: str, user: str) -> None:
        now = self._clock()
        with self._lock:
            for key in (("address", address), ("user", user.lower())):
                self._recent(key, now).append(now)

    def succeeded(self, address: str, user: str) -> None:
        with self._lock:
            self._failures.pop(("user", user.lower()), None)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        if now - self._swept > self._window:
            # Keep the table as large as the attempts of the last window, not of all time.
            self._failures = {
                k: v for k, v in self._failures.items() if v and v[-1] > now - self._window
            }
            self._swept = now
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self._window:
            times.popleft()
        return times
