"""Watch rooms from the bot: ``/watch <link>``, ``/rooms`` and ``/start room_<code>[_<invite>]``.

In a private chat the room opens through a ``web_app`` button; in a group (where Telegram refuses
``web_app`` buttons) the bot posts a status message with a t.me ``startapp`` link, which
:class:`bot.notifications.Notifier` keeps up to date.
"""

from __future__ import annotations

import html
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.deeplinks import DeepLinks
from bot.keyboards import (
    get_bot_username,
    open_app_button,
    open_app_keyboard,
    open_room_keyboard,
    room_app_path,
)
from bot.notifications import Notifier, group_status_message
from models.rooms import Visibility
from models.users import User
from services.core.context import Services
from services.core.errors import NotFound
from services.core.links import parse_room_param
from services.rooms.access import access_room
from services.rooms.membership import (
    do_create_room,
    do_join_room,
    do_set_group_message,
    get_user_rooms,
)

ROOMS_SHOWN = 10


def usage_text() -> str:
    return _(
        "Send <code>/watch &lt;link&gt;</code> with a YouTube, Vimeo, Twitch or direct video "
        "link, and I will open a room where everyone watches it in sync.\n\n"
        "Example: <code>/watch https://youtu.be/dQw4w9WgXcQ</code>"
    )


async def watch_command(
    message: Message,
    bot: Bot,
    command: CommandObject,
    services: Services,
    bot_info: dict[str, Any],
    notifier: Notifier | None = None,
    user: User | None = None,
) -> None:
    link = (command.args or "").strip()
    if not link:
        await message.answer(usage_text())
        return
    if user is None:  # sent "as the group" by an anonymous admin: nobody to make the host
        await message.answer(_("Send /watch from your own account to host a room."))
        return
    settings = services.settings
    group = message.chat.type != "private"
    room = await do_create_room(
        services,
        acting_user=user,
        media_url=link,  # ValidationError for an unsupported link → the error router's reply
        chat_id=message.chat.id if group else None,
    )
    if not group:
        await message.answer(
            _(
                "Your room is ready: <b>{title}</b>\n"
                "Open it, then invite friends: everyone watches in sync."
            ).format(title=html.escape(room.title)),
            reply_markup=open_room_keyboard(settings, room.code, share=True),
        )
        return
    await room.refresh_from_db()  # the first queue item may have set what is playing
    text, markup = await group_status_message(room, settings, await get_bot_username(bot, bot_info))
    sent = await message.answer(text, reply_markup=markup)
    await do_set_group_message(room.id, sent.message_id)
    if notifier is not None:
        await notifier.posted_group_status(room, text)
        # Someone may have joined before the message id was stored: catch up (no-op if not).
        await notifier.schedule_group_status(room.id)


async def rooms_command(message: Message, user: User, services: Services) -> None:
    rooms = await get_user_rooms(user)
    if not rooms:
        await message.answer(
            _("You are not in any open room. Start one with <code>/watch &lt;link&gt;</code>.")
        )
        return
    shown = rooms[:ROOMS_SHOWN]
    lines = [_("<b>Your open rooms</b>")]
    for room in shown:
        line = f"• {html.escape(room.title)}"
        if room.host_id == user.id:
            line += " " + _("(host)")
        lines.append(line)
    if len(rooms) > len(shown):
        lines.append(_("…and {count} more in the app.").format(count=len(rooms) - len(shown)))
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [open_app_button(services.settings, room.title, room_app_path(room.code))]
            for room in shown
        ]
    )
    await message.answer("\n".join(lines), reply_markup=keyboard)


async def room_link(message: Message, user: User, argument: str, data: dict[str, Any]) -> None:
    """``/start room_<code>`` or ``room_<code>_<inviteCode>``: join and offer the room."""
    services: Services = data["services"]
    settings = services.settings
    link = parse_room_param(f"room_{argument}")
    if link is None:
        await message.answer(
            _("That link is not valid or has expired. Here is the app instead."),
            reply_markup=open_app_keyboard(settings),
        )
        return
    try:
        room = await access_room(link.code)
    except NotFound:
        await message.answer(
            _("This room does not exist or has been closed."),
            reply_markup=open_app_keyboard(settings),
        )
        return
    # Private rooms, bans and the size limit are checked here; errors → the error router.
    await do_join_room(services, room=room, acting_user=user, invite_code=link.invite_code)
    private = room.visibility == Visibility.PRIVATE
    await message.answer(
        _("You are in <b>{title}</b>. Tap the button to watch.").format(
            title=html.escape(room.title)
        ),
        reply_markup=open_room_keyboard(settings, room.code, room.invite_code if private else None),
    )


def register_deep_links(links: DeepLinks) -> None:
    links.register("room_", room_link)


def setup() -> Router:
    """A fresh router per dispatcher (a router can belong to one parent only)."""
    router = Router(name=__name__)
    router.message.register(watch_command, Command("watch"))
    router.message.register(rooms_command, Command("rooms"), F.chat.type == "private")
    return router
