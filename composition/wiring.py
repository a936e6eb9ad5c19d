"""What the server assembles, in order: ports, services, feature reactions, bot, app, hub."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from services.core.config import Settings
from services.core.context import Services
from services.messenger import subscribers as messenger_subscribers
from services.rooms import subscribers as rooms_subscribers
from signaling.hub import close_connections, close_sio, create_sio
from webapp.app import create_app
from webapp.keys import SIO

if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher
    from aiogram.utils.i18n import I18n

#: Each feature's reactions to the others' events (``services/<feature>/subscribers.py``).
FEATURES = (rooms_subscribers.register, messenger_subscribers.register)


@dataclass
class Assembly:
    services: Services
    app: web.Application
    bot: Bot | None
    dispatcher: Dispatcher | None
    bot_info: dict[str, Any]


def build_services(
    settings: Settings, *, bot: Bot | None, bot_info: dict[str, Any], i18n: I18n | None
) -> Services:
    ports = None
    if bot is not None and i18n is not None:
        from bot.setup import build_ports

        ports = build_ports(bot, settings, i18n, bot_info)
    services = Services.build(
        settings,
        channel_checker=ports.channel_checker if ports else None,
        share_preparer=ports.share_preparer if ports else None,
        stars=ports.stars if ports else None,
    )
    for register in FEATURES:
        register(services)
    return services


def assemble(settings: Settings) -> Assembly:
    bot_info: dict[str, Any] = {}
    bot = i18n = None
    if settings.bot_enabled:
        # aiogram costs ~2.5 s and ~110 MiB to import: a web-only start never pays it.
        from bot.setup import build_bot, build_i18n

        bot, i18n = build_bot(settings), build_i18n()
    services = build_services(settings, bot=bot, bot_info=bot_info, i18n=i18n)
    dispatcher = None
    extra_routes = []
    if bot is not None and i18n is not None:
        from bot.setup import build_dispatcher
        from bot.webhook import setup_webhook_route

        dispatcher = build_dispatcher(services, bot, bot_info, i18n)
        if settings.bot_mode == "webhook":
            hooked_bot, hooked_dp = bot, dispatcher
            extra_routes.append(
                lambda app: setup_webhook_route(
                    app,
                    settings.webhook_path,
                    services=services,
                    bot=hooked_bot,
                    dispatcher=hooked_dp,
                )
            )
    app = create_app(
        services, bot_enabled=bot is not None, bot_info=bot_info, extra_routes=extra_routes
    )
    attach_hub(app, services)
    return Assembly(services, app, bot, dispatcher, bot_info)


def attach_hub(app: web.Application, services: Services) -> None:
    """The Socket.IO hub on the same app; its sockets close before the web server stops."""
    sio = create_sio(services)
    sio.attach(app)
    app[SIO] = sio

    async def close_sockets(app: web.Application) -> None:
        await close_connections(sio)

    async def close_hub(app: web.Application) -> None:
        await close_sio(sio)

    app.on_shutdown.append(close_sockets)
    app.on_cleanup.append(close_hub)
