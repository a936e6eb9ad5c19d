"""Ephemeral shared state: presence, playback clocks, dedupe keys, locks.

One interface, two implementations: in memory (the embedded default, one process) and Redis
(``REDIS_URL`` set, shared by every process). Durable facts belong in the database, not here.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

from redis import exceptions as redis_exceptions

from services.core.state.memory import MemoryStore
from services.core.state.redis import RedisStore

log = logging.getLogger(__name__)

#: What a store call raises when Redis is down, restarting or unreachable (not a bug of ours):
#: callers that can do without the store (chat, reading the playback clock) catch these, log
#: through :func:`warn_store_down` and carry on.
STORE_ERRORS: tuple[type[BaseException], ...] = (
    redis_exceptions.ConnectionError,
    redis_exceptions.TimeoutError,
    OSError,
    TimeoutError,
)
#: One warning per subject per this many seconds (chat may hit a down store thousands of times
#: a second).
WARN_EVERY = 10.0
_warned: dict[str, float] = {}


def warn_store_down(what: str, exc: BaseException) -> None:
    """Log that the store is unavailable for ``what`` (at most every :data:`WARN_EVERY` s)."""
    now = time.monotonic()
    if now - _warned.get(what, -WARN_EVERY) >= WARN_EVERY:
        _warned[what] = now
        log.warning(
            "ephemeral store unavailable for %s (%s); carrying on without it",
            what,
            type(exc).__name__,
        )


class EphemeralStore(Protocol):
    backend: str

    async def get(self, key: str) -> str | None: ...
    async def set(self, key: str, value: str, *, ttl: float | None = None) -> None: ...
    async def set_if_absent(self, key: str, value: str, *, ttl: float) -> bool: ...
    async def delete(self, key: str) -> None: ...
    async def incr(
        self, key: str, amount: int = 1, *, ttl: float | None = None, refresh_ttl: bool = False
    ) -> int:
        """Add ``amount`` atomically; ``ttl`` starts when the key is made, or again on every
        call with ``refresh_ttl`` (a window that slides)."""
        ...

    async def refresh_if_owner(self, key: str, value: str, *, ttl: float) -> bool: ...
    async def release_if_owner(self, key: str, value: str) -> None: ...
    async def set_add(self, key: str, member: str, *, ttl: float) -> None: ...
    async def set_remove(self, key: str, member: str) -> None: ...
    async def set_members(self, key: str) -> set[str]: ...
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...


__all__ = ["STORE_ERRORS", "EphemeralStore", "MemoryStore", "RedisStore", "warn_store_down"]
