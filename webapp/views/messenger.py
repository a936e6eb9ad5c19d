"""The messenger over REST (docs/messenger.md): chats, their members, history, device keys.

Every rule lives in ``services.messenger``; these views parse, resolve the requester, call one
service function and render its result.
"""

from __future__ import annotations

from aiohttp import web

from services.core.errors import ValidationError
from services.messenger import chats, keys, messages
from services.messenger.contract import (
    AddMemberBody,
    CreateChatBody,
    PublicKeyBody,
    UpdateChatBody,
)
from webapp.http import int_param, parse_body, requester
from webapp.keys import SERVICES

OK = {"ok": True}


async def create_chat(request: web.Request) -> web.Response:
    user = await requester(request)
    body = await parse_body(request, CreateChatBody)
    services = request.app[SERVICES]
    chat, created = await chats.do_create_chat(
        services,
        acting_user=user,
        user_id=body.user_id,
        member_ids=body.member_ids,
        title=body.title,
    )
    shown = await chats.get_chat(services, user, chat.id)
    return web.json_response({"chat": shown}, status=201 if created else 200)


async def list_chats(request: web.Request) -> web.Response:
    user = await requester(request)
    return web.json_response({"chats": await chats.get_chats(request.app[SERVICES], user)})


async def chat_detail(request: web.Request) -> web.Response:
    user = await requester(request)
    shown = await chats.get_chat(request.app[SERVICES], user, int_param(request, "id"))
    return web.json_response({"chat": shown})


async def update_chat(request: web.Request) -> web.Response:
    user = await requester(request)
    body = await parse_body(request, UpdateChatBody)
    services = request.app[SERVICES]
    chat = await chats.do_update_chat(
        services,
        acting_user=user,
        chat_id=int_param(request, "id"),
        title=body.title,
        muted=body.muted,
    )
    return web.json_response({"chat": await chats.get_chat(services, user, chat.id)})


async def add_member(request: web.Request) -> web.Response:
    user = await requester(request)
    body = await parse_body(request, AddMemberBody)
    services = request.app[SERVICES]
    chat = await chats.do_add_member(
        services, acting_user=user, chat_id=int_param(request, "id"), user_id=body.user_id
    )
    return web.json_response({"chat": await chats.get_chat(services, user, chat.id)})


async def remove_member(request: web.Request) -> web.Response:
    user = await requester(request)
    await chats.do_remove_member(
        request.app[SERVICES],
        acting_user=user,
        chat_id=int_param(request, "id"),
        user_id=int_param(request, "user_id"),
    )
    return web.json_response(OK)


async def list_messages(request: web.Request) -> web.Response:
    user = await requester(request)
    chat_id = int_param(request, "chatId")
    if chat_id is None:
        raise ValidationError("Missing required field: {field}.", field="chatId", reason="required")
    found, more = await messages.get_messages(
        user,
        chat_id=chat_id,
        before=int_param(request, "before"),
        limit=int_param(request, "limit", messages.HISTORY_LIMIT),
    )
    return web.json_response({"messages": found, "hasMore": more})


async def register_key(request: web.Request) -> web.Response:
    user = await requester(request)
    body = await parse_body(request, PublicKeyBody)
    key = await keys.do_register_key(
        request.app[SERVICES],
        acting_user=user,
        device_id=body.device_id,
        public_key=body.public_key,
    )
    return web.json_response({"key": keys.key_payload(key)})


async def user_keys(request: web.Request) -> web.Response:
    user = await requester(request)
    user_id = int_param(request, "user_id")
    found = await keys.get_keys(user, user_id=user_id)
    return web.json_response({"userId": user_id, "keys": found})
