"""/help, /language, /terms, /paysupport."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.keyboards import language_keyboard, open_app_keyboard
from models.users import User
from services.context import Services
from services.users import do_set_language, pick_language

router = Router(name=__name__)


@router.message(Command("help"))
async def help_command(message: Message, services: Services) -> None:
    await message.answer(
        _(
            "<b>Vmeste</b> — watch together in Telegram.\n\n"
            "/start — open the app\n"
            "/language — change language\n"
            "/terms — terms of service\n"
            "/paysupport — help with payments"
        ),
        reply_markup=open_app_keyboard(services.settings),
    )


@router.message(Command("language"))
async def language_command(message: Message, user: User) -> None:
    await message.answer(
        _("Choose your language:"), reply_markup=language_keyboard(pick_language(user))
    )


@router.callback_query(F.data.startswith("lang:"))
async def language_chosen(callback: CallbackQuery, user: User, i18n: I18n) -> None:
    language = (callback.data or "").split(":", 1)[1]
    await do_set_language(user, language)
    with i18n.use_locale(language):
        text = _("Language set: English.")
        await callback.answer(text)
        if callback.message is not None and hasattr(callback.message, "edit_text"):
            await callback.message.edit_text(text, reply_markup=language_keyboard(language))


@router.message(Command("terms"))
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


@router.message(Command("paysupport"))
async def paysupport_command(message: Message) -> None:
    await message.answer(
        _(
            "<b>Payment support</b>\n\n"
            "Describe the problem in a reply to this message and include the date of the "
            "payment. We answer within 24 hours; Stars for goods that were not delivered are "
            "refunded."
        )
    )
