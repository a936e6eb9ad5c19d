"""Inline mode: ``@bot <link or room code>`` in any chat offers "Watch together" with a join link.

A link creates the room while the user is still choosing, because the posted message's button
must already carry the room code (changing it afterwards needs inline feedback, which Telegram
delivers only when enabled in @BotFather and may sample). Typing must not create a room per
keystroke, so creation is deduplicated per user and link (the same link reuses the same open
room for an hour), serialized per user, and rate limited; an empty query lists the user's open
rooms instead.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from aiogram import Bot, Router
from aiogram.types import (
    InlineQuery,
    InlineQueryResultArticle,
    InputTextMessageContent,
)
from aiogram.utils.i18n import gettext as _

from bot.keyboards import get_bot_username, room_link_keyboard
from models.rooms import Room, Visibility
from models.users import User
from services.core.config import Settings
from services.core.context import Services
from services.core.errors import AppError, Forbidden, NotFound, RateLimited
from services.core.links import parse_room_reference
from services.rooms.access import access_room_to_share
from services.rooms.media import parse_media_url
from services.rooms.membership import do_create_room_for_link, get_user_rooms

log = logging.getLogger(__name__)

RESULTS_MAX = 10


def room_code_of(query: str) -> str | None:
    """A room code typed as ``CODE``, ``room_CODE`` or pasted as a t.me ``startapp`` link."""
    link = parse_room_reference(query)
    return link.code if link is not None else None


async def _visible_room(code: str, user: User) -> Room | None:
    """An open room the user may share (the one rule of ``services.rooms.access``)."""
    try:
        return await access_room_to_share(code, user=user)
    except (NotFound, Forbidden):
        return None


def room_article(room: Room, settings: Settings, bot_username: str) -> InlineQueryResultArticle:
    """The "watch together" message: the inline result, and what the Mini App's Share sends."""
    private = room.visibility == Visibility.PRIVATE
    invite = room.invite_code if private else None
    return InlineQueryResultArticle(
        id=f"room:{room.code}",
        title=_("Watch together"),
        description=room.title,
        input_message_content=InputTextMessageContent(
            message_text=_("🎬 Let's watch together: <b>{title}</b>").format(
                title=html.escape(room.title)
            ),
        ),
        reply_markup=room_link_keyboard(settings, bot_username, room.code, invite),
    )


async def inline_query(
    query: InlineQuery, bot: Bot, user: User, services: Services, bot_info: dict[str, Any]
) -> None:
    text = query.query.strip()
    rooms: list[Room] = []
    try:
        if not text:
            rooms = (await get_user_rooms(user))[:RESULTS_MAX]
        elif (code := room_code_of(text)) is not None:
            room = await _visible_room(code, user)
            rooms = [room] if room is not None else []
        else:
            source = parse_media_url(text)  # ValidationError while the link is incomplete
            room = await do_create_room_for_link(services, acting_user=user, url=source.url)
            rooms = [room] if room is not None else []
    except RateLimited:
        log.info("inline room creation rate-limited for user %s", user.id)
    except AppError:
        pass  # not a link (yet): no results, the user keeps typing
    username = await get_bot_username(bot, bot_info)
    await query.answer(
        [room_article(room, services.settings, username) for room in rooms],
        cache_time=0,
        is_personal=True,
    )


def setup() -> Router:
    router = Router(name=__name__)
    router.inline_query.register(inline_query)
    return router
