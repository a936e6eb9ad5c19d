"""The webhook route: check Telegram's secret token, drop repeated updates, hand over to aiogram."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from services.core.context import Services

log = logging.getLogger(__name__)
UPDATE_DEDUPE_TTL = 24 * 3600.0
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PENDING: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("webhook_tasks")
SERVICES: web.AppKey[Services] = web.AppKey("webhook_services", Services)
BOT: web.AppKey[Bot] = web.AppKey("webhook_bot", Bot)
DISPATCHER: web.AppKey[Dispatcher] = web.AppKey("webhook_dispatcher", Dispatcher)


def _secret_ok(given: str, expected: str) -> bool:
    # compare_digest refuses non-ASCII str; compare bytes so any header value is just "wrong".
    return hmac.compare_digest(
        given.encode("utf-8", "backslashreplace"), expected.encode("utf-8", "backslashreplace")
    )


def _parse_update(body: bytes, bot: Bot) -> Update | None:
    """The update, bound to ``bot`` (for ``message.answer()`` & co), or None if malformed."""
    try:
        raw: Any = json.loads(body)
    except ValueError:  # includes bad UTF-8
        return None
    if not isinstance(raw, dict):
        return None
    try:
        return Update.model_validate(raw, context={"bot": bot})
    except ValidationError:
        return None


async def webhook(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    secret = services.settings.webhook_secret
    given = request.headers.get(SECRET_HEADER, "")
    if secret is None or not _secret_ok(given, secret.get_secret_value()):
        return web.json_response({"ok": False}, status=401)
    bot = request.app[BOT]
    try:
        # HTTP_BODY_TIMEOUT, as webapp.http.read_body (only the secret's holder gets here).
        async with asyncio.timeout(services.settings.http_body_timeout):
            body = await request.read()
    except (TimeoutError, ConnectionError):
        log.info("%s %s: webhook body not received, dropped", request.method, request.path)
        response = web.json_response({"ok": False}, status=408)
        response.force_close()
        return response
    update = _parse_update(body, bot)
    if update is None:
        return web.json_response({"ok": False}, status=400)
    # Telegram re-delivers an update when our answer is slow or lost; any process may get it.
    key = f"tg-update:{update.update_id}"
    if not await services.state.set_if_absent(key, "1", ttl=UPDATE_DEDUPE_TTL):
        return web.json_response({"ok": True, "duplicate": True})
    # Answer at once and process in the background: Telegram waits for nobody.
    task = asyncio.create_task(_process(request.app, update))
    pending = request.app[PENDING]
    pending.add(task)
    task.add_done_callback(pending.discard)
    return web.json_response({"ok": True})


async def _process(app: web.Application, update: Update) -> None:
    bot, dispatcher = app[BOT], app[DISPATCHER]
    try:
        await dispatcher.feed_update(bot, update)
    except Exception:
        # The error router handles handler errors; this is a failure inside it or the middleware.
        log.exception("webhook update %s failed", update.update_id)


async def _drain(app: web.Application) -> None:
    if app[PENDING]:
        await asyncio.wait(app[PENDING], timeout=5)


def setup_webhook_route(
    app: web.Application, path: str, *, services: Services, bot: Bot, dispatcher: Dispatcher
) -> None:
    app[SERVICES], app[BOT], app[DISPATCHER] = services, bot, dispatcher
    app[PENDING] = set()
    app.router.add_post(path, webhook, name="telegram_webhook")
    app.on_shutdown.append(_drain)
