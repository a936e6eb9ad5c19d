"""/language: the choice is stored on the user and wins over the Telegram client's language."""

from __future__ import annotations

import pytest

from composition import Server
from tests.bot.conftest import (
    EN_GREETING,
    RU_CHOOSE_LANGUAGE,
    RU_GREETING,
    RU_HELP,
    RU_LANGUAGE_SET,
    RU_OPEN,
    buttons,
    errors_logged,
    mini_app_sign_in,
    only_send,
    shown_text,
)
from tests.fakes.botapi import Call, FakeBotAPI


def _choices(call: Call) -> list[tuple[str, str]]:
    return [(b["text"], b["callback_data"]) for b in buttons(call)]


def _one(calls: list[Call], method: str) -> Call:
    found = [c for c in calls if c.method == method]
    assert len(found) == 1, [str(c) for c in calls]
    return found[0]


async def test_language_offers_russian_and_english(
    bot_server: Server, fake_api: FakeBotAPI
) -> None:
    reply = only_send(await fake_api.say("/language", user_id=111, language_code="en"))

    assert shown_text(reply) == "Choose your language:"
    assert _choices(reply) == [("Русский", "lang:ru"), ("✓ English", "lang:en")]


async def test_language_marks_the_client_language(bot_server: Server, fake_api: FakeBotAPI) -> None:
    reply = only_send(await fake_api.say("/language", user_id=222, language_code="ru"))
    assert _choices(reply) == [("✓ Русский", "lang:ru"), ("English", "lang:en")]


async def test_language_prompt_in_russian(bot_server: Server, fake_api: FakeBotAPI) -> None:
    reply = only_send(await fake_api.say("/language", user_id=222, language_code="ru"))
    assert shown_text(reply) == RU_CHOOSE_LANGUAGE


async def test_choosing_russian_is_stored_on_the_user(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    prompt = only_send(await fake_api.say("/language", user_id=111, language_code="en"))

    calls = await fake_api.press("lang:ru", user_id=111)

    answer = _one(calls, "answerCallbackQuery")
    assert answer.params.get("show_alert") is not True
    edit = _one(calls, "editMessageText")
    assert edit.ok
    assert edit.params["message_id"] == prompt.result["message_id"]
    assert _choices(edit) == [("✓ Русский", "lang:ru"), ("English", "lang:en")]
    assert _one(calls, "setChatMenuButton").params["chat_id"] == 111
    # The same row the Mini App signs in to: it shows Russian although the client says "en".
    user = await mini_app_sign_in(bot_server, 111, language_code="en")
    assert user["language"] == "ru"
    assert not errors_logged(caplog)


async def test_choosing_russian_answers_in_russian(
    bot_server: Server, fake_api: FakeBotAPI
) -> None:
    await fake_api.say("/language", user_id=111, language_code="en")
    calls = await fake_api.press("lang:ru", user_id=111)

    assert _one(calls, "answerCallbackQuery").params["text"] == RU_LANGUAGE_SET
    assert shown_text(_one(calls, "editMessageText")) == RU_LANGUAGE_SET
    assert _one(calls, "setChatMenuButton").params["menu_button"]["text"] == RU_OPEN
    # Later messages follow the stored choice, not the client's "en".
    help_reply = only_send(await fake_api.say("/help", user_id=111, language_code="en"))
    assert shown_text(help_reply) == RU_HELP
    start = only_send(await fake_api.say("/start", user_id=111, language_code="en"))
    assert shown_text(start) == RU_GREETING.format(name="Anna")


async def test_choosing_english_overrides_a_russian_client(
    bot_server: Server, fake_api: FakeBotAPI
) -> None:
    await fake_api.say("/language", user_id=222, language_code="ru")

    calls = await fake_api.press("lang:en", user_id=222)

    assert _one(calls, "answerCallbackQuery").params["text"] == "Language set: English."
    edit = _one(calls, "editMessageText")
    assert shown_text(edit) == "Language set: English."
    assert _choices(edit) == [("Русский", "lang:ru"), ("✓ English", "lang:en")]
    start = only_send(await fake_api.say("/start", user_id=222, language_code="ru"))
    assert shown_text(start) == EN_GREETING.format(name="Anna")
    user = await mini_app_sign_in(bot_server, 222, language_code="ru")
    assert user["language"] == "en"


async def test_choosing_the_current_language_again_is_quiet(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram refuses an edit that changes nothing; that must not reach the user as an error."""
    await fake_api.say("/language", user_id=111)
    await fake_api.press("lang:en", user_id=111)

    calls = await fake_api.press("lang:en", user_id=111)

    answer = _one(calls, "answerCallbackQuery")
    assert answer.params["text"] == "Language set: English."
    assert answer.params.get("show_alert") is not True
    assert not [c for c in calls if c.method == "sendMessage"]
    assert not errors_logged(caplog)
