"""The one error router: domain errors → a localized reply or alert; other errors → logged and a
generic reply; Telegram refusing to deliver → a log line, no ERROR and no retry loop."""

from __future__ import annotations

import logging

import pytest
from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from composition import Server
from services.core.errors import NotFound, ValidationError
from tests.bot.conftest import (
    EN_SOMETHING_WRONG,
    RU_NOT_FOUND,
    RU_SOMETHING_WRONG,
    errors_logged,
    mini_app_sign_in,
    only_send,
    sends,
    shown_text,
)
from tests.fakes.botapi import Call, FakeBotAPI


class Boom(RuntimeError):
    pass


@pytest.fixture
def failing_handlers(bot_server: Server) -> None:
    """Test-only handlers that raise, added to the running dispatcher (after the real ones)."""
    router = Router(name="failing")

    @router.message(Command("notfound"))
    async def not_found(message: Message) -> None:
        raise NotFound()

    @router.message(Command("badfield"))
    async def bad_field(message: Message) -> None:
        raise ValidationError(field="<title>", reason="too long & odd")

    @router.message(Command("crash"))
    async def crash(message: Message) -> None:
        raise Boom("unexpected")

    @router.callback_query(F.data == "crash")
    async def crash_button(callback: CallbackQuery) -> None:
        raise Boom("unexpected")

    assert bot_server.dispatcher is not None
    bot_server.dispatcher.include_router(router)


def _answers(calls: list[Call]) -> list[Call]:
    return [c for c in calls if c.method == "answerCallbackQuery"]


async def test_unsupported_language_button_alerts(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """do_set_language raises ValidationError; the user sees it as an alert, nothing else."""
    await fake_api.say("/language", user_id=111)

    calls = await fake_api.press("lang:xx", user_id=111)

    (answer,) = _answers(calls)
    assert answer.params["show_alert"] is True
    assert answer.params["text"] == "This language is not supported. Choose Russian or English."
    assert not [c for c in calls if c.method in {"editMessageText", "sendMessage"}]
    user = await mini_app_sign_in(bot_server, 111, language_code="en")
    assert user["language"] == "en"
    assert not errors_logged(caplog)


@pytest.mark.usefixtures("failing_handlers")
async def test_domain_error_in_a_message_handler(
    fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    reply = only_send(await fake_api.say("/notfound"))
    assert shown_text(reply) == "Not found."
    assert not errors_logged(caplog)


@pytest.mark.usefixtures("failing_handlers")
async def test_domain_error_data_is_escaped(fake_api: FakeBotAPI) -> None:
    """Error data is user input; inside an HTML message it must not break the message."""
    reply = only_send(await fake_api.say("/badfield"))
    assert shown_text(reply) == "Invalid value for <title>: too long & odd."


@pytest.mark.usefixtures("failing_handlers")
async def test_domain_error_in_russian(fake_api: FakeBotAPI) -> None:
    reply = only_send(await fake_api.say("/notfound", user_id=222, language_code="ru"))
    assert shown_text(reply) == RU_NOT_FOUND


@pytest.mark.usefixtures("failing_handlers")
async def test_unexpected_error_is_logged_with_generic_reply(
    fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    reply = only_send(await fake_api.say("/crash"))

    assert shown_text(reply) == EN_SOMETHING_WRONG
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.name == "bot.routers.errors"
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], Boom)


@pytest.mark.usefixtures("failing_handlers")
async def test_unexpected_error_reply_in_russian(fake_api: FakeBotAPI) -> None:
    reply = only_send(await fake_api.say("/crash", user_id=222, language_code="ru"))
    assert shown_text(reply) == RU_SOMETHING_WRONG


@pytest.mark.usefixtures("failing_handlers")
async def test_unexpected_error_in_a_button_alerts(fake_api: FakeBotAPI) -> None:
    calls = await fake_api.press("crash")

    (answer,) = _answers(calls)
    assert answer.params["show_alert"] is True
    assert answer.params["text"] == EN_SOMETHING_WRONG


async def test_blocked_user_is_not_an_error(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    fake_api.set_blocked(111)

    calls = await fake_api.say("/help", user_id=111)

    (attempt,) = [c for c in calls if c.method == "sendMessage"]  # no second try, no error reply
    assert attempt.error is not None
    assert attempt.error["error_code"] == 403
    assert not errors_logged(caplog)


async def test_failing_error_reply_does_not_escape_the_error_router(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram down: the reply fails, the generic reply fails too; one ERROR, from us."""
    fake_api.fail_next("sendMessage", 500)
    fake_api.fail_next("sendMessage", 500)

    start = len(fake_api.calls)
    await fake_api.say("/help")
    await fake_api.wait_for(
        "sendMessage", lambda c: c.params["text"] == EN_SOMETHING_WRONG, since=start
    )

    calls = fake_api.calls[start:]
    assert len([c for c in calls if c.method == "sendMessage"]) == 2
    assert not sends(calls)
    assert [r.name for r in caplog.records if r.levelno >= logging.ERROR] == ["bot.routers.errors"]
