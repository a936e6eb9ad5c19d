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
SESSION = {"$ref": "#/components/schemas/Session"}
USER = {"$ref": "#/components/schemas/User"}
HEALTH = {"$ref": "#/components/schemas/Health"}
_STATUS = _obj(["status"], status=STR, latencyMs={"type": "number"})

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
    },
}


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(SPEC)
