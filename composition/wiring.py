"""What the server assembles, in order: ports, services, feature reactions, bot, app, hub."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.utils.i18n import I18n
from aiohttp import web

from bot.setup import build_bot, build_dispatcher, build_i18n, build_ports
from bot.webhook import setup_webhook_route
from services.core.config import Settings
from services.core.context import Services
from services.rooms import subscribers as rooms_subscribers
from signaling.hub import close_connections, close_sio, create_sio
from webapp.app import create_app
from webapp.keys import SIO

#: Each feature's reactions to the others' events (``services/<feature>/subscribers.py``).
FEATURES = (rooms_subscribers.register,)


@dataclass
class Assembly:
    services: Services
    app: web.Application
    bot: Bot | None
    dispatcher: Dispatcher | None
    bot_info: dict[str, Any]


def build_services(
    settings: Settings, *, bot: Bot | None, bot_info: dict[str, Any], i18n: I18n
) -> Services:
    ports = build_ports(bot, settings, i18n, bot_info) if bot is not None else None
    services = Services.build(
        settings,
        channel_checker=ports.channel_checker if ports else None,
        share_preparer=ports.share_preparer if ports else None,
    )
    for register in FEATURES:
        register(services)
    return services


def assemble(settings: Settings) -> Assembly:
    bot_info: dict[str, Any] = {}
    bot = build_bot(settings) if settings.bot_enabled else None
    i18n = build_i18n()
    services = build_services(settings, bot=bot, bot_info=bot_info, i18n=i18n)
    dispatcher = None
    extra_routes = []
    if bot is not None:
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
