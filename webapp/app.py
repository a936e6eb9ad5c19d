"""The one ``create_app`` factory: API, pages and static files (the composition root attaches
the Socket.IO hub and, in webhook mode, the bot's route)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import hdrs, web
from aiohttp import web_response as _aiohttp_web_response
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from services.core.context import Services
from services.core.i18n import load_translations
from webapp.keys import BOT_ENABLED, BOT_INFO, SERVICES, TRANSLATIONS
from webapp.middlewares import DROPPED, edge_middleware
from webapp.routes import setup_routes

ROOT = Path(__file__).resolve().parent.parent
#: The ``Server`` header: no library or Python versions for scanners to match.
SERVER_NAME = "vmeste"


async def _server_header(request: web.Request, response: StreamResponse) -> None:
    response.headers[hdrs.SERVER] = SERVER_NAME


def _hide_server_software() -> None:
    """Responses aiohttp makes before any app code runs (a malformed request line or header
    gets its 400 from the protocol, with no route and so no ``on_response_prepare``) take the
    default ``Server`` header from this module global (``setdefault`` in
    ``StreamResponse._prepare_headers``); the client's ``User-Agent`` has its own copy."""
    _aiohttp_web_response.SERVER_SOFTWARE = SERVER_NAME  # type: ignore[attr-defined]


class AccessLogger(AbstractAccessLogger):
    """Method, path without the query string, status and time: never tokens, initData or bodies."""

    def log(self, request: BaseRequest, response: StreamResponse, time_taken: float) -> None:
        if request.get(DROPPED):
            return  # a dropped client: webapp.middlewares logged its one line
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
    bot_enabled: bool = False,
    bot_info: dict[str, Any] | None = None,
    extra_routes: Sequence[Callable[[web.Application], None]] = (),
) -> web.Application:
    """The web side of the process. ``extra_routes`` come from the composition root (the bot's
    webhook route), so this package never imports the bot."""
    settings = services.settings
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[edge_middleware],
    )
    _hide_server_software()
    app.on_response_prepare.append(_server_header)
    app[SERVICES] = services
    app[BOT_ENABLED] = bot_enabled
    app[BOT_INFO] = bot_info or {}
    _setup_templates(app)
    setup_routes(app, static_dir=ROOT / "static", media_dir=settings.media_dir)
    for add_routes in extra_routes:
        add_routes(app)
    return app
