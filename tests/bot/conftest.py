"""The bot driven over HTTP: the real app long-polls :class:`FakeBotAPI` through TELEGRAM_API_URL.

``bot_server`` is the whole app (ORM, HTTP, bot) in polling mode against ``fake_api``; tests push
updates with ``fake_api.say(...)`` / ``fake_api.press(...)`` and assert on the Bot API calls the
bot made: text, buttons, language. Russian expectations are written out here as real Russian
text; they are the translations the catalogue must hold (``locales/ru/LC_MESSAGES``).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from composition import Server
from models.users import User
from services.accounts.telegram_auth import sign_init_data
from tests.conftest import TEST_BOT_TOKEN, ServerFactory
from tests.fakes.botapi import Call, FakeBotAPI

PUBLIC_URL = "https://vmeste.test"
APP_URL = PUBLIC_URL + "/app"

# Russian catalogue entries the tests rely on (msgid → msgstr); see the report to the lead.
RU_OPEN_VMESTE = "Открыть Vmeste"
RU_OPEN = "Открыть"
RU_GREETING = (
    "Привет, {name}! Vmeste — это совместный просмотр видео, чаты и звонки с друзьями прямо "
    "в Telegram. Нажмите кнопку, чтобы открыть приложение."
)
RU_LANGUAGE_SET = "Выбран язык: русский."
RU_CHOOSE_LANGUAGE = "Выберите язык:"
RU_HELP = (
    "Vmeste — смотрите вместе в Telegram.\n\n"
    "/start — открыть приложение\n"
    "/watch <ссылка> — смотреть видео вместе\n"
    "/rooms — мои открытые комнаты\n"
    "/buy — купить монеты для подарков\n"
    "/balance — монеты, бобы и премиум\n"
    "/premium — Vmeste Premium\n"
    "/language — сменить язык\n"
    "/terms — условия использования\n"
    "/paysupport — помощь с платежами"
)
RU_BAD_LINK = "Ссылка недействительна или устарела. Вот приложение."
RU_NOT_FOUND = "Не найдено."
RU_SOMETHING_WRONG = "Что-то пошло не так. Попробуйте ещё раз."
RU_COMMANDS = {
    "start": "Открыть Vmeste",
    "watch": "Смотреть видео вместе: /watch <ссылка>",
    "rooms": "Мои открытые комнаты",
    "buy": "Купить монеты для подарков",
    "balance": "Мои монеты и бобы",
    "premium": "Vmeste Premium",
    "help": "Что умеет бот",
    "language": "Сменить язык",
    "terms": "Условия использования",
    "paysupport": "Помощь с платежами",
}

EN_GREETING = (
    "Hi, {name}! Vmeste lets you watch videos together, chat and call with friends right "
    "inside Telegram. Tap the button to open the app."
)
EN_BAD_LINK = "That link is not valid or has expired. Here is the app instead."
EN_SOMETHING_WRONG = "Something went wrong. Please try again."


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(token=TEST_BOT_TOKEN) as api:
        yield api


async def start_bot_server(
    make_server: ServerFactory, fake_api: FakeBotAPI, **overrides: Any
) -> Server:
    """Start the app against the fake; return once the bot is set up (polling, or webhook set)."""
    settings: dict[str, Any] = {"public_url": PUBLIC_URL, **overrides}
    server = await make_server(
        bot_token=fake_api.token, telegram_api_url=fake_api.base_url, **settings
    )
    # The last set-up call; polling starts right after it (updates pushed earlier just wait).
    ready = "setWebhook" if overrides.get("bot_mode") == "webhook" else "deleteWebhook"
    await fake_api.wait_for(ready)
    return server


@pytest.fixture
async def bot_server(fake_api: FakeBotAPI, make_server: ServerFactory) -> Server:
    # fake_api first: it is closed after the server has stopped (fixtures unwind in reverse).
    return await start_bot_server(make_server, fake_api)


# --------------------------------------------------------------------------- call helpers


def sends(calls: list[Call]) -> list[Call]:
    """The successful sendMessage calls among ``calls``."""
    return [c for c in calls if c.method == "sendMessage" and c.ok]


def only_send(calls: list[Call]) -> Call:
    sent = sends(calls)
    assert len(sent) == 1, f"expected one sendMessage, got {[str(c) for c in calls]}"
    return sent[0]


def shown_text(call: Call) -> str:
    """The text as the user sees it (HTML rendered to plain text by the fake)."""
    assert call.ok, str(call)
    result = call.result
    assert isinstance(result, dict), str(call)
    return str(result["text"])


def buttons(call: Call) -> list[dict[str, Any]]:
    """All inline buttons of a send/edit call, row by row."""
    markup = call.params.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def app_buttons(call: Call) -> list[dict[str, Any]]:
    return [b for b in buttons(call) if "web_app" in b]


def assert_app_button(call: Call, text: str = "Open Vmeste") -> None:
    """Exactly one inline button, and it opens the Mini App at PUBLIC_URL/app."""
    found = buttons(call)
    assert len(found) == 1, found
    assert found[0]["web_app"] == {"url": APP_URL}
    assert found[0]["text"] == text


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname in {"ERROR", "CRITICAL"}]


# --------------------------------------------------------------------------- the database


async def telegram_users(server: Server, telegram_id: int) -> list[User]:
    """The User rows for a Telegram id, read inside the server's ORM context."""

    async def query() -> list[User]:
        return await User.filter(telegram_id=telegram_id)

    return await server.run(query())


# --------------------------------------------------------------------------- Mini App sign-in


async def mini_app_sign_in(
    server: Server, user_id: int, *, first_name: str = "Anna", language_code: str = "en"
) -> dict[str, Any]:
    """Sign in to the Mini App as Telegram user ``user_id``; return the ``user`` payload."""
    fields = {
        "query_id": "AAE-test",
        "user": json.dumps(
            {"id": user_id, "first_name": first_name, "language_code": language_code},
            separators=(",", ":"),
        ),
        "auth_date": str(int(time.time())),
    }
    init_data = sign_init_data(fields, bot_token=TEST_BOT_TOKEN)
    async with (
        aiohttp.ClientSession(base_url=server.url) as http,
        http.post("/api/auth/telegram", json={"initData": init_data}) as response,
    ):
        body = await response.json()
        assert response.status == 200, body
    user: dict[str, Any] = body["user"]
    return user
