"""Inline mode: ``@bot <link or room code>`` in any chat offers "Watch together" with a join link.

A link creates the room while the user is still choosing, because the posted message's button
must already carry the room code (changing it afterwards needs inline feedback, which Telegram
delivers only when enabled in @BotFather and may sample). Typing must not create a room per
keystroke, so creation is deduplicated per user and link (the same link reuses the same open
room for an hour), serialized per user, and rate limited; an empty query lists the user's open
rooms instead.
"""

from __future__ import annotations

import hashlib
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
from services.rooms.membership import do_create_room, get_user_rooms

log = logging.getLogger(__name__)

INLINE_ROOM_TTL = 3600.0
"""Seconds during which the same link from the same user reuses the room it created."""
INLINE_CREATE_RATE = "10/10minutes"
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


async def _room_for_link(services: Services, user: User, url: str) -> Room | None:
    """The room this user's link made recently, or a new one (None while another is in flight)."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:24]
    key = f"inline-room:{user.id}:{digest}"
    state = services.state
    known = await state.get(key)
    if known is not None:
        room = await Room.get_or_none(code=known, closed_at=None)
        if room is not None:
            return room
    lock = f"inline-room-lock:{user.id}"
    if not await state.set_if_absent(lock, "1", ttl=15):
        return None  # the previous keystroke is still creating; the next query will find it
    try:
        await services.limiter.hit(INLINE_CREATE_RATE, "inline-room", str(user.id))
        room = await do_create_room(services, acting_user=user, media_url=url)
        await state.set(key, room.code, ttl=INLINE_ROOM_TTL)
        return room
    finally:
        await state.delete(lock)


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
            room = await _room_for_link(services, user, source.url)
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
