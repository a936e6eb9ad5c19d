"""Typed application keys: how handlers reach the per-app objects (no module globals)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from services.core.context import Services

if TYPE_CHECKING:
    from socketio import AsyncServer

SERVICES: web.AppKey[Services] = web.AppKey("services", Services)
SIO: web.AppKey[AsyncServer] = web.AppKey("sio")
#: Is the bot on in this process (health says so)?
BOT_ENABLED: web.AppKey[bool] = web.AppKey("bot_enabled", bool)
BOT_INFO: web.AppKey[dict[str, Any]] = web.AppKey("bot_info")
TRANSLATIONS: web.AppKey[Any] = web.AppKey("translations")
