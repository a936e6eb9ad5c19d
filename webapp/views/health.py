"""GET /api/health: is the database reachable, is Redis (when configured), is the bot on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable

from aiohttp import web

from services.core.db import database_ok
from webapp.keys import BOT_ENABLED, SERVICES

#: A dependency that does not answer within this many seconds counts as down.
CHECK_TIMEOUT = 2.0


async def _check(probe: Awaitable[bool]) -> tuple[bool, float]:
    """Run one probe with a deadline: (ok, latency in ms). A hung server is a down server."""
    started = time.perf_counter()
    try:
        ok = await asyncio.wait_for(probe, CHECK_TIMEOUT)
    except TimeoutError:
        ok = False
    return ok, round((time.perf_counter() - started) * 1000, 2)


async def health(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    db_ok, db_ms = await _check(database_ok())
    redis: dict[str, object]
    if services.settings.redis_url:
        redis_ok, redis_ms = await _check(services.state.ping())
        redis = {"status": "ok" if redis_ok else "down", "latencyMs": redis_ms}
    else:
        redis = {"status": "disabled"}
    healthy = db_ok and redis["status"] != "down"
    body = {
        "status": "ok" if healthy else "degraded",
        "database": {"status": "ok" if db_ok else "down", "latencyMs": db_ms},
        "redis": redis,
        "bot": {
            "status": "on" if request.app[BOT_ENABLED] else "off",
            "mode": services.settings.bot_mode,
        },
    }
    return web.json_response(body, status=200 if healthy else 503)
