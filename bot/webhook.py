"""The webhook route: check Telegram's secret token, drop repeated updates, hand over to aiogram."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging

from aiohttp import web

from webapp.keys import BOT, DISPATCHER, SERVICES

log = logging.getLogger(__name__)
UPDATE_DEDUPE_TTL = 24 * 3600.0
PENDING: web.AppKey[set[asyncio.Task[object]]] = web.AppKey("webhook_tasks")


async def webhook(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    secret = services.settings.webhook_secret
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if secret is None or not hmac.compare_digest(given, secret.get_secret_value()):
        return web.json_response({"ok": False}, status=401)
    try:
        update = json.loads(await request.read())
        update_id = int(update["update_id"])
    except (ValueError, KeyError, TypeError):
        return web.json_response({"ok": False}, status=400)
    # Telegram re-delivers an update when our answer is slow or lost; any process may get it.
    if not await services.state.set_if_absent(f"tg-update:{update_id}", "1", ttl=UPDATE_DEDUPE_TTL):
        return web.json_response({"ok": True, "duplicate": True})
    task = asyncio.create_task(
        request.app[DISPATCHER].feed_raw_update(request.app[BOT], update)  # type: ignore[union-attr]
    )
    pending = request.app[PENDING]
    pending.add(task)
    task.add_done_callback(pending.discard)
    return web.json_response({"ok": True})


async def _drain(app: web.Application) -> None:
    if app[PENDING]:
        await asyncio.wait(app[PENDING], timeout=5)


def setup_webhook_route(app: web.Application, path: str) -> None:
    app[PENDING] = set()
    app.router.add_post(path, webhook, name="telegram_webhook")
    app.on_shutdown.append(_drain)
