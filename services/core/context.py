"""The dependencies every service function takes: settings, state, bus, limiter, hasher.

Built once per running app by the composition root and handed to each transport (aiohttp
``AppKey``, the dispatcher's workflow data, the Socket.IO hub). No module globals.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from argon2 import PasswordHasher

from services.core.config import Settings
from services.core.events import EventBus
from services.core.passwords import make_hasher
from services.core.ratelimit import RateLimiter
from services.core.scheduler import Scheduler
from services.core.state import EphemeralStore, MemoryStore, RedisStore

#: Is this Telegram user a member of the subscriber channel? Provided by the bot (getChatMember).
ChannelChecker = Callable[[int], Awaitable[bool]]
#: Prepare an inline message inviting to a room, for WebApp.shareMessage; returns its id.
#: Arguments: the sharer's Telegram id, the room, the sharer's language. Provided by the bot.
SharePreparer = Callable[[int, Any, str], Awaitable[str]]


class StarsPayments(Protocol):
    """Telegram Stars through the bot's Bot API client (provided by ``bot.payments``)."""

    async def create_invoice_link(
        self,
        *,
        title: str,
        description: str,
        payload: str,
        stars: int,
        subscription_period: int | None = None,
    ) -> str: ...

    async def refund(self, telegram_user_id: int, charge_id: str) -> None: ...

    async def set_subscription_canceled(
        self, telegram_user_id: int, charge_id: str, canceled: bool
    ) -> None: ...


@dataclass
class Services:
    settings: Settings
    state: EphemeralStore
    events: EventBus
    limiter: RateLimiter
    hasher: PasswordHasher
    jwt_key: str = field(repr=False)
    scheduler: Scheduler = field(default_factory=Scheduler)
    channel_checker: ChannelChecker | None = None
    share_preparer: SharePreparer | None = None
    stars: StarsPayments | None = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        channel_checker: ChannelChecker | None = None,
        share_preparer: SharePreparer | None = None,
        stars: StarsPayments | None = None,
    ) -> Services:
        """The core only: features register their bus reactions at composition
        (``composition.wiring``)."""
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
            channel_checker=channel_checker,
            share_preparer=share_preparer,
            stars=stars,
        )

    async def close(self) -> None:
        await self.scheduler.close()
        await self.limiter.close()
        await self.state.close()
