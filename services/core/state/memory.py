"""In-process ephemeral store with expiry, for the single-process embedded mode."""

from __future__ import annotations

import time


class MemoryStore:
    backend = "memory"

    def __init__(self) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}
        self._sets: dict[str, tuple[set[str], float]] = {}

    def _alive(self, key: str) -> tuple[str, float | None] | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] is not None and item[1] <= time.monotonic():
            del self._data[key]
            return None
        return item

    def _expiry(self, ttl: float | None) -> float | None:
        return None if ttl is None else time.monotonic() + ttl

    async def get(self, key: str) -> str | None:
        item = self._alive(key)
        return None if item is None else item[0]

    async def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        self._data[key] = (value, self._expiry(ttl))

    async def set_if_absent(self, key: str, value: str, *, ttl: float) -> bool:
        if self._alive(key) is not None:
            return False
        self._data[key] = (value, self._expiry(ttl))
        return True

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)
        self._sets.pop(key, None)

    async def incr(
        self, key: str, amount: int = 1, *, ttl: float | None = None, refresh_ttl: bool = False
    ) -> int:
        item = self._alive(key)
        value = (int(item[0]) if item else 0) + amount
        if item is not None and item[1] is not None and (ttl is None or not refresh_ttl):
            expiry = item[1]
        else:
            expiry = self._expiry(ttl)
        self._data[key] = (str(value), expiry)
        return value

    async def refresh_if_owner(self, key: str, value: str, *, ttl: float) -> bool:
        item = self._alive(key)
        if item is None or item[0] != value:
            return False
        self._data[key] = (value, self._expiry(ttl))
        return True

    async def release_if_owner(self, key: str, value: str) -> None:
        item = self._alive(key)
        if item is not None and item[0] == value:
            del self._data[key]

    def _alive_set(self, key: str) -> set[str] | None:
        item = self._sets.get(key)
        if item is None:
            return None
        if item[1] <= time.monotonic():
            del self._sets[key]
            return None
        return item[0]

    async def set_add(self, key: str, member: str, *, ttl: float) -> None:
        """Add ``member`` to the set at ``key``; the set expires ``ttl`` after its last add."""
        members = self._alive_set(key) or set()
        members.add(member)
        self._sets[key] = (members, time.monotonic() + ttl)

    async def set_remove(self, key: str, member: str) -> None:
        members = self._alive_set(key)
        if members is not None:
            members.discard(member)
            if not members:
                del self._sets[key]

    async def set_members(self, key: str) -> set[str]:
        return set(self._alive_set(key) or ())

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._data.clear()
        self._sets.clear()
