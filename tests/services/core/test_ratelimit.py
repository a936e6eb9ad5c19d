"""services.core.ratelimit: atomic moving windows in memory and in Redis, with a fallback."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator

import pytest
from limits import parse

from services.core.errors import RateLimited
from services.core.ratelimit import SWEEP_EVERY, MemoryWindows, RateLimiter
from tests.conftest import REDIS_URL

DOWN_REDIS_URL = "redis://127.0.0.1:1/0"


@pytest.fixture(
    params=["memory", pytest.param("redis", marks=pytest.mark.redis)],
)
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    limiter = RateLimiter(REDIS_URL if request.param == "redis" else None)
    yield limiter
    await limiter.close()


def _key() -> str:
    return uuid.uuid4().hex  # Redis outlives a test run: fresh keys every time


async def _allowed(limiter: RateLimiter, rate: str, *keys: str) -> bool:
    try:
        await limiter.hit(rate, *keys)
    except RateLimited:
        return False
    return True


async def test_limit_allows_the_rate_then_refuses_with_retry_after(limiter: RateLimiter) -> None:
    key = _key()
    for _ in range(3):
        await limiter.hit("3/minute", "test", key)
    with pytest.raises(RateLimited) as caught:
        await limiter.hit("3/minute", "test", key)
    assert 1 <= caught.value.retry_after <= 60
    assert caught.value.to_dict()["code"] == "rate_limited"


async def test_keys_and_rates_are_counted_apart(limiter: RateLimiter) -> None:
    key = _key()
    await limiter.hit("1/minute", "test", key)
    await limiter.hit("1/minute", "test", key + "-other")
    await limiter.hit("1/minute", "other-scope", key)
    assert not await _allowed(limiter, "1/minute", "test", key)


async def test_clear_resets_the_window(limiter: RateLimiter) -> None:
    key = _key()
    await limiter.hit("1/minute", "test", key)
    await limiter.clear("1/minute", "test", key)
    assert await _allowed(limiter, "1/minute", "test", key)


async def test_concurrent_hits_are_atomic(limiter: RateLimiter) -> None:
    key = _key()
    results = await asyncio.gather(*(_allowed(limiter, "5/minute", "test", key) for _ in range(40)))
    assert results.count(True) == 5


async def test_redis_down_falls_back_to_memory(caplog: pytest.LogCaptureFixture) -> None:
    limiter = RateLimiter(DOWN_REDIS_URL)
    try:
        with caplog.at_level(logging.WARNING, logger="services.core.ratelimit"):
            assert [await _allowed(limiter, "2/minute", "test", "k") for _ in range(3)] == [
                True,
                True,
                False,
            ]
        warnings = [r for r in caplog.records if r.name == "services.core.ratelimit"]
        assert len(warnings) == 1, "one warning per outage, not one per request"
    finally:
        await limiter.close()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_memory_window_moves_and_says_when_a_slot_frees() -> None:
    clock = FakeClock()
    windows = MemoryWindows(clock)
    item = parse("2/10second")
    assert windows.hit(item, ("a",)) is None
    clock.now += 4
    assert windows.hit(item, ("a",)) is None
    clock.now += 1
    # The first hit leaves the window 10 s after it was made: 5 s from now.
    assert windows.hit(item, ("a",)) == 5
    clock.now += 5
    assert windows.hit(item, ("a",)) is None  # a moving window, not a fixed one
    assert windows.hit(item, ("a",)) == 4


def test_memory_window_sweep_forgets_idle_keys_only() -> None:
    clock = FakeClock()
    windows = MemoryWindows(clock)
    short, long = parse("1/second"), parse("1/hour")
    for i in range(1000):
        windows.hit(short, (str(i),))
    windows.hit(long, ("kept",))
    assert len(windows) == 1001
    clock.now += SWEEP_EVERY + 1
    windows.hit(short, ("new",))  # a hit runs the sweep when it is due
    assert len(windows) == 2
    assert windows.hit(long, ("kept",)) is not None  # still limited after the sweep


async def test_hit_many_counts_every_rate_and_names_its_message(limiter: RateLimiter) -> None:
    key = _key()
    await limiter.hit_many("2/minute;3/day", "feature", key)
    await limiter.hit_many("2/minute;3/day", "feature", key)
    with pytest.raises(RateLimited) as raised:
        await limiter.hit_many("2/minute;3/day", "feature", key, message="Slow down {retry_after}")
    assert raised.value.template == "Slow down {retry_after}"
    assert 1 <= raised.value.retry_after <= 60
    # Each rate is its own window: the day's is at 2 of 3 (the refused minute hit came first).
    await limiter.hit("3/day", "feature", key)
    with pytest.raises(RateLimited) as raised:
        await limiter.hit("3/day", "feature", key)
    assert raised.value.retry_after > 3600
