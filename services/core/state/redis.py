"""Redis-backed ephemeral store, shared by every process of a scaled-out deployment.

When Redis is down a call fails fast: redis-py's own retries are cut to two quick ones (enough
to reconnect after Redis restarted; its default, ten retries backing off to 1 s, made every call
take seconds during an outage), and after a connection failure the store refuses at once for
:data:`DOWN_FOR` seconds (a circuit breaker) instead of trying again on every call. ``ping``
always tries, so ``/api/health`` tells the truth.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

T = TypeVar("T")

#: After a failed connection, calls fail at once for this many seconds.
DOWN_FOR = 1.0


def fast_retry() -> Retry:
    """Two quick retries (10-100 ms apart): a stale pooled connection after a Redis restart is
    replaced, a down Redis is reported within a fraction of a second. For every Redis client of
    the app (the store, the rate limiter, the Socket.IO manager)."""
    return Retry(ExponentialWithJitterBackoff(cap=0.1, base=0.01), retries=2)


def _breaker(method: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    @functools.wraps(method)
    async def call(self: RedisStore, *args: Any, **kwargs: Any) -> T:
        if self._down_until and time.monotonic() < self._down_until:
            raise RedisConnectionError("Redis is unavailable (retrying shortly)")
        try:
            return await method(self, *args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError, OSError):
            self._down_until = time.monotonic() + DOWN_FOR
            raise

    return call


_REFRESH = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class RedisStore:
    backend = "redis"

    def __init__(self, url: str, *, prefix: str = "vmeste:") -> None:
        self._redis: Redis = Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=5,
            socket_connect_timeout=2,
            retry=fast_retry(),
        )
        self._prefix = prefix
        self._down_until = 0.0

    @property
    def client(self) -> Redis:
        return self._redis

    def _k(self, key: str) -> str:
        return self._prefix + key

    @_breaker
    async def get(self, key: str) -> str | None:
        return await self._redis.get(self._k(key))

    @_breaker
    async def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        px = None if ttl is None else max(1, int(ttl * 1000))
        await self._redis.set(self._k(key), value, px=px)

    @_breaker
    async def set_if_absent(self, key: str, value: str, *, ttl: float) -> bool:
        return bool(await self._redis.set(self._k(key), value, px=max(1, int(ttl * 1000)), nx=True))

    @_breaker
    async def delete(self, key: str) -> None:
        await self._redis.delete(self._k(key))

    @_breaker
    async def incr(
        self, key: str, amount: int = 1, *, ttl: float | None = None, refresh_ttl: bool = False
    ) -> int:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(self._k(key), amount)
            if ttl is not None:
                pipe.pexpire(self._k(key), max(1, int(ttl * 1000)), nx=not refresh_ttl)
            value, *_ = await pipe.execute()
        return int(value)

    @_breaker
    async def refresh_if_owner(self, key: str, value: str, *, ttl: float) -> bool:
        result = await self._redis.eval(_REFRESH, 1, self._k(key), value, max(1, int(ttl * 1000)))
        return bool(result)

    @_breaker
    async def release_if_owner(self, key: str, value: str) -> None:
        await self._redis.eval(_RELEASE, 1, self._k(key), value)

    @_breaker
    async def set_add(self, key: str, member: str, *, ttl: float) -> None:
        """Add ``member`` to the set at ``key``; the set expires ``ttl`` after its last add."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(self._k(key), member)
            pipe.pexpire(self._k(key), max(1, int(ttl * 1000)))
            await pipe.execute()

    @_breaker
    async def set_remove(self, key: str, member: str) -> None:
        await self._redis.srem(self._k(key), member)

    @_breaker
    async def set_members(self, key: str) -> set[str]:
        return set(await self._redis.smembers(self._k(key)))

    async def ping(self) -> bool:
        try:
            ok = bool(await self._redis.ping())
        except Exception:  # noqa: BLE001 - health reports the failure, never raises
            return False
        if ok:
            self._down_until = 0.0
        return ok

    async def close(self) -> None:
        await self._redis.aclose()
