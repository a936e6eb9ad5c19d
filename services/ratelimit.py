"""Rate limits on the `limits` package: atomic moving windows in memory or in Redis.

The async Redis storage uses ``implementation="redispy"`` (works with redis 8); the package's
``redis`` extra is avoided because it pins redis < 8.

When Redis does not answer, hits are counted in this process's memory instead of failing the
request: sign-in keeps working and stays limited (per process rather than across processes),
``/api/health`` reports Redis as down, and Redis is tried again after :data:`RETRY_REDIS_AFTER`.
"""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

from services.errors import RateLimited

log = logging.getLogger(__name__)

#: Seconds to stay on the in-memory fallback after Redis failed, before trying Redis again.
RETRY_REDIS_AFTER = 5.0
#: Redis must answer quickly: a sign-in waits on it.
REDIS_TIMEOUT = 2.0


class RateLimiter:
    def __init__(self, redis_url: str | None) -> None:
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._redis_storage: RedisStorage | None = None
        self._redis: MovingWindowRateLimiter | None = None
        if redis_url:
            url = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
            self._redis_storage = RedisStorage(
                url,
                implementation="redispy",
                socket_connect_timeout=REDIS_TIMEOUT,
                socket_timeout=REDIS_TIMEOUT,
            )
            self._redis = MovingWindowRateLimiter(self._redis_storage)
        self._redis_down_until = 0.0
        self._items: dict[str, RateLimitItem] = {}

    def _item(self, rate: str) -> RateLimitItem:
        item = self._items.get(rate)
        if item is None:
            item = self._items[rate] = parse(rate)
        return item

    @staticmethod
    async def _hit(
        limiter: MovingWindowRateLimiter, item: RateLimitItem, keys: tuple[str, ...]
    ) -> int | None:
        """Count one hit; ``None`` when allowed, else the seconds until a slot frees up."""
        if await limiter.hit(item, *keys):
            return None
        stats = await limiter.get_window_stats(item, *keys)
        return max(1, math.ceil(stats.reset_time - time.time()))

    def _redis_failed(self) -> tuple[type[BaseException], ...]:
        assert self._redis_storage is not None
        base = self._redis_storage.base_exceptions
        return (*(base if isinstance(base, tuple) else (base,)), OSError, TimeoutError)

    async def hit(self, rate: str, *keys: str) -> None:
        """Count one hit for ``keys`` under ``rate`` (e.g. "5/minute"); raise when over it."""
        item = self._item(rate)
        retry_after: int | None
        if self._redis is not None and time.monotonic() >= self._redis_down_until:
            try:
                retry_after = await self._hit(self._redis, item, keys)
            except self._redis_failed() as exc:
                log.warning(
                    "rate limiter: Redis unavailable (%s); counting in memory for %.0f s",
                    type(exc).__name__,
                    RETRY_REDIS_AFTER,
                )
                self._redis_down_until = time.monotonic() + RETRY_REDIS_AFTER
                retry_after = await self._hit(self._memory, item, keys)
        else:
            retry_after = await self._hit(self._memory, item, keys)
        if retry_after is not None:
            raise RateLimited(retry_after=retry_after)

    async def clear(self, rate: str, *keys: str) -> None:
        item = self._item(rate)
        await self._memory.clear(item, *keys)
        if self._redis is not None:
            await self._redis.clear(item, *keys)

    async def close(self) -> None:
        """Close the Redis connections (the composition root calls this on shutdown)."""
        if self._redis_storage is not None:
            client = getattr(self._redis_storage.bridge, "storage", None)
            if client is not None:
                await client.aclose()
