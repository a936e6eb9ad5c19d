"""Domain events → Telegram: the group status message of a room, and invite messages.

``services`` publish events on the in-process bus; :class:`Notifier` subscribes once per process
that runs the bot (every process that serves HTTP may publish, so each one notifies for its own
events). Telegram is slow and limited, so nothing here runs inside the publisher's await: work is
handed to ``services.scheduler`` and failures are logged, never raised.

Group status message: a room created by ``/watch`` in a group has a bot message there
(``Room.chat_message_id``) that shows "5 watching · now: <title>". Telegram allows about 20
messages a minute per group (edits included), so edits are throttled per room: at most one every
:data:`GROUP_STATUS_INTERVAL` seconds, bursts coalesce into one edit, and the edit renders the
room as it is when the edit runs, so the last state always lands.
"""

from __future__ import annotations

import html
import logging
import time
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _

from bot.keyboards import get_bot_username, open_room_keyboard, room_link_keyboard
from models.rooms import Room
from services.accounts.users import get_user, pick_language
from services.core.config import Settings
from services.core.context import Services
from services.core.events import Event
from services.rooms.membership import count_members, do_set_group_message, get_group_status_room

log = logging.getLogger(__name__)

GROUP_STATUS_INTERVAL = 3.0
"""Seconds between two edits of one group's status message (20 a minute at most)."""

#: Events after which a room's group status message may read differently.
GROUP_STATUS_EVENTS = (
    "participant:joined",
    "participant:left",
    "room:state",
    "room:updated",
    "queue:updated",
    "room:closed",
)
STATE_TTL = 3600.0


def render_group_status(room: Room, watching: int) -> str:
    """The status text, in the current locale (HTML)."""
    title = f"🎬 <b>{html.escape(room.title)}</b>"
    if room.closed_at is not None:
        return f"{title}\n{_('The room is closed.')}"
    line = ngettext("{count} watching", "{count} watching", watching).format(count=watching)
    if room.current_title:
        line += " · " + _("now: {title}").format(title=html.escape(room.current_title))
    return f"{title}\n{line}"


async def group_status_message(
    room: Room, settings: Settings, bot_username: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Text and keyboard of a room's group message; a closed room loses its button."""
    text = render_group_status(room, await count_members(room))
    if room.closed_at is not None:
        return text, None
    return text, room_link_keyboard(settings, bot_username, room.code)


def _at_key(room_id: int) -> str:
    return f"group-status:at:{room_id}"


def _text_key(room_id: int) -> str:
    return f"group-status:text:{room_id}"


class Notifier:
    def __init__(
        self,
        services: Services,
        bot: Bot,
        i18n: I18n,
        bot_info: dict[str, Any],
        *,
        interval: float | None = None,
    ) -> None:
        self.services = services
        self.bot = bot
        self.i18n = i18n
        self.bot_info = bot_info
        self.interval = GROUP_STATUS_INTERVAL if interval is None else interval

    def subscribe(self) -> None:
        for event_type in GROUP_STATUS_EVENTS:
            self.services.events.subscribe(event_type, self._on_room_event)
        self.services.events.subscribe("room:invited", self._on_invited)

    # ----------------------------------------------------------------- group status

    async def _on_room_event(self, event: Event) -> None:
        room_id = event.payload.get("roomId")
        if isinstance(room_id, int):
            await self.schedule_group_status(room_id)

    async def schedule_group_status(self, room_id: int) -> None:
        """Edit the room's group message soon; a pending edit already covers this change."""
        key = f"group-status:{room_id}"
        scheduler = self.services.scheduler
        if scheduler.pending(key):
            return
        last = await self.services.state.get(_at_key(room_id))
        delay = max(0.0, float(last) + self.interval - time.time()) if last else 0.0
        scheduler.call_later(key, delay, lambda: self.update_group_status(room_id))

    async def posted_group_status(self, room: Room, text: str) -> None:
        """Called by ``/watch`` after posting: the post counts towards the group's limit."""
        await self.services.state.set(_at_key(room.id), str(time.time()), ttl=STATE_TTL)
        await self.services.state.set(_text_key(room.id), text, ttl=STATE_TTL)

    async def update_group_status(self, room_id: int) -> None:
        room = await get_group_status_room(room_id)
        if room is None:
            return
        state = self.services.state
        # Stamp before the call: events arriving meanwhile schedule the next edit an interval on.
        await state.set(_at_key(room_id), str(time.time()), ttl=STATE_TTL)
        with self.i18n.context(), self.i18n.use_locale(pick_language(room.host)):
            username = await get_bot_username(self.bot, self.bot_info)
            text, markup = await group_status_message(room, self.services.settings, username)
        if await state.get(_text_key(room_id)) == text:
            return  # nothing visible changed (a seek, a pause...)
        try:
            await self.bot.edit_message_text(
                text=text,
                chat_id=room.chat_id,
                message_id=room.chat_message_id,
                reply_markup=markup,
            )
        except TelegramRetryAfter as exc:
            log.warning("room %s: group status edit flood-limited; retrying later", room_id)
            self.services.scheduler.call_later(
                f"group-status:{room_id}",
                exc.retry_after,
                lambda: self.update_group_status(room_id),
            )
            return
        except TelegramBadRequest as exc:
            if "message is not modified" not in exc.message:
                # Deleted by an admin, or the chat is gone: stop editing it.
                log.info("room %s: group status message gone: %s", room_id, exc.message)
                await do_set_group_message(room_id, None)
                return
        except TelegramForbiddenError as exc:
            log.info("room %s: removed from the group: %s", room_id, exc.message)
            await do_set_group_message(room_id, None)
            return
        await state.set(_text_key(room_id), text, ttl=STATE_TTL)

    # ----------------------------------------------------------------- invites

    async def _on_invited(self, event: Event) -> None:
        payload = event.payload
        if not payload.get("inviteeTelegramId"):
            return  # an account without Telegram: the in-app notification is all there is
        # services.rooms.membership.do_invite publishes one event per (room, invitee) an hour
        # and limits invites per inviter and per invitee; this key also folds a burst of events
        # for one (room, invitee) in this process into one message.
        key = f"invite:{payload.get('roomId')}:{payload.get('inviteeId')}"
        self.services.scheduler.call_later(key, 0, lambda: self.send_invite(payload))

    async def send_invite(self, payload: dict[str, Any]) -> None:
        telegram_id = int(payload["inviteeTelegramId"])
        invitee = await get_user(payload.get("inviteeId"))
        inviter = payload.get("from") or {}
        name = inviter.get("displayName") or inviter.get("username") or "Vmeste"
        with self.i18n.context(), self.i18n.use_locale(pick_language(invitee)):
            text = _("{name} invites you to watch together: <b>{title}</b>").format(
                name=html.escape(str(name)), title=html.escape(str(payload.get("roomTitle")))
            )
            markup = open_room_keyboard(
                self.services.settings, str(payload["roomCode"]), payload.get("inviteCode")
            )
        try:
            await self.bot.send_message(chat_id=telegram_id, text=text, reply_markup=markup)
        except (TelegramForbiddenError, TelegramBadRequest) as exc:
            # Blocked the bot, or never started it: the in-app notification still shows.
            log.info("invite to %s not delivered: %s", telegram_id, exc.message)
        except TelegramAPIError as exc:
            log.warning("invite to %s failed: %s", telegram_id, exc)
