"""The dependencies every service function takes: settings, state, bus, limiter, hasher.

Built once per running app by the composition root and handed to each transport (aiohttp
``AppKey``, the dispatcher's workflow data, the Socket.IO hub). No module globals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from argon2 import PasswordHasher

from services.config import Settings
from services.events import EventBus
from services.passwords import make_hasher
from services.ratelimit import RateLimiter
from services.state import EphemeralStore, MemoryStore, RedisStore


@dataclass
class Services:
    settings: Settings
    state: EphemeralStore
    events: EventBus
    limiter: RateLimiter
    hasher: PasswordHasher
    jwt_key: str = field(repr=False)

    @classmethod
    def build(cls, settings: Settings) -> Services:
        state: EphemeralStore = (
            RedisStore(settings.redis_url) if settings.redis_url else MemoryStore()
        )
        return cls(
            settings=settings,
            state=state,
            events=EventBus(),
            limiter=RateLimiter(settings.redis_url),
            hasher=make_hasher(settings.password_hash_profile),
            jwt_key=settings.jwt_key(),
        )

    async def close(self) -> None:
        await self.limiter.close()
        await self.state.close()
