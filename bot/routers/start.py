"""/start: the greeting with the Mini App button, and /start <payload> deep links."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import MenuButtonWebApp, Message, WebAppInfo
from aiogram.utils.i18n import gettext as _

from bot.deeplinks import DeepLinks
from bot.keyboards import open_app_keyboard
from models.users import User
from services.context import Services

router = Router(name=__name__)
log = logging.getLogger(__name__)


async def send_greeting(message: Message, user: User, services: Services) -> None:
    await message.answer(
        _(
            "Hi, {name}! Vmeste lets you watch videos together, chat and call with friends "
            "right inside Telegram. Tap the button to open the app."
        ).format(name=user.display_name),
        reply_markup=open_app_keyboard(services.settings),
    )


@router.message(CommandStart(deep_link=True), F.chat.type == "private")
async def start_with_payload(
    message: Message,
    command: CommandObject,
    user: User,
    services: Services,
    deep_links: DeepLinks,
    **data: Any,
) -> None:
    resolved = deep_links.resolve(command.args or "")
    if resolved is None:
        await message.answer(
            _("That link is not valid or has expired. Here is the app instead."),
            reply_markup=open_app_keyboard(services.settings),
        )
        return
    handler, argument = resolved
    await handler(message, user, argument, {"services": services, **data})


@router.message(CommandStart(), F.chat.type == "private")
async def start(message: Message, bot: Bot, user: User, services: Services) -> None:
    await send_greeting(message, user, services)
    settings = services.settings
    if settings.public_url.startswith("https://"):
        await bot.set_chat_menu_button(
            chat_id=message.chat.id,
            menu_button=MenuButtonWebApp(
                text=_("Open"), web_app=WebAppInfo(url=f"{settings.public_url}/app")
            ),
        )
