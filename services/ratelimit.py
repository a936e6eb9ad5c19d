"""Rate limits on the `limits` package: atomic moving windows in memory or in Redis.

The async Redis storage uses ``implementation="redispy"`` (works with redis 8); the package's
``redis`` extra is avoided because it pins redis < 8.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from services.errors import RateLimited


class RateLimiter:
    def __init__(self, redis_url: str | None) -> None:
        self._storage: Storage
        if redis_url:
            url = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
            self._storage = RedisStorage(url, implementation="redispy")
        else:
            self._storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._items: dict[str, RateLimitItem] = {}

    def _item(self, rate: str) -> RateLimitItem:
        item = self._items.get(rate)
        if item is None:
            item = self._items[rate] = parse(rate)
        return item

    async def hit(self, rate: str, *keys: str) -> None:
        """Count one hit for ``keys`` under ``rate`` (e.g. "5/minute"); raise when over it."""
        item = self._item(rate)
        if await self._limiter.hit(item, *keys):
            return
        stats = await self._limiter.get_window_stats(item, *keys)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(retry_after=retry_after)

    async def clear(self, rate: str, *keys: str) -> None:
        await self._limiter.clear(self._item(rate), *keys)
