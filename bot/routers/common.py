"""/help, /language, /terms, /paysupport."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.keyboards import language_keyboard, open_app_keyboard_for, set_chat_menu
from models.users import User
from services.accounts.users import do_set_language, pick_language
from services.core.context import Services


async def help_command(message: Message, bot: Bot, services: Services) -> None:
    await message.answer(
        _(
            "<b>Vmeste</b> — watch together in Telegram.\n\n"
            "/start — open the app\n"
            "/watch &lt;link&gt; — watch a video together\n"
            "/rooms — my open rooms\n"
            "/buy — buy coins for gifts\n"
            "/balance — coins, beans and premium\n"
            "/premium — Vmeste Premium\n"
            "/language — change language\n"
            "/terms — terms of service\n"
            "/paysupport — help with payments"
        ),
        reply_markup=await open_app_keyboard_for(bot, message.chat, services.settings),
    )


async def language_command(message: Message, user: User) -> None:
    await message.answer(
        _("Choose your language:"), reply_markup=language_keyboard(pick_language(user))
    )


async def language_chosen(
    callback: CallbackQuery, bot: Bot, user: User, services: Services, i18n: I18n
) -> None:
    language = (callback.data or "").split(":", 1)[1]
    await do_set_language(user, language)  # ValidationError → the error router's alert
    with i18n.use_locale(language):
        text = _("Language set: English.")
        await callback.answer(text)
        message = callback.message
        if not isinstance(message, Message):  # too old to edit, or under an inline result
            return
        try:
            await message.edit_text(text, reply_markup=language_keyboard(language))
        except TelegramBadRequest as exc:
            # Pressing the language that is already set: nothing changed, nothing to redo.
            if "message is not modified" in exc.message:
                return
            raise
        if message.chat.type == "private":
            await set_chat_menu(bot, message.chat.id, services.settings)


async def terms_command(message: Message) -> None:
    await message.answer(
        _(
            "<b>Terms of service</b>\n\n"
            "Vmeste is provided as is. Be kind in rooms and chats; hosts and moderators may "
            "remove people who are not. Purchases are paid in Telegram Stars and deliver "
            "digital goods inside Vmeste at once; if something you paid for was not delivered, "
            "use /paysupport and we will fix it or refund it. We keep only what the service "
            "needs: your Telegram profile, your rooms and messages."
        )
    )


async def paysupport_command(message: Message) -> None:
    await message.answer(
        _(
            "<b>Payment support</b>\n\n"
            "Describe the problem in a reply to this message and include the date of the "
            "payment. We answer within 24 hours; Stars for goods that were not delivered are "
            "refunded. Refund requests are handled by support: ask here and an admin makes the "
            "refund."
        )
    )


def setup() -> Router:
    """A fresh router per dispatcher (a router can belong to one parent only)."""
    router = Router(name=__name__)
    router.message.register(help_command, Command("help"))
    router.message.register(language_command, Command("language"))
    router.callback_query.register(language_chosen, F.data.startswith("lang:"))
    router.message.register(terms_command, Command("terms"))
    router.message.register(paysupport_command, Command("paysupport"))
    return router
