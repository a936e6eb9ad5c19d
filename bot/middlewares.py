"""Resolve the Telegram sender to our ``User`` row and pick the reply language from it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from aiogram.types import User as TgUser
from aiogram.utils.i18n import I18nMiddleware

from services.accounts.users import TelegramProfile, do_upsert_telegram_user, pick_language


def profile_of(tg: TgUser) -> TelegramProfile:
    """What we keep of a Telegram user seen in an update (or a Stars transaction)."""
    return TelegramProfile(
        id=tg.id,
        first_name=tg.first_name,
        last_name=tg.last_name,
        username=tg.username,
        language_code=tg.language_code,
        is_premium=bool(tg.is_premium),
    )


class UserMiddleware(BaseMiddleware):
    """The same person in the bot and in the Mini App is one ``User`` row (by Telegram id)."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        tg: TgUser | None = data.get("event_from_user")
        if tg is not None and not tg.is_bot:
            data["user"] = await do_upsert_telegram_user(profile_of(tg))
        return await handler(event, data)


class UserI18nMiddleware(I18nMiddleware):
    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        tg: TgUser | None = data.get("event_from_user")
        return pick_language(data.get("user"), tg.language_code if tg else None)
