"""Start-up configuration, /start and /start <payload>, over HTTP through the fake Bot API."""

from __future__ import annotations

import pytest

from composition import Server
from tests.bot.conftest import (
    APP_URL,
    EN_BAD_LINK,
    EN_GREETING,
    RU_BAD_LINK,
    RU_COMMANDS,
    RU_GREETING,
    RU_OPEN,
    RU_OPEN_VMESTE,
    assert_app_button,
    buttons,
    errors_logged,
    mini_app_sign_in,
    only_send,
    shown_text,
    start_bot_server,
    telegram_users,
)
from tests.conftest import ServerFactory
from tests.fakes.botapi import Call, FakeBotAPI

EN_COMMANDS = {
    "start": "Open Vmeste",
    "watch": "Watch a video together: /watch <link>",
    "rooms": "My open rooms",
    "buy": "Buy coins for gifts",
    "balance": "My coins and beans",
    "premium": "Vmeste Premium",
    "help": "What the bot can do",
    "language": "Change language",
    "terms": "Terms of service",
    "paysupport": "Payment support",
}


def _commands(call: Call) -> dict[str, str]:
    return {c["command"]: c["description"] for c in call.params["commands"]}


def _menu_calls(fake_api: FakeBotAPI, chat_id: int | None) -> list[Call]:
    return [c for c in fake_api.calls_of("setChatMenuButton") if c.params.get("chat_id") == chat_id]


async def _chat_menu(fake_api: FakeBotAPI, chat_id: int) -> Call:
    """The one menu button set for ``chat_id``. It follows the reply, and on a busy machine
    (tests in parallel) it came later than ``say``'s 50 ms of quiet: wait for it."""
    await fake_api.wait_for("setChatMenuButton", lambda c: c.params.get("chat_id") == chat_id)
    (menu,) = _menu_calls(fake_api, chat_id)
    return menu


# --------------------------------------------------------------------------- start-up


async def test_startup_configures_commands_menu_and_polling(
    bot_server: Server, fake_api: FakeBotAPI
) -> None:
    assert fake_api.calls_of("getMe")
    by_language = {c.params.get("language_code"): c for c in fake_api.calls_of("setMyCommands")}
    assert set(by_language) == {None, "ru"}  # English is the default list
    assert _commands(by_language[None]) == EN_COMMANDS
    assert list(_commands(by_language["ru"])) == list(EN_COMMANDS)

    (menu,) = _menu_calls(fake_api, None)  # the default menu button, for every chat
    assert menu.params["menu_button"] == {
        "type": "web_app",
        "text": "Open",
        "web_app": {"url": APP_URL},
    }
    # Polling mode: any old webhook is removed (getUpdates fails while one is set).
    assert fake_api.calls_of("deleteWebhook")
    assert not fake_api.calls_of("setWebhook")


async def test_startup_russian_command_list_in_russian(
    bot_server: Server, fake_api: FakeBotAPI
) -> None:
    (ru,) = [c for c in fake_api.calls_of("setMyCommands") if c.params.get("language_code")]
    assert _commands(ru) == RU_COMMANDS


async def test_no_web_app_buttons_without_https(
    fake_api: FakeBotAPI, make_server: ServerFactory
) -> None:
    """Telegram refuses web_app buttons to plain-HTTP URLs; local development gets URL buttons."""
    await start_bot_server(make_server, fake_api, public_url="http://127.0.0.1:8080")
    reply = only_send(await fake_api.say("/start"))
    (button,) = buttons(reply)
    assert button == {"text": "Open Vmeste", "url": "http://127.0.0.1:8080/app"}
    assert not fake_api.calls_of("setChatMenuButton")


# --------------------------------------------------------------------------- /start


