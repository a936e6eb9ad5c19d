"""The OpenAPI 3.1 document for /api. A test checks that every /api route is described here."""

from __future__ import annotations

from typing import Any

from aiohttp import web

ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): {"description": "Error", **_json(ERROR)} for code in codes}


def _op(
    summary: str,
    ok: dict[str, Any],
    *,
    body: dict[str, Any] | None = None,
    auth: bool = False,
    errors: tuple[int, ...] = (),
    ok_status: int = 200,
    params: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {str(ok_status): {"description": "OK", **_json(ok)}, **_errors(*errors)},
    }
    if body is not None:
        op["requestBody"] = {"required": True, **_json(body)}
    if auth:
        op["security"] = [{"bearer": []}]
        op["responses"].update(_errors(401))
    if params:
        op["parameters"] = params
    return op


def _obj(required: list[str], **props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


STR = {"type": "string"}
INT = {"type": "integer"}
NUM = {"type": "number"}
BOOL = {"type": "boolean"}
NULL_STR = {"type": ["string", "null"]}
NULL_INT = {"type": ["integer", "null"]}
SESSION = {"$ref": "#/components/schemas/Session"}
USER = {"$ref": "#/components/schemas/User"}
HEALTH = {"$ref": "#/components/schemas/Health"}
ROOM = {"$ref": "#/components/schemas/Room"}
MEMBER = {"$ref": "#/components/schemas/Member"}
MEDIA_ITEM = {"$ref": "#/components/schemas/MediaItem"}
PLAYBACK = {"$ref": "#/components/schemas/Playback"}
CHAT_MESSAGE = {"$ref": "#/components/schemas/ChatMessage"}
REACTION = {"$ref": "#/components/schemas/Reaction"}
OK = _obj(["ok"], ok={"const": True})
_STATUS = _obj(["status"], status=STR, latencyMs={"type": "number"})
VISIBILITY = {"type": "string", "enum": ["public", "private"]}
CONTROL_MODE = {"type": "string", "enum": ["host", "everyone"]}
ROLE = {"type": "string", "enum": ["host", "moderator", "member"]}
MEDIA_KIND = {"type": "string", "enum": ["youtube", "vimeo", "twitch", "hls", "html5"]}


def _path(name: str, description: str, schema: dict[str, Any] = STR) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        param["description"] = description
    return param


ROOM_ID = _path("id", "The room's numeric id or its code")
USER_ID = _path("user_id", "A user id", INT)
USER_ID_BODY = _obj(["user_id"], user_id={"type": "integer", "minimum": 1})

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Vmeste API", "version": "0.1.0"},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        "schemas": {
            "Error": _obj(
                ["error"],
                error=_obj(["code", "message"], code=STR, message=STR, details={"type": "object"}),
            ),
            "User": _obj(
                ["id", "displayName"],
                id={"type": "integer"},
                username={"type": ["string", "null"]},
                displayName=STR,
                firstName=STR,
                lastName={"type": ["string", "null"]},
                photoUrl={"type": ["string", "null"]},
                telegramUsername={"type": ["string", "null"]},
                isTelegramPremium={"type": "boolean"},
                email={"type": ["string", "null"], "description": "only on the user's own record"},
                telegramId={"type": ["integer", "null"]},
                language={"type": "string", "enum": ["ru", "en"]},
                languageChosen={"type": "boolean", "description": "chosen, or known from Telegram"},
            ),
            "Session": _obj(["accessToken", "user"], accessToken=STR, user=USER),
            "Health": _obj(
                ["status", "database", "redis", "bot"],
                status={"type": "string", "enum": ["ok", "degraded"]},
                database=_STATUS,
                redis=_STATUS,
                bot=_obj(["status", "mode"], status=STR, mode=STR),
            ),
            "Room": _obj(
                [
                    "id",
                    "code",
                    "title",
                    "host",
                    "visibility",
                    "controlMode",
                    "slowModeSeconds",
                    "currentKind",
                    "currentTitle",
                    "watchCount",
                    "memberCount",
                    "boundChat",
                    "createdAt",
                    "closedAt",
                ],
                id=INT,
                code={"type": "string", "pattern": "^[A-Za-z0-9]{8}$"},
                title=STR,
                host=USER,
                visibility=VISIBILITY,
                controlMode=CONTROL_MODE,
                slowModeSeconds=INT,
                currentKind={"type": ["string", "null"], "enum": [*MEDIA_KIND["enum"], None]},
                currentTitle=NULL_STR,
                watchCount={"type": "integer", "description": "distinct people who ever joined"},
                memberCount={"type": "integer", "description": "people in the room now"},
                boundChat={"type": "boolean", "description": "bound to a Telegram group"},
                createdAt={"type": "string", "format": "date-time"},
                closedAt={"type": ["string", "null"], "format": "date-time"},
                myRole={"type": ["string", "null"], "enum": [*ROLE["enum"], None]},
                inviteCode={"type": "string", "description": "shown to members only"},
            ),
            "Member": _obj(["user", "role"], user=USER, role=ROLE),
            "MediaItem": _obj(
                ["id", "url", "kind", "title"],
                id=INT,
                url=STR,
                kind=MEDIA_KIND,
                sourceId=NULL_STR,
                title=STR,
                duration={"type": ["number", "null"]},
                isLive=BOOL,
                position=INT,
                addedBy={"oneOf": [USER, {"type": "null"}]},
            ),
            "Playback": _obj(
                ["mediaId", "status", "position", "rate", "updatedAt"],
                mediaId=NULL_INT,
                status={"type": "string", "enum": ["idle", "paused", "playing"]},
                position={"type": "number", "description": "seconds"},
                rate=NUM,
                updatedAt={"type": "integer", "description": "server milliseconds"},
                seq=INT,
                by=NULL_INT,
            ),
            "ChatMessage": _obj(
                ["id", "roomId", "kind", "text", "createdAt", "deleted"],
                id=INT,
                roomId=INT,
                kind={"type": "string", "description": "text, joined, kicked, now_playing..."},
                text=STR,
                data={"type": ["object", "null"]},
                user={"oneOf": [USER, {"type": "null"}]},
                createdAt={"type": "string", "format": "date-time"},
                deleted=BOOL,
            ),
            "Reaction": _obj(
                ["id", "roomId", "mediaId", "emoji", "mediaTime", "user", "createdAt"],
                id=INT,
                roomId=INT,
                mediaId=INT,
                emoji=STR,
                mediaTime={"type": "number", "description": "seconds into the media"},
                user=USER,
                createdAt={"type": "string", "format": "date-time"},
            ),
        },
    },
    "paths": {
        "/api/health": {
            "get": {
                "summary": "Database, Redis and bot status",
                "responses": {
                    "200": {"description": "Everything configured answers", **_json(HEALTH)},
                    "503": {"description": "The database or Redis is down", **_json(HEALTH)},
                },
            }
        },
        "/api/openapi.json": {"get": _op("This document", {"type": "object"})},
        "/api/auth/register": {
            "post": _op(
                "Sign up with email, username and password",
                SESSION,
                ok_status=201,
                body=_obj(
                    ["email", "username", "password"],
                    email=STR,
                    username=STR,
                    password={"type": "string", "minLength": 8},
                ),
                errors=(400, 409, 413, 429),
            )
        },
        "/api/auth/login": {
            "post": _op(
                "Sign in with email and password",
                SESSION,
                body=_obj(["email", "password"], email=STR, password=STR),
                errors=(400, 401, 413, 429),
            )
        },
        "/api/auth/telegram": {
            "post": _op(
                "Sign in with Telegram Mini App initData",
                SESSION,
                body=_obj(["initData"], initData=STR),
                errors=(400, 401, 413, 429),
            )
        },
        "/api/users/me": {
            "get": _op("The signed-in user", _obj(["user"], user=USER), auth=True),
            "patch": _op(
                "Change the interface language",
                _obj(["user"], user=USER),
                body=_obj(["language"], language={"type": "string", "enum": ["ru", "en"]}),
                auth=True,
                errors=(400, 413),
            ),
        },
        "/api/users/search": {
            "get": _op(
                "Find people by username, name or exact email",
                _obj(["users"], users={"type": "array", "items": USER}),
                auth=True,
                errors=(400,),
                params=[{"name": "query", "in": "query", "required": True, "schema": STR}],
            )
        },
        "/api/rooms": {
            "post": _op(
                "Create a watch room; the requester joins it as host",
                _obj(["room"], room=ROOM),
                ok_status=201,
                body=_obj(
                    [],
                    title={"type": "string", "maxLength": 100},
                    visibility=VISIBILITY,
                    controlMode=CONTROL_MODE,
                    url={"type": "string", "description": "first video; its title by default"},
                ),
                auth=True,
                errors=(400, 413),
            ),
            "get": _op(
                "Open public rooms, most watched first",
                _obj(["rooms", "total"], rooms={"type": "array", "items": ROOM}, total=INT),
                auth=True,
                errors=(400,),
                params=[
                    _query("query", STR, "search in titles"),
                    _query("kind", MEDIA_KIND, "what is playing"),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 100}),
                    _query("offset", {"type": "integer", "minimum": 0}),
                ],
            ),
        },
        "/api/rooms/mine": {
            "get": _op(
                "Open rooms the requester is in, hosted ones first",
                _obj(["rooms"], rooms={"type": "array", "items": ROOM}),
                auth=True,
            )
        },
        "/api/rooms/{id}": {
            "get": _op(
                "A room with its members, queue and playback "
                "(private rooms: members, invited people and invite code holders)",
                _obj(
                    ["room", "members", "queue", "playback"],
                    room=ROOM,
                    members={"type": "array", "items": MEMBER},
                    queue={"type": "array", "items": MEDIA_ITEM},
                    playback=PLAYBACK,
                ),
                auth=True,
                errors=(403, 404),
                params=[ROOM_ID, _query("invite", STR, "the private room's invite code")],
            ),
            "patch": _op(
                "Change settings: slow mode (host, moderators); the rest (host)",
                _obj(["room"], room=ROOM),
                body=_obj(
                    [],
                    title={"type": "string", "maxLength": 100},
                    visibility=VISIBILITY,
                    controlMode=CONTROL_MODE,
                    slowModeSeconds={"type": "integer", "minimum": 0, "maximum": 3600},
                ),
                auth=True,
                errors=(400, 403, 404, 413),
                params=[ROOM_ID],
            ),
        },
        "/api/rooms/{id}/join": {
            "post": _op(
                "Join (idempotent); private rooms need an invite or the invite code",
                _obj(["room"], room=ROOM),
                body=_obj([], inviteCode=STR),
                auth=True,
                errors=(400, 403, 404, 409, 413),
                params=[ROOM_ID],
            )
        },
        "/api/rooms/{id}/leave": {
            "post": _op(
                "Leave; when the host does not come back within the grace period, the room closes",
                OK,
                auth=True,
                errors=(404,),
                params=[ROOM_ID],
            )
        },
        "/api/rooms/{id}/close": {
            "post": _op(
                "Close the room for everyone (host only)",
                OK,
                auth=True,
                errors=(403, 404),
                params=[ROOM_ID],
            )
        },
        "/api/rooms/{id}/share": {
            "post": _op(
                "Prepare a Telegram message inviting to the room, for WebApp.shareMessage",
                _obj(["id"], id=STR),
                auth=True,
                errors=(400, 403, 404, 429),
                params=[ROOM_ID],
            )
        },
        "/api/rooms/{id}/kick/{user_id}": {
            "post": _op(
                "Remove someone for good (host, moderators)",
                OK,
                auth=True,
                errors=(400, 403, 404),
                params=[ROOM_ID, USER_ID],
            )
        },
        "/api/rooms/{id}/invite": {
            "post": _op(
                "Invite someone: a bot message and an in-app notice",
                OK,
                body=USER_ID_BODY,
                auth=True,
                errors=(400, 403, 404, 413),
                params=[ROOM_ID],
            )
        },
        "/api/rooms/{id}/handover": {
            "post": _op(
                "Make another member the host; the old host becomes a moderator (host only)",
                _obj(["room"], room=ROOM),
                body=USER_ID_BODY,
                auth=True,
                errors=(400, 403, 404, 413),
                params=[ROOM_ID],
            )
        },
        "/api/rooms/{id}/moderators/{user_id}": {
            "post": _op(
                "Make a member a moderator (host only)",
                _obj(["member"], member=MEMBER),
                auth=True,
                errors=(400, 403, 404),
                params=[ROOM_ID, USER_ID],
            ),
            "delete": _op(
                "Make a moderator a member again (host only)",
                _obj(["member"], member=MEMBER),
                auth=True,
                errors=(400, 403, 404),
                params=[ROOM_ID, USER_ID],
            ),
        },
        "/api/rooms/{id}/messages": {
            "get": _op(
                "Chat history, oldest first (members)",
                _obj(["messages"], messages={"type": "array", "items": CHAT_MESSAGE}),
                auth=True,
                errors=(400, 403, 404),
                params=[
                    ROOM_ID,
                    _query("before", INT, "only messages older than this id"),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 100}),
                ],
            )
        },
        "/api/rooms/{id}/reactions": {
            "get": _op(
                "Reactions to a video between two moments of it, for the replay (members)",
                _obj(["reactions"], reactions={"type": "array", "items": REACTION}),
                auth=True,
                errors=(400, 403, 404),
                params=[
                    ROOM_ID,
                    {"name": "mediaId", "in": "query", "required": True, "schema": INT},
                    _query("from", NUM, "media seconds, default 0"),
                    _query("to", NUM, "media seconds, default the end"),
                ],
            )
        },
    },
}


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(SPEC)
