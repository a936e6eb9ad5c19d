"""GET /api/health: is the database reachable, is Redis (when configured), is the bot on."""

from __future__ import annotations

import time

from aiohttp import web

from services.db import database_ok
from webapp.keys import BOT, SERVICES


async def health(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    started = time.perf_counter()
    db_ok = await database_ok()
    db_ms = round((time.perf_counter() - started) * 1000, 2)
    if services.settings.redis_url:
        redis: dict[str, object] = {"status": "ok" if await services.state.ping() else "down"}
    else:
        redis = {"status": "disabled"}
    healthy = db_ok and redis["status"] != "down"
    body = {
        "status": "ok" if healthy else "degraded",
        "database": {"status": "ok" if db_ok else "down", "latencyMs": db_ms},
        "redis": redis,
        "bot": {
            "status": "on" if request.app[BOT] is not None else "off",
            "mode": services.settings.bot_mode,
        },
    }
    return web.json_response(body, status=200 if healthy else 503)
