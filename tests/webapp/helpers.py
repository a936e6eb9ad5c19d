"""Assertions and builders shared by the HTTP tests (zulip's ``assert_json_error`` style)."""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import jwt
from jwt.warnings import InsecureKeyLengthWarning

from composition import Server
from services.accounts.telegram_auth import sign_init_data
from tests.conftest import TEST_BOT_TOKEN

T = TypeVar("T")


async def assert_json_error(
    response: aiohttp.ClientResponse, status: int, code: str, *, field: str | None = None
) -> dict[str, Any]:
    """The response is the JSON error envelope with this status and code (and field)."""
    text = await response.text()
    assert response.status == status, text
    assert response.content_type == "application/json", text
    error = json.loads(text)["error"]
    assert error["code"] == code, text
    assert isinstance(error["message"], str), text
    assert error["message"], text
    if field is not None:
        assert error["details"]["field"] == field, text
    return error


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_token(
    server: Server, *, algorithm: str = "HS256", key: str | None = None, **claims: Any
) -> str:
    """A token signed with the server's key (or ``key``); ``None`` claims are left out."""
    now = int(time.time())
    payload = {"iat": now, "exp": now + 600, "typ": "access", **claims}
    payload = {name: value for name, value in payload.items() if value is not None}
    assert server.services is not None
    signing_key = None if algorithm == "none" else key or server.services.jwt_key
    with warnings.catch_warnings():
        # Our key is long enough for HS256, not for HS512; forging with it is the point here.
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(payload, signing_key, algorithm=algorithm)  # type: ignore[arg-type]


def telegram_user(user_id: int = 777, **fields: Any) -> dict[str, Any]:
    return {
        "id": user_id,
        "first_name": "Vera",
        "username": "vera_tg",
        "language_code": "ru",
        **fields,
    }


def init_data(
    user: dict[str, Any], *, auth_date: int | None = None, bot_token: str = TEST_BOT_TOKEN
) -> str:
    """initData as Telegram would sign it for our test bot."""
    fields = {
        "query_id": "AAH-test",
        "user": json.dumps(user, separators=(",", ":"), ensure_ascii=False),
        "auth_date": str(int(time.time()) if auth_date is None else auth_date),
    }
    return sign_init_data(fields, bot_token=bot_token)


async def in_server(server: Server, query: Callable[[], Awaitable[T]]) -> T:
    """Run ``query()`` (an ORM call) in the server's context, where its database lives."""

    async def call() -> T:
        return await query()

    return await server.run(call())
