"""Abuse limits seen from Telegram: /watch and inline mode share the per-user room creation
budget (with a localized reply), and a repeated invite sends one Telegram message."""

from __future__ import annotations

import asyncio
import re

import pytest

from composition import Server
from models.rooms import Room
from models.users import User
from services.rooms.membership import do_create_room, do_invite
from tests.bot.conftest import (
    errors_logged,
    mini_app_sign_in,
    only_send,
    shown_text,
    start_bot_server,
)
from tests.bot.test_inline import ask, results
from tests.conftest import ServerFactory
from tests.fakes.botapi import FakeBotAPI

LINK = "https://youtu.be/dQw4w9WgXcQ"
EN_LIMITED = re.compile(r"You are creating rooms too often\. Try again in \d+ s\.")
RU_LIMITED = re.compile(r"Вы создаёте комнаты слишком часто\. Повторите через \d+ с\.")


async def _rooms_of(server: Server, telegram_id: int) -> list[Room]:
    async def query() -> list[Room]:
        return await Room.filter(host__telegram_id=telegram_id).order_by("id")

    return await server.run(query())


async def test_watch_and_inline_mode_share_the_room_creation_limit(
    fake_api: FakeBotAPI, make_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start_bot_server(make_server, fake_api, room_create_rate="2/minute")
    only_send(await fake_api.say(f"/watch {LINK}", user_id=111))
    assert len(results(await ask(fake_api, "https://youtu.be/9bZkp7q19f0"))) == 1

    # The third room of the minute: /watch answers why, inline mode offers nothing.
    reply = only_send(await fake_api.say(f"/watch {LINK}", user_id=111))
    assert EN_LIMITED.fullmatch(shown_text(reply)), shown_text(reply)
    assert results(await ask(fake_api, "https://youtu.be/kJQP7kiw5Fk")) == []
    assert len(await _rooms_of(server, 111)) == 2
    # In the user's language.
    only_send(await fake_api.say(f"/watch {LINK}", user_id=222, language_code="ru"))
    only_send(await fake_api.say(f"/watch {LINK}", user_id=222, language_code="ru"))
    reply = only_send(await fake_api.say(f"/watch {LINK}", user_id=222, language_code="ru"))
    assert RU_LIMITED.fullmatch(shown_text(reply)), shown_text(reply)
    assert not errors_logged(caplog)


async def test_a_repeated_invite_sends_one_telegram_message(
    fake_api: FakeBotAPI, make_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start_bot_server(make_server, fake_api)
    await mini_app_sign_in(server, 111, first_name="Anna")
    invitee = await mini_app_sign_in(server, 222, first_name="Boris")
    assert server.services is not None
    services = server.services

    async def create() -> Room:
        host = await User.get(telegram_id=111)
        return await do_create_room(services, acting_user=host, title="Movie night")

    room = await server.run(create())

    async def invite() -> None:
        host = await User.get(telegram_id=111)
        await do_invite(services, room=room, acting_user=host, invitee_id=invitee["id"])

    for _ in range(5):
        await server.run(invite())
        await asyncio.sleep(0.1)  # each one's message would have gone out by now
    sent = [c for c in fake_api.calls_of("sendMessage") if c.params.get("chat_id") == 222]
    assert len(sent) == 1, sent
    assert not errors_logged(caplog)
