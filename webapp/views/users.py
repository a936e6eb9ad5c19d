"""GET /api/users/me (and /api/auth/me), GET /api/users/search, PATCH /api/users/me (language)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from models.users import User
from services.accounts import users
from services.accounts.contract import UpdateMeBody
from services.messenger.presence import is_online
from webapp.http import parse_body, requester
from webapp.keys import SERVICES


async def me_payload(request: web.Request, user: User) -> dict[str, Any]:
    """The signed-in user's own record (``Me``), their messenger presence included."""
    payload = users.user_payload(user, private=True)
    payload["isOnline"] = await is_online(request.app[SERVICES], user.id)
    return payload


async def me(request: web.Request) -> web.Response:
    """``GET /api/users/me`` and its alias ``GET /api/auth/me`` (seed 002)."""
    user = await requester(request)
    return web.json_response({"user": await me_payload(request, user)})


async def update_me(request: web.Request) -> web.Response:
    user = await requester(request)
    body = await parse_body(request, UpdateMeBody)
    user = await users.do_set_language(user, body.language)
    return web.json_response({"user": await me_payload(request, user)})


async def search(request: web.Request) -> web.Response:
    user = await requester(request)
    found = await users.get_search_users(request.query.get("query", ""), acting_user=user)
    return web.json_response({"users": [users.user_payload(u) for u in found]})
