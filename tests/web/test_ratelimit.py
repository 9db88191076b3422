"""Login throttling per address and per user name over a sliding window."""

from __future__ import annotations

from mamori.web.ratelimit import LoginLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_user_name_locks_after_its_failures_and_reopens_after_the_window() -> None:
    clock = Clock()
    limiter = LoginLimiter(window_s=60, per_address=100, per_user=3, clock=clock)
    for i in range(3):
        assert limiter.retry_after(f"10.0.0.{i}", "Admin") == 0
        limiter.failed(f"10.0.0.{i}", "Admin")
    # Many addresses guessing one name: the name is locked for all of them, any case.
    assert limiter.retry_after("10.0.0.9", "admin") == 60
    clock.now += 30
    assert limiter.retry_after("10.0.0.9", "admin") == 30
    clock.now += 31
    assert limiter.retry_after("10.0.0.9", "admin") == 0


def test_address_locks_whatever_names_it_tries() -> None:
    clock = Clock()
    limiter = LoginLimiter(window_s=60, per_address=4, per_user=100, clock=clock)
    for i in range(4):
        limiter.failed("192.0.2.1", f"user{i}")
    assert limiter.retry_after("192.0.2.1", "someone-else") > 0
    assert limiter.retry_after("192.0.2.2", "someone-else") == 0


def test_success_clears_the_user_name_but_not_the_address() -> None:
    clock = Clock()
    limiter = LoginLimiter(window_s=60, per_address=3, per_user=2, clock=clock)
    limiter.failed("192.0.2.1", "bob")
    limiter.failed("192.0.2.1", "bob")
    limiter.succeeded("192.0.2.1", "bob")
    assert limiter.retry_after("192.0.2.5", "bob") == 0
    limiter.failed("192.0.2.1", "carol")
    assert limiter.retry_after("192.0.2.1", "dave") > 0


def test_old_entries_are_forgotten() -> None:
    clock = Clock()
    limiter = LoginLimiter(window_s=60, per_address=5, per_user=5, clock=clock)
    for i in range(500):
        limiter.failed(f"10.1.{i // 256}.{i % 256}", f"name{i}")
    clock.now += 120
    limiter.failed("10.9.9.9", "last")
    assert len(limiter._failures) == 2
