"""Mini App pages under /app, rendered by Jinja2 in the negotiated language."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from services.core.i18n import negotiate
from webapp.keys import BOT_INFO, SERVICES


def page_context(request: web.Request, **extra: Any) -> dict[str, Any]:
    settings = request.app[SERVICES].settings
    locale = negotiate(request.query.get("lang"), request.headers.get("Accept-Language"))
    bot_info = request.app[BOT_INFO]
    return {
        "locale": locale,
        "client_config": {
            "locale": locale,
            "publicUrl": settings.public_url,
            "botUsername": bot_info.get("username"),
            "telegramSignIn": settings.bot_enabled,
        },
        **extra,
    }


async def app_page(request: web.Request) -> web.Response:
    response = aiohttp_jinja2.render_template("app.html", request, page_context(request))
    # The language comes from Accept-Language unless ?lang= is given; Telegram's web views cache
    # eagerly, so have them ask again rather than open yesterday's page.
    response.headers["Vary"] = "Accept-Language"
    response.headers["Cache-Control"] = "no-cache"
    return response


async def root(request: web.Request) -> web.Response:
    raise web.HTTPFound("/app")


async def room_page(request: web.Request) -> web.Response:
    """A room opened by link: the same shell, which shows the room once signed in."""
    return await app_page(request)
