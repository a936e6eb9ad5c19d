"""Build the Bot and Dispatcher; configure commands, the menu button and the webhook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import BotCommand, MenuButtonWebApp, WebAppInfo
from aiogram.utils.i18n import I18n

from bot.deeplinks import DeepLinks
from bot.middlewares import UserI18nMiddleware, UserMiddleware
from bot.routers import common, deeplinks, errors, start
from services.config import Settings
from services.context import Services
from services.users import SUPPORTED_LANGUAGES

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"


def build_bot(settings: Settings) -> Bot:
    assert settings.bot_token is not None
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
        if settings.telegram_api_url
        else AiohttpSession()
    )
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def build_i18n() -> I18n:
    return I18n(path=LOCALES_DIR, default_locale="en", domain="messages")


def build_dispatcher(services: Services, bot_info: dict[str, Any]) -> Dispatcher:
    """``bot_info`` is filled by :func:`configure_bot` once getMe answers."""
    links = DeepLinks()
    deeplinks.register_builtin(links)
    dp = Dispatcher(services=services, bot_info=bot_info, deep_links=links)
    dp.update.outer_middleware(UserMiddleware())
    UserI18nMiddleware(build_i18n()).setup(dp)
    dp.include_routers(errors.router, start.router, common.router)
    return dp


def mini_app_url(settings: Settings, path: str = "/app") -> str:
    return f"{settings.public_url}{path}"


def web_app_allowed(settings: Settings) -> bool:
    """Telegram opens only HTTPS Mini Apps; in local HTTP development buttons fall back to URLs."""
    return settings.public_url.startswith("https://")


def _commands(language: str) -> list[BotCommand]:
    from aiogram.utils.i18n import gettext as _

    names = [
        ("start", _("Open Vmeste")),
        ("help", _("What the bot can do")),
        ("language", _("Change language")),
        ("terms", _("Terms of service")),
        ("paysupport", _("Payment support")),
    ]
    return [BotCommand(command=name, description=text) for name, text in names]


async def configure_bot(bot: Bot, settings: Settings, bot_info: dict[str, Any]) -> None:
    me = await bot.get_me()
    bot_info.update(id=me.id, username=me.username, first_name=me.first_name)
    i18n = build_i18n()
    with i18n.context():
        for language in SUPPORTED_LANGUAGES:
            with i18n.use_locale(language):
                commands = _commands(language)
            await bot.set_my_commands(
                commands, language_code=None if language == "en" else language
            )
        if web_app_allowed(settings):
            with i18n.use_locale("en"):
                from aiogram.utils.i18n import gettext as _

                text = _("Open")
            await bot.set_chat_menu_button(
                menu_button=MenuButtonWebApp(text=text, web_app=WebAppInfo(url=mini_app_url(settings)))
            )
    if settings.bot_mode == "webhook":
        assert settings.webhook_secret is not None
        await bot.set_webhook(
            url=f"{settings.public_url}{settings.webhook_path}",
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=[
                "message", "edited_message", "callback_query", "inline_query",
                "chosen_inline_result", "pre_checkout_query", "my_chat_member", "chat_member",
            ],
        )
    else:
        await bot.delete_webhook(drop_pending_updates=False)
