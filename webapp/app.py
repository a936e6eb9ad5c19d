"""The one ``create_app`` factory: API, pages, static files, Socket.IO and the bot webhook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from services.core.context import Services
from webapp.i18n import load_translations
from webapp.keys import BOT, BOT_INFO, DISPATCHER, SERVICES, SIO, TRANSLATIONS
from webapp.middlewares import edge_middleware
from webapp.routes import setup_routes

ROOT = Path(__file__).resolve().parent.parent


class AccessLogger(AbstractAccessLogger):
    """Method, path without the query string, status and time: never tokens, initData or bodies."""

    def log(self, request: BaseRequest, response: StreamResponse, time_taken: float) -> None:
        self.logger.info(
            "%s %s %s %.1fms",
            request.method,
            request.path,
            response.status,
            time_taken * 1000,
        )


def _setup_templates(app: web.Application) -> None:
    translations = load_translations()
    app[TRANSLATIONS] = translations

    @jinja2.pass_context
    def gettext(context: Any, message: str, **params: Any) -> str:
        text = translations[context.get("locale", "en")].gettext(message)
        return text % params if params else text

    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(ROOT / "templates")),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
    )
    env.globals["_"] = gettext
    env.globals["gettext"] = gettext


def create_app(
    services: Services,
    *,
    bot: Any | None = None,
    dispatcher: Any | None = None,
    bot_info: dict[str, Any] | None = None,
) -> web.Application:
    from signaling.hub import close_connections, close_sio, create_sio

    settings = services.settings
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[edge_middleware],
    )
    app[SERVICES] = services
    app[BOT] = bot
    app[DISPATCHER] = dispatcher
    app[BOT_INFO] = bot_info or {}
    _setup_templates(app)
    setup_routes(app, static_dir=ROOT / "static", media_dir=settings.media_dir)
    if bot is not None and dispatcher is not None and settings.bot_mode == "webhook":
        from bot.webhook import setup_webhook_route

        setup_webhook_route(app, settings.webhook_path)
    sio = create_sio(services)
    sio.attach(app)
    app[SIO] = sio

    async def close_sockets(app: web.Application) -> None:
        await close_connections(sio)

    async def close_hub(app: web.Application) -> None:
        await close_sio(sio)

    app.on_shutdown.append(close_sockets)
    app.on_cleanup.append(close_hub)
    return app
