"""Redis-backed ephemeral store, shared by every process of a scaled-out deployment."""

from __future__ import annotations

from redis.asyncio import Redis

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
            url, decode_responses=True, socket_timeout=5, socket_connect_timeout=2
        )
        self._prefix = prefix

    @property
    def client(self) -> Redis:
        return self._redis

    def _k(self, key: str) -> str:
        return self._prefix + key

    async def get(self, key: str) -> str | None:
        return await self._redis.get(self._k(key))

    async def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        px = None if ttl is None else max(1, int(ttl * 1000))
        await self._redis.set(self._k(key), value, px=px)

    async def set_if_absent(self, key: str, value: str, *, ttl: float) -> bool:
        return bool(await self._redis.set(self._k(key), value, px=max(1, int(ttl * 1000)), nx=True))

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._k(key))

    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(self._k(key), amount)
            if ttl is not None:
                pipe.pexpire(self._k(key), max(1, int(ttl * 1000)), nx=True)
            value, *_ = await pipe.execute()
        return int(value)

    async def refresh_if_owner(self, key: str, value: str, *, ttl: float) -> bool:
        result = await self._redis.eval(_REFRESH, 1, self._k(key), value, max(1, int(ttl * 1000)))
        return bool(result)

    async def release_if_owner(self, key: str, value: str) -> None:
        await self._redis.eval(_RELEASE, 1, self._k(key), value)

    async def set_add(self, key: str, member: str, *, ttl: float) -> None:
        """Add ``member`` to the set at ``key``; the set expires ``ttl`` after its last add."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(self._k(key), member)
            pipe.pexpire(self._k(key), max(1, int(ttl * 1000)))
            await pipe.execute()

    async def set_remove(self, key: str, member: str) -> None:
        await self._redis.srem(self._k(key), member)

    async def set_members(self, key: str) -> set[str]:
        return set(await self._redis.smembers(self._k(key)))

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except Exception:  # noqa: BLE001 - health reports the failure, never raises
            return False

    async def close(self) -> None:
        await self._redis.aclose()
