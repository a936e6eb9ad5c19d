"""Inline mode: ``@bot <link or room code>`` → "Watch together" with a t.me join button."""

from __future__ import annotations

from typing import Any

import pytest

from composition import Server
from models.rooms import Room, Visibility
from models.users import User
from services.rooms.membership import do_close_room, do_create_room
from tests.bot.conftest import errors_logged, start_bot_server
from tests.conftest import ServerFactory
from tests.fakes.botapi import Call, FakeBotAPI

LINK = "https://youtu.be/dQw4w9WgXcQ"
MEDIA_TITLE = "YouTube · dQw4w9WgXcQ"
BOT_LINK = "https://t.me/vmeste_test_bot?startapp=room_"


async def ask(fake_api: FakeBotAPI, query: str, user_id: int = 111, **kw: Any) -> Call:
    """Send an inline query; return the bot's answerInlineQuery call."""
    update = fake_api.inline_update(query, user_id=user_id, **kw)
    query_id = update["inline_query"]["id"]
    start = len(fake_api.calls)
    fake_api.push_update(update)
    call = await fake_api.wait_for(
        "answerInlineQuery", lambda c: c.params.get("inline_query_id") == query_id, since=start
    )
    assert call.ok, str(call)
    return call


def results(call: Call) -> list[dict[str, Any]]:
    found = call.params["results"]
    assert isinstance(found, list)
    return found


async def rooms_hosted_by(server: Server, telegram_id: int) -> list[Room]:
    async def query() -> list[Room]:
        return await Room.filter(host__telegram_id=telegram_id).order_by("id")

    return await server.run(query())


def assert_room_result(result: dict[str, Any], room: Room, invite: str | None = None) -> None:
    link = BOT_LINK + room.code + (f"_{invite}" if invite else "")
    assert result["type"] == "article"
    assert result["id"] == f"room:{room.code}"
    assert result["title"] == "Watch together"
    assert result["description"] == room.title
    assert result["reply_markup"] == {"inline_keyboard": [[{"text": "Join", "url": link}]]}
    content = result["input_message_content"]
    assert content["message_text"].endswith(f"<b>{room.title}</b>")
    assert content["parse_mode"] == "HTML"


async def test_link_query_offers_a_new_room(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    call = await ask(fake_api, LINK)

    (room,) = await rooms_hosted_by(bot_server, 111)
    assert room.title == MEDIA_TITLE
    assert room.chat_id is None
    (result,) = results(call)
    assert_room_result(result, room)
    assert call.params["cache_time"] == 0
    assert call.params["is_personal"] is True
    assert not errors_logged(caplog)


async def test_repeated_link_query_reuses_the_room(
    bot_server: Server, fake_api: FakeBotAPI
) -> None:
    first = await ask(fake_api, LINK)
    second = await ask(fake_api, LINK + " ")
    other_user = await ask(fake_api, LINK, user_id=222)

    (room,) = await rooms_hosted_by(bot_server, 111)
    assert results(first) == results(second)
    assert_room_result(results(second)[0], room)
    (theirs,) = await rooms_hosted_by(bot_server, 222)  # each user hosts their own
    assert_room_result(results(other_user)[0], theirs)


async def test_link_query_after_the_room_closed_makes_a_new_one(
    bot_server: Server, fake_api: FakeBotAPI
) -> None:
    await ask(fake_api, LINK)
    (room,) = await rooms_hosted_by(bot_server, 111)
    assert bot_server.services is not None
    await bot_server.run(do_close_room(bot_server.services, room=room, reason="test"))

    call = await ask(fake_api, LINK)

    old, new = await rooms_hosted_by(bot_server, 111)
    assert old.id == room.id
    assert_room_result(results(call)[0], new)


@pytest.mark.parametrize(
    "query", ["https://youtu.be/dQw4w", "hello there", "https://example.com/page"]
)
async def test_incomplete_or_unsupported_query_offers_nothing(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture, query: str
) -> None:
    call = await ask(fake_api, query)

    assert results(call) == []
    assert await rooms_hosted_by(bot_server, 111) == []
    assert not errors_logged(caplog)


async def _create(server: Server, telegram_id: int, **kw: Any) -> Room:
    assert server.services is not None
    services = server.services

    async def create() -> Room:
        host = await User.get(telegram_id=telegram_id)
        return await do_create_room(services, acting_user=host, **kw)

    return await server.run(create())


@pytest.mark.parametrize(
    "form", ["{code}", "room_{code}", "https://t.me/vmeste_test_bot?startapp=room_{code}"]
)
async def test_room_code_query_offers_that_room(
    bot_server: Server, fake_api: FakeBotAPI, form: str
) -> None:
    await fake_api.say("/start", user_id=222)
    room = await _create(bot_server, 222, title="Friday film")

    call = await ask(fake_api, form.format(code=room.code))

    (result,) = results(call)
    assert_room_result(result, room)
    assert await rooms_hosted_by(bot_server, 111) == []  # nothing created


async def test_private_room_code_query(bot_server: Server, fake_api: FakeBotAPI) -> None:
    await fake_api.say("/start", user_id=222)
    room = await _create(bot_server, 222, title="Secret", visibility=Visibility.PRIVATE)

    stranger = await ask(fake_api, room.code, user_id=111)
    host = await ask(fake_api, room.code, user_id=222)

    assert results(stranger) == []
    (result,) = results(host)
    assert_room_result(result, room, invite=room.invite_code)


async def test_empty_query_lists_my_open_rooms(bot_server: Server, fake_api: FakeBotAPI) -> None:
    await fake_api.say("/start", user_id=111)
    older = await _create(bot_server, 111, title="First")
    newer = await _create(bot_server, 111, title="Second")

    call = await ask(fake_api, "")

    assert [r["id"] for r in results(call)] == [f"room:{newer.code}", f"room:{older.code}"]


async def test_room_creation_from_inline_mode_is_rate_limited(
    fake_api: FakeBotAPI, make_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # Inline mode's own limit became the one of every room creation (ROOM_CREATE_RATE), here at
    # the old inline value; the test settings' default is generous.
    bot_server = await start_bot_server(make_server, fake_api, room_create_rate="10/10minutes")
    links = [f"https://youtu.be/dQw4w9WgX{i:02d}" for i in range(11)]
    answers = [await ask(fake_api, link) for link in links]

    assert [len(results(call)) for call in answers] == [1] * 10 + [0]
    assert len(await rooms_hosted_by(bot_server, 111)) == 10
    assert not errors_logged(caplog)
