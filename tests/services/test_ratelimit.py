"""services.ratelimit: atomic moving windows in memory and in Redis, with a fallback."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator

import pytest

from services.errors import RateLimited
from services.ratelimit import RateLimiter
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
        with caplog.at_level(logging.WARNING, logger="services.ratelimit"):
            assert [await _allowed(limiter, "2/minute", "test", "k") for _ in range(3)] == [
                True,
                True,
                False,
            ]
        warnings = [r for r in caplog.records if r.name == "services.ratelimit"]
        assert len(warnings) == 1, "one warning per outage, not one per request"
    finally:
        await limiter.close()
