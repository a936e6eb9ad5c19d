"""/start: the greeting with the Mini App button, and /start <payload> deep links."""

from __future__ import annotations

import html
import logging
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.deeplinks import DeepLinks
from bot.keyboards import open_app_keyboard, set_chat_menu
from models.users import User
from services.accounts.users import pick_language
from services.core.context import Services

log = logging.getLogger(__name__)


async def send_greeting(message: Message, user: User, services: Services) -> None:
    await message.answer(
        _(
            "Hi, {name}! Vmeste lets you watch videos together, chat and call with friends "
            "right inside Telegram. Tap the button to open the app."
        ).format(name=html.escape(user.display_name)),
        reply_markup=open_app_keyboard(services.settings),
    )


async def start_with_payload(
    message: Message,
    bot: Bot,
    command: CommandObject,
    user: User,
    services: Services,
    deep_links: DeepLinks,
    i18n: I18n,
    **data: Any,
) -> None:
    resolved = deep_links.resolve(command.args or "")
    if resolved is None:
        # Telegram clients only send valid payloads, but anyone can type "/start <anything>".
        log.info("unknown /start payload from %s", message.chat.id)
        await message.answer(
            _("That link is not valid or has expired. Here is the app instead."),
            reply_markup=open_app_keyboard(services.settings),
        )
    else:
        handler, argument = resolved
        await handler(message, user, argument, {"services": services, "i18n": i18n, **data})
    # The link handler may have changed the language: label the menu in the current one.
    with i18n.use_locale(pick_language(user)):
        await set_chat_menu(bot, message.chat.id, services.settings)


async def start(message: Message, bot: Bot, user: User, services: Services) -> None:
    await send_greeting(message, user, services)
    await set_chat_menu(bot, message.chat.id, services.settings)


def setup() -> Router:
    """A fresh router per dispatcher (a router can belong to one parent only)."""
    router = Router(name=__name__)
    private = F.chat.type == "private"
    router.message.register(start_with_payload, CommandStart(deep_link=True), private)
    router.message.register(start, CommandStart(), private)
    return router
