"""Rate limits on the `limits` package: atomic moving windows in memory or in Redis.

The async Redis storage uses ``implementation="redispy"`` (works with redis 8); the package's
``redis`` extra is avoided because it pins redis < 8.

When Redis does not answer, hits are counted in this process's memory instead of failing the
request: sign-in keeps working and stays limited (per process rather than across processes),
``/api/health`` reports Redis as down, and Redis is tried again after :data:`RETRY_REDIS_AFTER`.

In memory we keep our own moving window (:class:`MemoryWindows`) rather than `limits`'
``MemoryStorage``: its expiry pass hops to a thread once per key (``asyncio.to_thread``), so with
a key per chatting user it kept a core busy at a few hundred messages a second
(docs/performance.md).
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections import deque
from collections.abc import Callable

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

from services.core.errors import RateLimited
from services.core.state.redis import fast_retry

log = logging.getLogger(__name__)

#: Seconds to stay on the in-memory fallback after Redis failed, before trying Redis again.
RETRY_REDIS_AFTER = 5.0
#: Redis must answer quickly: a sign-in waits on it.
REDIS_TIMEOUT = 2.0


#: What separates the rates of :meth:`RateLimiter.hit_many` ("10/minute;50/day"), as in `limits`.
RATE_SEPARATORS = re.compile(r"[,;|]")

#: How often (seconds) :class:`MemoryWindows` drops keys whose window has passed.
SWEEP_EVERY = 60.0


class MemoryWindows:
    """Moving windows in this process: per key, the times of the hits still inside the window.

    A hit is a few deque operations with no await in between, so it is atomic on the loop.
    Keys whose last hit left its window are dropped on a sweep every :data:`SWEEP_EVERY`
    seconds, run inline from :meth:`hit` (no task, no thread)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._hits: dict[tuple[str, ...], tuple[float, deque[float]]] = {}
        self._next_sweep = clock() + SWEEP_EVERY

    def hit(self, item: RateLimitItem, keys: tuple[str, ...]) -> int | None:
        """Count one hit; ``None`` when allowed, else the seconds until a slot frees up."""
        now = self._clock()
        if now >= self._next_sweep:
            self._sweep(now)
        window = float(item.get_expiry())
        key = (item.key_for(), *keys)
        entry = self._hits.get(key)
        if entry is None:
            entry = self._hits[key] = (window, deque())
        times = entry[1]
        while times and times[0] <= now - window:
            times.popleft()
        if len(times) >= item.amount:
            return max(1, math.ceil(times[0] + window - now))
        times.append(now)
        return None

    def clear(self, item: RateLimitItem, keys: tuple[str, ...]) -> None:
        self._hits.pop((item.key_for(), *keys), None)

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + SWEEP_EVERY
        stale = [
            k for k, (window, times) in self._hits.items() if not times or times[-1] <= now - window
        ]
        for key in stale:
            del self._hits[key]

    def __len__(self) -> int:
        return len(self._hits)


class RateLimiter:
    def __init__(self, redis_url: str | None) -> None:
        self._memory = MemoryWindows()
        self._redis_storage: RedisStorage | None = None
        self._redis: MovingWindowRateLimiter | None = None
        if redis_url:
            url = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
            self._redis_storage = RedisStorage(
                url,
                implementation="redispy",
                socket_connect_timeout=REDIS_TIMEOUT,
                socket_timeout=REDIS_TIMEOUT,
                retry=fast_retry(),
            )
            self._redis = MovingWindowRateLimiter(self._redis_storage)
        self._redis_down_until = 0.0
        self._items: dict[str, RateLimitItem] = {}
        self._many: dict[str, tuple[str, ...]] = {}

    def _item(self, rate: str) -> RateLimitItem:
        item = self._items.get(rate)
        if item is None:
            item = self._items[rate] = parse(rate)
        return item

    @staticmethod
    async def _hit_redis(
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
                retry_after = await self._hit_redis(self._redis, item, keys)
            except self._redis_failed() as exc:
                log.warning(
                    "rate limiter: Redis unavailable (%s); counting in memory for %.0f s",
                    type(exc).__name__,
                    RETRY_REDIS_AFTER,
                )
                self._redis_down_until = time.monotonic() + RETRY_REDIS_AFTER
                retry_after = self._memory.hit(item, keys)
        else:
            retry_after = self._memory.hit(item, keys)
        if retry_after is not None:
            raise RateLimited(retry_after=retry_after)

    async def hit_many(self, rates: str, *keys: str, message: str | None = None) -> None:
        """Count one hit for ``keys`` under each of ``rates`` ("10/minute;50/day"), in order;
        the first one exceeded raises :class:`RateLimited`, with ``message`` as its template
        (it may use ``{retry_after}``) when given. The rates before it keep their hit."""
        split = self._many.get(rates)
        if split is None:
            split = self._many[rates] = tuple(
                part.strip() for part in RATE_SEPARATORS.split(rates) if part.strip()
            )
        for rate in split:
            try:
                await self.hit(rate, *keys)
            except RateLimited as exc:
                if message is None:
                    raise
                raise RateLimited(message, retry_after=exc.retry_after) from None

    async def clear(self, rate: str, *keys: str) -> None:
        item = self._item(rate)
        self._memory.clear(item, keys)
        if self._redis is not None:
            await self._redis.clear(item, *keys)

    async def close(self) -> None:
        """Close the Redis connections (the composition root calls this on shutdown)."""
        if self._redis_storage is not None:
            client = getattr(self._redis_storage.bridge, "storage", None)
            if client is not None:
                await client.aclose()
