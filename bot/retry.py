"""Flood control: retry a Bot API call once when Telegram says "retry after N s" with a small N.

aiogram raises :class:`TelegramRetryAfter` and never retries. A 429 means Telegram did not
perform the call, so one retry cannot duplicate a message. Long waits are not worth holding
the update for: they are raised to the error router, which logs them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import Response

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)

MAX_RETRY_AFTER = 5.0
"""Seconds: wait and retry up to this; a longer ``retry_after`` is raised at once."""


class RetryAfterMiddleware(BaseRequestMiddleware):
    def __init__(self, max_wait: float = MAX_RETRY_AFTER) -> None:
        self.max_wait = max_wait

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter as exc:
            # getUpdates has its own back-off in the polling loop.
            if isinstance(method, GetUpdates) or exc.retry_after > self.max_wait:
                raise
            log.warning(
                "%s hit flood control; retrying in %s s", type(method).__name__, exc.retry_after
            )
            await asyncio.sleep(exc.retry_after)
            return await make_request(bot, method)
