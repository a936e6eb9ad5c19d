"""Built-in deep links. Feature routers register their own prefixes the same way."""

from __future__ import annotations

from typing import Any

from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.deeplinks import DeepLinks
from bot.keyboards import open_app_keyboard
from bot.routers.start import send_greeting
from models.users import User
from services.accounts.users import SUPPORTED_LANGUAGES, do_set_language


async def language_link(message: Message, user: User, argument: str, data: dict[str, Any]) -> None:
    """``/start lang_ru``: links in a Russian channel open the bot, greeting and all, in Russian."""
    services = data["services"]
    if argument not in SUPPORTED_LANGUAGES:
        await message.answer(
            _("That link is not valid or has expired. Here is the app instead."),
            reply_markup=open_app_keyboard(services.settings),
        )
        return
    await do_set_language(user, argument)
    i18n: I18n = data["i18n"]
    with i18n.use_locale(argument):
        await send_greeting(message, user, services)


def register_builtin(links: DeepLinks) -> None:
    links.register("lang_", language_link)
