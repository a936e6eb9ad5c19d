"""Built-in deep links. Feature routers register their own prefixes the same way."""

from __future__ import annotations

from typing import Any

from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.deeplinks import DeepLinks
from bot.keyboards import open_app_keyboard
from models.users import User
from services.errors import ValidationError
from services.users import do_set_language


async def language_link(message: Message, user: User, argument: str, data: dict[str, Any]) -> None:
    """``/start lang_ru``: links in a Russian channel open the bot in Russian."""
    try:
        await do_set_language(user, argument)
    except ValidationError:
        await message.answer(_("That link is not valid or has expired. Here is the app instead."))
        return
    i18n: I18n = data["i18n"]
    with i18n.use_locale(argument):
        await message.answer(
            _("Language set: English."), reply_markup=open_app_keyboard(data["services"].settings)
        )


def register_builtin(links: DeepLinks) -> None:
    links.register("lang_", language_link)
