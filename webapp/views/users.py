"""GET /api/users/me, GET /api/users/search, PATCH /api/users/me (language)."""

from __future__ import annotations

from aiohttp import web

from services.accounts import users
from services.accounts.contract import UpdateMeBody
from webapp.http import parse_body, requester


async def me(request: web.Request) -> web.Response:
    user = await requester(request)
    return web.json_response({"user": users.user_payload(user, private=True)})


async def update_me(request: web.Request) -> web.Response:
    user = await requester(request)
    body = await parse_body(request, UpdateMeBody)
    user = await users.do_set_language(user, body.language)
    return web.json_response({"user": users.user_payload(user, private=True)})


async def search(request: web.Request) -> web.Response:
    user = await requester(request)
    found = await users.get_search_users(request.query.get("query", ""), acting_user=user)
    return web.json_response({"users": [users.user_payload(u) for u in found]})
