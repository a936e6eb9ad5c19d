"""Build the Bot and Dispatcher; configure commands, the menu button and the webhook."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import BotCommand
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.channel import make_channel_checker
from bot.deeplinks import DeepLinks
from bot.keyboards import app_menu_button
from bot.middlewares import UserI18nMiddleware, UserMiddleware
from bot.notifications import Notifier
from bot.payments import BotStarsPayments, PaymentNotifier
from bot.retry import RetryAfterMiddleware
from bot.routers import common, deeplinks, errors, inline, payments, rooms, start
from bot.share import make_share_preparer
from services.accounts.users import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES
from services.core.config import Settings
from services.core.context import ChannelChecker, Services, SharePreparer, StarsPayments

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
#: Asked for explicitly: Telegram does not send ``chat_member`` unless it is listed.
WEBHOOK_UPDATES = (
    "message",
    "edited_message",
    "callback_query",
    "inline_query",
    "chosen_inline_result",
    "pre_checkout_query",
    "my_chat_member",
    "chat_member",
)


def build_bot(settings: Settings) -> Bot:
    assert settings.bot_token is not None
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
        if settings.telegram_api_url
        else AiohttpSession()
    )
    session.middleware(RetryAfterMiddleware())
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def build_i18n() -> I18n:
    return I18n(path=LOCALES_DIR, default_locale="en", domain="messages")


@dataclass(frozen=True)
class BotPorts:
    """What the bot lends the services (built before them, passed in by the composition root)."""

    share_preparer: SharePreparer
    channel_checker: ChannelChecker | None
    stars: StarsPayments


def build_ports(bot: Bot, settings: Settings, i18n: I18n, bot_info: dict[str, Any]) -> BotPorts:
    channel = settings.subscriber_channel_id
    return BotPorts(
        share_preparer=make_share_preparer(bot, settings, i18n, bot_info),
        channel_checker=make_channel_checker(bot, channel) if channel else None,
        stars=BotStarsPayments(bot),
    )


def build_dispatcher(
    services: Services, bot: Bot, bot_info: dict[str, Any], i18n: I18n
) -> Dispatcher:
    """``bot_info`` is filled by :func:`configure_bot` once getMe answers.

    This process also turns domain events into Telegram messages (invites, group status):
    every process that serves HTTP publishes events, whether or not it holds the polling lock.
    """
    links = DeepLinks()
    deeplinks.register_builtin(links)
    rooms.register_deep_links(links)
    dp = Dispatcher(services=services, bot_info=bot_info, deep_links=links)
    notifier = Notifier(services, bot, i18n, bot_info)
    notifier.subscribe()
    dp["notifier"] = notifier
    PaymentNotifier(services, bot, i18n).subscribe()
    dp.update.outer_middleware(UserMiddleware())
    UserI18nMiddleware(i18n).setup(dp)
    dp.include_routers(
        errors.setup(),
        start.setup(),
        rooms.setup(),
        inline.setup(),
        payments.setup(),
        common.setup(),
    )
    return dp


def _commands() -> list[BotCommand]:
    """The command menu in the current locale."""
    names = [
        ("start", _("Open Vmeste")),
        ("watch", _("Watch a video together: /watch <link>")),
        ("rooms", _("My open rooms")),
        ("buy", _("Buy coins for gifts")),
        ("balance", _("My coins and beans")),
        ("premium", _("Vmeste Premium")),
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
                commands = _commands()
            # The English list is the default for every client language without its own list.
            await bot.set_my_commands(
                commands, language_code=None if language == DEFAULT_LANGUAGE else language
            )
        with i18n.use_locale(DEFAULT_LANGUAGE):
            menu = app_menu_button(settings)
        if menu is not None:
            await bot.set_chat_menu_button(menu_button=menu)
    if settings.bot_mode == "webhook":
        assert settings.webhook_secret is not None
        await bot.set_webhook(
            url=f"{settings.public_url}{settings.webhook_path}",
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=list(WEBHOOK_UPDATES),
        )
    else:
        await bot.delete_webhook(drop_pending_updates=False)