async def test_start_greets_with_app_button_and_menu(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    calls = await fake_api.say("/start", user_id=111, first_name="Anna")

    reply = only_send(calls)
    assert reply.params["chat_id"] == 111
    assert shown_text(reply) == EN_GREETING.format(name="Anna")
    assert_app_button(reply)
    menu = await _chat_menu(fake_api, 111)
    assert menu.params["menu_button"] == {
        "type": "web_app",
        "text": "Open",
        "web_app": {"url": APP_URL},
    }
    assert not errors_logged(caplog)


async def test_bot_and_mini_app_share_one_user(bot_server: Server, fake_api: FakeBotAPI) -> None:
    await fake_api.say("/start", user_id=111, first_name="Anna")
    (created,) = await telegram_users(bot_server, 111)

    signed_in = await mini_app_sign_in(bot_server, 111, first_name="Anna")

    assert signed_in["id"] == created.id
    assert signed_in["telegramId"] == 111
    assert [u.id for u in await telegram_users(bot_server, 111)] == [created.id]


async def test_start_escapes_the_name(bot_server: Server, fake_api: FakeBotAPI) -> None:
    """Names are user input inside an HTML message: unescaped, Telegram refuses the message."""
    reply = only_send(await fake_api.say("/start", user_id=5, first_name="Tom & <Jerry>"))
    assert shown_text(reply) == EN_GREETING.format(name="Tom & <Jerry>")


async def test_start_in_russian_for_russian_client(
    bot_server: Server, fake_api: FakeBotAPI
) -> None:
    calls = await fake_api.say("/start", user_id=222, first_name="Борис", language_code="ru")

    reply = only_send(calls)
    assert shown_text(reply) == RU_GREETING.format(name="Борис")
    assert_app_button(reply, RU_OPEN_VMESTE)
    menu = await _chat_menu(fake_api, 222)
    assert menu.params["menu_button"]["text"] == RU_OPEN


async def test_unsupported_client_language_falls_back_to_english(
    bot_server: Server, fake_api: FakeBotAPI
) -> None:
    reply = only_send(await fake_api.say("/start", user_id=333, language_code="de"))
    assert shown_text(reply) == EN_GREETING.format(name="Anna")


# --------------------------------------------------------------------------- deep links


async def test_lang_link_switches_language(bot_server: Server, fake_api: FakeBotAPI) -> None:
    reply = only_send(await fake_api.say("/start lang_ru", user_id=111, language_code="en"))

    assert len(buttons(reply)) == 1
    assert buttons(reply)[0]["web_app"] == {"url": APP_URL}
    # Stored on the user: the Mini App (told "en" by the client) shows Russian too.
    user = await mini_app_sign_in(bot_server, 111, language_code="en")
    assert user["language"] == "ru"


async def test_lang_link_greets_in_russian(bot_server: Server, fake_api: FakeBotAPI) -> None:
    reply = only_send(await fake_api.say("/start lang_ru", user_id=111, first_name="Anna"))
    assert shown_text(reply) == RU_GREETING.format(name="Anna")
    assert_app_button(reply, RU_OPEN_VMESTE)
    menu = await _chat_menu(fake_api, 111)
    assert menu.params["menu_button"]["text"] == RU_OPEN


async def test_lang_link_with_unsupported_language(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    reply = only_send(await fake_api.say("/start lang_xx", user_id=111))

    assert shown_text(reply) == EN_BAD_LINK
    assert_app_button(reply)
    user = await mini_app_sign_in(bot_server, 111, language_code="en")
    assert user["language"] == "en"
    assert not errors_logged(caplog)


@pytest.mark.parametrize(
    "payload",
    [
        "unknown_thing",
        "room_" + "x" * 59,  # 64 characters, well-formed, no such room prefix
        "x" * 65,  # longer than Telegram allows
        "bad!chars",
        "two words",
        "привет",
    ],
    ids=["unknown", "unknown-prefix-64", "too-long-65", "bad-chars", "spaces", "cyrillic"],
)
async def test_unknown_or_invalid_payload_gets_friendly_reply(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture, payload: str
) -> None:
    reply = only_send(await fake_api.say(f"/start {payload}", user_id=111))

    assert shown_text(reply) == EN_BAD_LINK
    assert_app_button(reply)
    assert not errors_logged(caplog)


async def test_invalid_payload_reply_in_russian(bot_server: Server, fake_api: FakeBotAPI) -> None:
    reply = only_send(await fake_api.say("/start bad!chars", user_id=222, language_code="ru"))
    assert shown_text(reply) == RU_BAD_LINK
    assert_app_button(reply, RU_OPEN_VMESTE)
