"""The OpenAPI 3.1 document of /api, generated from the contract models.

:data:`ROUTES` is the one table of what each route takes and answers (models from
``services/*/contract.py``); :func:`build_openapi` turns it into the document served at
``/api/openapi.json``. A test checks that every /api route is in the table and that real
responses match the document's schemas.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from services.accounts import contract as accounts
from services.core import contract as core
from services.messenger import contract as messenger
from services.rooms import contract as rooms
from services.wallet import contract as wallet

REF = "#/components/schemas/{model}"
Method = Literal["get", "post", "patch", "put", "delete"]


@dataclass(frozen=True)
class Route:
    """One operation. ``response=None``: any JSON object (the documents themselves)."""

    method: Method
    path: str
    summary: str
    response: type[BaseModel] | None
    status: int = 200
    body: type[BaseModel] | None = None
    body_required: bool = True
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    auth: bool = True
    #: Other documented answers: status -> (model, description), e.g. health's 503.
    also: tuple[tuple[int, type[BaseModel], str], ...] = ()


#: Path parameters by name: (description, schema).
PATH_PARAMS: dict[str, tuple[str, dict[str, Any]]] = {
    "id": ("A room's numeric id or its code; a chat's numeric id", {"type": "string"}),
    "user_id": ("A user id", {"type": "integer", "minimum": 1, "maximum": core.MAX_ID}),
    "order_id": (
        "An order id (from create-intent)",
        {"type": "string", "pattern": "^[0-9a-f]{32}$"},
    ),
}

_ROOM = "/api/rooms/{id}"
_CHAT = "/api/chats/{id}"

ROUTES: tuple[Route, ...] = (
    Route(
        "get",
        "/api/health",
        "Database, Redis and bot status",
        core.Health,
        auth=False,
        also=((503, core.Health, "The database or Redis is down"),),
    ),
    Route("get", "/api/openapi.json", "This document", None, auth=False),
    Route(
        "get",
        "/api/asyncapi.json",
        "The AsyncAPI 3.0 document of the Socket.IO events",
        None,
        auth=False,
    ),
    Route(
        "post",
        "/api/auth/register",
        "Sign up with email, username and password",
        accounts.Session,
        status=201,
        body=accounts.RegisterBody,
        errors=(400, 409, 413, 429),
        auth=False,
    ),
    Route(
        "post",
        "/api/auth/login",
        "Sign in with email and password",
        accounts.Session,
        body=accounts.LoginBody,
        errors=(400, 401, 413, 429),
        auth=False,
    ),
    Route(
        "post",
        "/api/auth/telegram",
        "Sign in with Telegram Mini App initData",
        accounts.Session,
        body=accounts.TelegramBody,
        errors=(400, 401, 413, 429),
        auth=False,
    ),
    Route(
        "post",
        "/api/auth/refresh",
        "A fresh access token for a valid, unrevoked one (same user, new expiry)",
        accounts.Session,
    ),
    Route(
        "post",
        "/api/auth/logout-all",
        "Sign out on every device: every token so far is refused, live sockets are closed"
        " (session:revoked)",
        core.Ok,
    ),
    Route("get", "/api/users/me", "The signed-in user", accounts.MeResponse),
    Route("get", "/api/auth/me", "The signed-in user (as /api/users/me)", accounts.MeResponse),
    Route(
        "patch",
        "/api/users/me",
        "Change the interface language",
        accounts.MeResponse,
        body=accounts.UpdateMeBody,
        errors=(400, 413),
    ),
    Route(
        "get",
        "/api/users/search",
        "Find people by username, name or exact email",
        accounts.UserList,
        query=accounts.UserSearchQuery,
        errors=(400,),
    ),
    Route(
        "post",
        "/api/rooms",
        "Create a watch room; the requester joins it as host",
        rooms.RoomResponse,
        status=201,
        body=rooms.CreateRoomBody,
        errors=(400, 413, 429),
    ),
    Route(
        "get",
        "/api/rooms",
        "Open public rooms, most watched first",
        rooms.RoomPage,
        query=rooms.RoomListQuery,
        errors=(400,),
    ),
    Route("get", "/api/rooms/mine", "Open rooms the requester is in", rooms.RoomList),
    Route(
        "get",
        _ROOM,
        "A room with its members, queue and playback "
        "(private rooms: members, invited people and invite code holders)",
        rooms.RoomDetail,
        query=rooms.RoomDetailQuery,
        errors=(400, 403, 404),
    ),
    Route(
        "patch",
        _ROOM,
        "Change settings: slow mode (host, moderators); the rest (host)",
        rooms.RoomResponse,
        body=rooms.SettingsBody,
        errors=(400, 403, 404, 413),
    ),
    Route(
        "post",
        f"{_ROOM}/join",
        "Join (idempotent); private rooms need an invite or the invite code",
        rooms.RoomResponse,
        body=rooms.JoinBody,
        body_required=False,
        errors=(400, 403, 404, 409, 413),
    ),
    Route(
        "post",
        f"{_ROOM}/leave",
        "Leave; when the host does not come back within the grace period, the room closes",
        core.Ok,
        errors=(404,),
    ),
    Route(
        "post",
        f"{_ROOM}/close",
        "Close the room for everyone (host only)",
        core.Ok,
        errors=(403, 404),
    ),
    Route(
        "post",
        f"{_ROOM}/share",
        "Prepare a Telegram message inviting to the room, for WebApp.shareMessage",
        rooms.PreparedShare,
        errors=(400, 403, 404, 429),
    ),
    Route(
        "post",
        f"{_ROOM}/kick/{{user_id}}",
        "Remove someone for good (host, moderators)",
        core.Ok,
        errors=(400, 403, 404),
    ),
    Route(
        "post",
        f"{_ROOM}/invite",
        "Invite someone: a bot message and an in-app room:invited (the same invite again "
        "within an hour: ok, nobody is notified again)",
        core.Ok,
        body=rooms.UserIdBody,
        errors=(400, 403, 404, 413, 429),
    ),
    Route(
        "post",
        f"{_ROOM}/handover",
        "Make another member the host; the old host becomes a moderator (host only)",
        rooms.RoomResponse,
        body=rooms.UserIdBody,
        errors=(400, 403, 404, 413),
    ),
    Route(
        "post",
        f"{_ROOM}/moderators/{{user_id}}",
        "Make a member a moderator (host only)",
        rooms.MemberResponse,
        errors=(400, 403, 404),
    ),
    Route(
        "delete",
        f"{_ROOM}/moderators/{{user_id}}",
        "Make a moderator a member again (host only)",
        rooms.MemberResponse,
        errors=(400, 403, 404),
    ),
    Route(
        "get",
        f"{_ROOM}/messages",
        "Chat history, oldest first (members)",
        rooms.MessageList,
        query=rooms.MessagesQuery,
        errors=(400, 403, 404),
    ),
    Route(
        "get",
        f"{_ROOM}/reactions",
        "Reactions to a video between two moments of it, for the replay (members)",
        rooms.ReactionList,
        query=rooms.ReactionsQuery,
        errors=(400, 403, 404),
    ),
    Route(
        "post",
        f"{_ROOM}/gifts",
        "Send a gift to someone in the room: coins from you, beans to them, an animation for "
        "everyone (gift:sent) and a chat line",
        wallet.GiftResponse,
        status=201,
        body=wallet.SendGiftBody,
        errors=(400, 402, 403, 404, 409, 413, 429),
    ),
    Route(
        "get",
        f"{_ROOM}/gifts/top",
        "Top gifters and earners of the room (members)",
        wallet.LeaderboardResponse,
        errors=(403, 404),
    ),
    Route(
        "get",
        "/api/payments/gifts",
        "The gifts, with names in the requester's language",
        wallet.GiftCatalogue,
        auth=False,
    ),
    Route(
        "get",
        "/api/payments/packs",
        "Coin packs (Stars and rouble prices), premium, and how this server takes payments",
        wallet.PackList,
        auth=False,
    ),
    Route(
        "post",
        "/api/payments/create-intent",
        "Start paying for a pack or premium: a Stars invoice link, or a YooKassa confirmation URL",
        wallet.Intent,
        body=wallet.CreateIntentBody,
        errors=(400, 403, 413, 503),
    ),
    Route(
        "get",
        "/api/payments/orders/{order_id}",
        "An order after the redirect back from YooKassa (a pending one is checked at YooKassa)",
        wallet.OrderResponse,
        errors=(400, 404, 503),
    ),
    Route(
        "get",
        "/api/payments/leaderboard",
        "Top gifters and earners everywhere",
        wallet.LeaderboardResponse,
        query=wallet.LeaderboardQuery,
        errors=(400,),
    ),
    Route(
        "post",
        "/api/payments/yookassa/webhook",
        "YooKassa notifications: the payment is fetched from YooKassa again before anything "
        "is credited",
        core.Ok,
        errors=(400, 403, 404, 413, 503),
        auth=False,
    ),
    Route(
        "post",
        "/api/chats",
        "Start a direct chat ({userId}: the pair's existing chat answers 200) or a group "
        "({memberIds, title}: the creator is its admin)",
        messenger.ChatResponse,
        status=201,
        body=messenger.CreateChatBody,
        errors=(400, 403, 404, 413, 429),
        also=((200, messenger.ChatResponse, "The pair's existing direct chat"),),
    ),
    Route(
        "get",
        "/api/chats",
        "Your chats, newest message first, with previews and unread counts",
        messenger.ChatList,
    ),
    Route(
        "get",
        _CHAT,
        "A chat with its members and their presence (members)",
        messenger.ChatResponse,
        errors=(400, 403, 404),
    ),
    Route(
        "patch",
        _CHAT,
        "Rename a group (admins) or mute the chat for yourself (members)",
        messenger.ChatResponse,
        body=messenger.UpdateChatBody,
        errors=(400, 403, 404, 413),
    ),
    Route(
        "post",
        f"{_CHAT}/members",
        "Add someone to a group (admins)",
        messenger.ChatResponse,
        body=messenger.AddMemberBody,
        errors=(400, 403, 404, 413),
    ),
    Route(
        "delete",
        f"{_CHAT}/members/{{user_id}}",
        "Remove someone from a group (admins), or leave it (your own id)",
        core.Ok,
        errors=(400, 403, 404),
    ),
    Route(
        "get",
        "/api/messages",
        "A chat's history, newest first, older than a message (members)",
        messenger.MessagePage,
        query=messenger.HistoryQuery,
        errors=(400, 403, 404),
    ),
    Route(
        "post",
        "/api/encryption/public-key",
        "Register this device's RSA-OAEP public key (again: it replaces the old one)",
        messenger.PublicKeyResponse,
        body=messenger.PublicKeyBody,
        errors=(400, 413, 429),
    ),
    Route(
        "get",
        "/api/encryption/public-key/{user_id}",
        "Every device key of someone you share a chat with, with fingerprints",
        messenger.PublicKeyList,
        errors=(400, 403, 404),
    ),
    Route(
        "get",
        "/api/wallet",
        "Balances (coins, beans), premium, history and who gave you what",
        wallet.WalletResponse,
        query=wallet.WalletQuery,
        errors=(400,),
    ),
    Route(
        "get",
        "/api/wallet/withdrawals",
        "Your bean withdrawal requests",
        wallet.WithdrawalList,
    ),
    Route(
        "post",
        "/api/wallet/withdrawals",
        "Ask to withdraw beans: they are held and the request is recorded for review (no "
        "payout rail yet)",
        wallet.WithdrawalResponse,
        status=201,
        body=wallet.WithdrawalBody,
        errors=(400, 402, 403, 413),
    ),
)


def component_schemas(
    models: list[type[BaseModel]], ref_template: str = REF
) -> dict[str, dict[str, Any]]:
    """JSON Schemas of ``models`` and everything they use, one entry per model (by class name),
    their references pointing at ``ref_template``."""
    unique = list(dict.fromkeys(models))
    _, top = models_json_schema([(m, "validation") for m in unique], ref_template=ref_template)
    return top.get("$defs", {})


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _ref(model: type[BaseModel]) -> dict[str, Any]:
    return {"$ref": REF.format(model=model.__name__)}


def _query_parameters(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    schema = schemas[model.__name__]
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        param: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop,
        }
        if description:
            param["description"] = description
        params.append(param)
    return params


def _path_parameters(path: str) -> list[dict[str, Any]]:
    params = []
    for name, (description, schema) in PATH_PARAMS.items():
        if f"{{{name}}}" in path:
            params.append(
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "description": description,
                    "schema": schema,
                }
            )
    return params


def _operation(route: Route, schemas: dict[str, Any]) -> dict[str, Any]:
    ok = _ref(route.response) if route.response is not None else {"type": "object"}
    responses: dict[str, Any] = {str(route.status): {"description": "OK", **_json(ok)}}
    for status, model, description in route.also:
        responses[str(status)] = {"description": description, **_json(_ref(model))}
    errors = (*route.errors, 401) if route.auth else route.errors
    for status in sorted(errors):
        responses[str(status)] = {"description": "Error", **_json(_ref(core.Error))}
    op: dict[str, Any] = {
        "operationId": f"{route.method}_{route.path.removeprefix('/api/')}".replace("/", "_")
        .replace("{", "")
        .replace("}", "")
        .replace(".", "_"),
        "summary": route.summary,
        "responses": responses,
    }
    if route.body is not None:
        op["requestBody"] = {"required": route.body_required, **_json(_ref(route.body))}
    if route.auth:
        op["security"] = [{"bearer": []}]
    params = _path_parameters(route.path)
    if route.query is not None:
        params += _query_parameters(route.query, schemas)
    if params:
        op["parameters"] = params
    return op


def route_models(routes: tuple[Route, ...] = ROUTES) -> list[type[BaseModel]]:
    models: list[type[BaseModel]] = [core.Error]
    for route in routes:
        models += [m for m in (route.response, route.body, route.query) if m is not None]
        models += [model for _, model, _ in route.also]
    return models


def build_openapi(routes: tuple[Route, ...] = ROUTES) -> dict[str, Any]:
    schemas = component_schemas(route_models(routes))
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method] = _operation(route, schemas)
    # Query strings are parameters, not bodies: their models need no component of their own.
    for model in {r.query for r in routes if r.query is not None}:
        if not any(model in (r.body, r.response) for r in routes):
            schemas.pop(model.__name__, None)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Vmeste API",
            "version": "0.1.0",
            "description": "Generated from the contract models (services/*/contract.py). "
            "Errors are {error: {code, message, details}}. The Socket.IO events are in "
            "/api/asyncapi.json.",
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
            "schemas": dict(sorted(schemas.items())),
        },
        "paths": paths,
    }


@functools.cache
def openapi_document() -> dict[str, Any]:
    return build_openapi()


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())
