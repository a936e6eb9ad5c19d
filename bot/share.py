"""``Services.share_preparer``: a room invite saved with savePreparedInlineMessage.

The Mini App passes the returned id to ``WebApp.shareMessage``; Telegram then lets the user pick
chats and sends the same "watch together" message that inline mode offers.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.utils.i18n import I18n

from bot.keyboards import get_bot_username
from bot.routers.inline import room_article
from models.rooms import Room
from services.core.config import Settings
from services.core.context import SharePreparer


def make_share_preparer(
    bot: Bot, settings: Settings, i18n: I18n, bot_info: dict[str, Any]
) -> SharePreparer:
    async def prepare(telegram_id: int, room: Room, language: str) -> str:
        username = await get_bot_username(bot, bot_info)
        with i18n.context(), i18n.use_locale(language):
            article = room_article(room, settings, username)
        prepared = await bot.save_prepared_inline_message(
            user_id=telegram_id,
            result=article,
            allow_user_chats=True,
            allow_group_chats=True,
            allow_channel_chats=True,
        )
        return prepared.id

    return prepare
