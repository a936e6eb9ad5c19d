"""BOT_MODE=webhook: Telegram's secret token is checked, repeated update_ids are processed once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from composition import Server
from tests.bot.conftest import (
    EN_GREETING,
    PUBLIC_URL,
    assert_app_button,
    errors_logged,
    shown_text,
    start_bot_server,
)
from tests.conftest import ServerFactory
from tests.fakes.botapi import FakeBotAPI

SECRET = "s3cret"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture
async def webhook_server(fake_api: FakeBotAPI, make_server: ServerFactory) -> Server:
    # fake_api first: it is closed after the server has stopped (fixtures unwind in reverse).
    return await start_bot_server(make_server, fake_api, bot_mode="webhook", webhook_secret=SECRET)


@pytest.fixture
async def telegram(webhook_server: Server) -> AsyncIterator[aiohttp.ClientSession]:
    """What Telegram's side of the webhook looks like: POSTs to our webhook URL."""
    async with aiohttp.ClientSession(base_url=webhook_server.url) as session:
        yield session


async def _post(
    session: aiohttp.ClientSession, body: Any, secret: str | None = SECRET
) -> tuple[int, Any]:
    headers = {} if secret is None else {SECRET_HEADER: secret}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers["Content-Type"] = "application/json"
    async with session.post("/telegram/webhook", data=data, headers=headers) as response:
        return response.status, await response.json()


def _start_update(fake_api: FakeBotAPI, update_id: int) -> dict[str, Any]:
    return {"update_id": update_id, **fake_api.message_update("/start", user_id=111)}


async def _quiet(fake_api: FakeBotAPI) -> None:
    """Give a wrongly accepted update time to be answered, so its absence means something."""
    await asyncio.sleep(0.3)
    assert not fake_api.calls_of("sendMessage"), fake_api.describe()


async def test_webhook_is_registered_with_secret(
    webhook_server: Server, fake_api: FakeBotAPI
) -> None:
    (call,) = fake_api.calls_of("setWebhook")
    assert call.params["url"] == PUBLIC_URL + "/telegram/webhook"
    assert call.params["secret_token"] == SECRET
    assert {"message", "callback_query", "pre_checkout_query"} <= set(
        call.params["allowed_updates"]
    )
    assert not fake_api.calls_of("deleteWebhook")
    assert not fake_api.calls_of("getUpdates")  # no polling next to a webhook


@pytest.mark.parametrize("secret", [None, "", "wrong", "S3CRET", "s3cret2", "sécret"])
async def test_wrong_secret_is_refused(
    telegram: aiohttp.ClientSession, fake_api: FakeBotAPI, secret: str | None
) -> None:
    status, _ = await _post(telegram, _start_update(fake_api, 1), secret=secret)
    assert status == 401
    await _quiet(fake_api)


async def test_update_is_answered(
    telegram: aiohttp.ClientSession, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    status, body = await _post(telegram, _start_update(fake_api, 10))

    assert (status, body) == (200, {"ok": True})
    reply = await fake_api.wait_for("sendMessage")
    assert reply.params["chat_id"] == 111
    assert shown_text(reply) == EN_GREETING.format(name="Anna")
    assert_app_button(reply)
    assert not errors_logged(caplog)


async def test_repeated_update_is_processed_once(
    telegram: aiohttp.ClientSession, fake_api: FakeBotAPI
) -> None:
    update = _start_update(fake_api, 20)
    first, second = await asyncio.gather(_post(telegram, update), _post(telegram, update))
    await fake_api.wait_for("sendMessage")
    third = await _post(telegram, update)  # Telegram re-delivering after a slow answer

    assert {first[1].get("duplicate", False), second[1].get("duplicate", False)} == {True, False}
    assert first[0] == second[0] == 200
    assert third == (200, {"duplicate": True, "ok": True})
    await asyncio.sleep(0.3)
    assert len(fake_api.calls_of("sendMessage")) == 1
    # A new update_id from the same chat is a new update.
    await _post(telegram, _start_update(fake_api, 21))
    await fake_api.wait_for("sendMessage", since=len(fake_api.calls) - 1)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'"update"',
        b"{}",
        b'{"update_id": "x"}',
        b'{"update_id": 5, "message": "garbage"}',
        b'{"update_id": 6, "message": {"text": "/start"}}',
    ],
)
async def test_malformed_update_is_refused(
    telegram: aiohttp.ClientSession,
    fake_api: FakeBotAPI,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
) -> None:
    status, _ = await _post(telegram, body)
    assert status == 400
    await _quiet(fake_api)
    assert not errors_logged(caplog)
