"""Rooms from the bot over HTTP: /watch in private chats and groups, the throttled group status
message, /start room_<code>, /rooms."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from composition import Server
from models.rooms import Room, Visibility
from models.users import User
from services.accounts.users import TelegramProfile, do_upsert_telegram_user
from services.rooms.membership import do_close_room, do_create_room, do_join_room, do_leave_room
from tests.bot.conftest import (
    EN_BAD_LINK,
    PUBLIC_URL,
    assert_app_button,
    buttons,
    errors_logged,
    mini_app_sign_in,
    only_send,
    shown_text,
    start_bot_server,
)
from tests.conftest import ServerFactory
from tests.fakes.botapi import Call, FakeBotAPI

T = TypeVar("T")

LINK = "https://youtu.be/dQw4w9WgXcQ"
MEDIA_TITLE = "YouTube · dQw4w9WgXcQ"
GROUP = -1001234567
BOT_LINK = "https://t.me/vmeste_test_bot?startapp=room_"

EN_USAGE_START = "Send /watch <link> with a YouTube, Vimeo, Twitch or direct video link"
EN_READY = "Your room is ready: {title}\nOpen it, then invite friends: everyone watches in sync."
EN_UNPLAYABLE = "This link cannot be played. Paste a YouTube, Vimeo, Twitch or direct video link."
EN_NO_ROOM = "This room does not exist or has been closed."
EN_JOINED = "You are in {title}. Tap the button to watch."
EN_PRIVATE = "This room is private. Ask for an invite."

RU_READY = "Комната готова: {title}\nОткройте её и позовите друзей — все смотрят синхронно."
RU_OPEN_ROOM = "Открыть комнату"
RU_INVITE_FRIENDS = "Пригласить друзей"
RU_USAGE_START = "Отправьте /watch <ссылка> со ссылкой на YouTube, Vimeo, Twitch или видеофайл"
RU_UNPLAYABLE = (
    "Эту ссылку нельзя воспроизвести. Вставьте ссылку на YouTube, Vimeo, Twitch или видеофайл."
)
RU_NO_ROOM = "Этой комнаты нет или она закрыта."
RU_WATCHING_1 = f"1 смотрит · сейчас: {MEDIA_TITLE}"
RU_WATCHING_5 = f"5 смотрят · сейчас: {MEDIA_TITLE}"


def status_text(title: str, watching: int, now: str | None = MEDIA_TITLE) -> str:
    line = f"{watching} watching" + (f" · now: {now}" if now else "")
    return f"🎬 {title}\n{line}"


async def in_db(server: Server, fn: Callable[[], Awaitable[T]]) -> T:
    return await server.run(fn())


async def rooms_of(server: Server, telegram_id: int) -> list[Room]:
    async def query() -> list[Room]:
        return await Room.filter(host__telegram_id=telegram_id).order_by("id")

    return await in_db(server, query)


async def room_by_id(server: Server, room_id: int) -> Room:
    async def query() -> Room:
        return await Room.get(id=room_id)

    return await in_db(server, query)


def group_edits(fake_api: FakeBotAPI, chat_id: int = GROUP) -> list[Call]:
    return [c for c in fake_api.calls_of("editMessageText") if c.params.get("chat_id") == chat_id]


def group_text(fake_api: FakeBotAPI, message_id: int, chat_id: int = GROUP) -> str:
    (message,) = [m for m in fake_api.sent_messages(chat_id) if m["message_id"] == message_id]
    return str(message["text"])


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def set_interval(server: Server, seconds: float) -> None:
    assert server.dispatcher is not None
    server.dispatcher["notifier"].interval = seconds


async def watch_in_group(
    fake_api: FakeBotAPI, server: Server, user_id: int = 111, language_code: str = "en"
) -> Room:
    reply = only_send(
        await fake_api.say(
            f"/watch {LINK}", user_id=user_id, chat_id=GROUP, language_code=language_code
        )
    )
    assert reply.params["chat_id"] == GROUP
    (room,) = await rooms_of(server, user_id)
    return room


async def join_as(server: Server, room: Room, *telegram_ids: int) -> None:
    """Telegram users join one after another through the service (as the app would)."""
    assert server.services is not None
    services = server.services

    async def joins() -> None:
        for telegram_id in telegram_ids:
            user = await do_upsert_telegram_user(
                TelegramProfile(id=telegram_id, first_name=f"User{telegram_id}")
            )
            await do_join_room(services, room=room, acting_user=user)

    await server.run(joins())


# --------------------------------------------------------------------------- /watch, private


async def test_watch_in_private_chat_opens_room_with_web_app_button(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    reply = only_send(await fake_api.say(f"/watch {LINK}", user_id=111))

    (room,) = await rooms_of(bot_server, 111)
    assert room.chat_id is None
    assert room.current_title == MEDIA_TITLE  # the link is the first queue item, loaded
    assert shown_text(reply) == EN_READY.format(title=MEDIA_TITLE)
    assert buttons(reply) == [
        {"text": "Open room", "web_app": {"url": f"{PUBLIC_URL}/app/room/{room.code}"}},
        {"text": "Invite friends", "switch_inline_query": room.code},
    ]
    assert not errors_logged(caplog)


async def test_watch_in_russian(bot_server: Server, fake_api: FakeBotAPI) -> None:
    reply = only_send(await fake_api.say(f"/watch {LINK}", user_id=222, language_code="ru"))

    (room,) = await rooms_of(bot_server, 222)
    assert shown_text(reply) == RU_READY.format(title=MEDIA_TITLE)
    assert [b["text"] for b in buttons(reply)] == [RU_OPEN_ROOM, RU_INVITE_FRIENDS]
    assert buttons(reply)[0]["web_app"] == {"url": f"{PUBLIC_URL}/app/room/{room.code}"}


async def test_watch_without_https_gets_url_button(
    fake_api: FakeBotAPI, make_server: ServerFactory
) -> None:
    server = await start_bot_server(make_server, fake_api, public_url="http://127.0.0.1:8080")
    reply = only_send(await fake_api.say(f"/watch {LINK}", user_id=111))

    (room,) = await rooms_of(server, 111)
    assert buttons(reply)[0] == {
        "text": "Open room",
        "url": f"http://127.0.0.1:8080/app/room/{room.code}",
    }


@pytest.mark.parametrize("text", ["/watch", "/watch   "])
async def test_watch_without_link_explains(
    bot_server: Server, fake_api: FakeBotAPI, text: str
) -> None:
    reply = only_send(await fake_api.say(text, user_id=111))

    assert shown_text(reply).startswith(EN_USAGE_START)
    assert await rooms_of(bot_server, 111) == []


async def test_watch_without_link_in_russian(bot_server: Server, fake_api: FakeBotAPI) -> None:
    reply = only_send(await fake_api.say("/watch", user_id=222, language_code="ru"))
    assert shown_text(reply).startswith(RU_USAGE_START)


@pytest.mark.parametrize("chat_id", [None, GROUP], ids=["private", "group"])
async def test_watch_unsupported_link(
    bot_server: Server,
    fake_api: FakeBotAPI,
    caplog: pytest.LogCaptureFixture,
    chat_id: int | None,
) -> None:
    reply = only_send(
        await fake_api.say("/watch https://example.com/page", user_id=111, chat_id=chat_id)
    )

    assert shown_text(reply) == EN_UNPLAYABLE
    assert await rooms_of(bot_server, 111) == []
    assert not errors_logged(caplog)


async def test_watch_unsupported_link_in_russian(bot_server: Server, fake_api: FakeBotAPI) -> None:
    reply = only_send(await fake_api.say("/watch ftp://x", user_id=222, language_code="ru"))
    assert shown_text(reply) == RU_UNPLAYABLE


# --------------------------------------------------------------------------- /watch, group


async def test_watch_in_group_posts_url_button_and_binds_room(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    calls = await fake_api.say(f"/watch {LINK}", user_id=111, chat_id=GROUP)

    reply = only_send(calls)  # a web_app button would have been refused: BUTTON_TYPE_INVALID
    assert reply.params["chat_id"] == GROUP
    (room,) = await rooms_of(bot_server, 111)
    assert buttons(reply) == [{"text": "Join", "url": BOT_LINK + room.code}]
    assert shown_text(reply) == status_text(MEDIA_TITLE, 1)
    assert room.chat_id == GROUP
    assert room.chat_message_id == reply.result["message_id"]
    assert not [c for c in calls if not c.ok]
    assert not errors_logged(caplog)


async def test_watch_in_group_with_mini_app_short_name(
    fake_api: FakeBotAPI, make_server: ServerFactory
) -> None:
    server = await start_bot_server(make_server, fake_api, mini_app_short_name="watch")
    room = await watch_in_group(fake_api, server)
    message = fake_api.sent_messages(GROUP)[-1]
    (button,) = message["reply_markup"]["inline_keyboard"][0]
    assert button["url"] == f"https://t.me/vmeste_test_bot/watch?startapp=room_{room.code}"


async def test_group_message_in_russian_host_language(
    bot_server: Server, fake_api: FakeBotAPI
) -> None:
    set_interval(bot_server, 0.05)
    room = await watch_in_group(fake_api, bot_server, user_id=222, language_code="ru")
    assert group_text(fake_api, room.chat_message_id or 0).endswith(RU_WATCHING_1)
    # The host's language is Russian: edits stay in it, whoever joins.
    for user_id in range(301, 305):
        await fake_api.say(f"/start room_{room.code}", user_id=user_id, language_code="en")
    await wait_until(lambda: RU_WATCHING_5 in group_text(fake_api, room.chat_message_id or 0))


async def test_group_message_edited_after_join(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    set_interval(bot_server, 0.05)
    room = await watch_in_group(fake_api, bot_server)
    assert room.chat_message_id is not None

    await fake_api.say(f"/start room_{room.code}", user_id=222, first_name="Boris")

    edit = await fake_api.wait_for(
        "editMessageText", lambda c: c.params.get("chat_id") == GROUP and c.ok
    )
    assert edit.params["message_id"] == room.chat_message_id
    assert shown_text(edit) == status_text(MEDIA_TITLE, 2)
    assert buttons(edit) == [{"text": "Join", "url": BOT_LINK + room.code}]
    assert not errors_logged(caplog)


async def test_group_message_follows_joins_and_leaves_from_the_app(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Any transport's join goes through services and the bus: the group message follows."""
    set_interval(bot_server, 0.05)
    room = await watch_in_group(fake_api, bot_server)
    guest = await mini_app_sign_in(bot_server, 333, first_name="Vera")
    assert bot_server.services is not None
    services = bot_server.services

    async def join() -> None:
        await do_join_room(services, room=room, acting_user=await User.get(id=guest["id"]))

    async def leave() -> None:
        await do_leave_room(services, room=room, acting_user=await User.get(id=guest["id"]))

    await bot_server.run(join())
    await wait_until(
        lambda: group_text(fake_api, room.chat_message_id or 0) == status_text(MEDIA_TITLE, 2)
    )
    await bot_server.run(leave())
    await wait_until(
        lambda: group_text(fake_api, room.chat_message_id or 0) == status_text(MEDIA_TITLE, 1)
    )
    assert not errors_logged(caplog)


async def test_group_message_edits_are_throttled_and_the_last_state_lands(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    interval = 1.5
    set_interval(bot_server, interval)
    room = await watch_in_group(fake_api, bot_server)
    message_id = room.chat_message_id or 0

    await join_as(bot_server, room, *range(201, 206))  # a burst of five joins
    assert group_edits(fake_api) == []  # nothing yet: the post itself used this interval

    await wait_until(lambda: bool(group_edits(fake_api)), timeout=interval + 3)
    await asyncio.sleep(interval + 0.3)  # no further edit is due
    edits = group_edits(fake_api)
    assert len(edits) == 1, [str(c) for c in edits]
    assert edits[0].at - fake_api.calls_of("sendMessage")[0].at >= interval - 0.1
    assert group_text(fake_api, message_id) == status_text(MEDIA_TITLE, 6)

    # A change after the edit lands too, one interval after the previous edit.
    await fake_api.say(f"/start room_{room.code}", user_id=206)
    await wait_until(lambda: len(group_edits(fake_api)) == 2, timeout=interval + 3)
    assert group_text(fake_api, message_id) == status_text(MEDIA_TITLE, 7)
    assert group_edits(fake_api)[1].at - edits[0].at >= interval - 0.1
    assert not errors_logged(caplog)


async def test_group_message_shows_closed_room_without_button(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    set_interval(bot_server, 0.05)
    room = await watch_in_group(fake_api, bot_server)
    assert bot_server.services is not None
    await bot_server.run(do_close_room(bot_server.services, room=room, reason="closed_by_host"))

    # An edit for a change from before the close may land first (seen with the suite in
    # parallel); the closed state must land, and last.
    closed = f"🎬 {MEDIA_TITLE}\nThe room is closed."
    edit = await fake_api.wait_for("editMessageText", lambda c: c.ok and shown_text(c) == closed)
    assert buttons(edit) == []
    await asyncio.sleep(0.3)  # six intervals: no later edit brings the open room back
    assert [c for c in group_edits(fake_api) if c.ok][-1] is edit
    assert not errors_logged(caplog)


async def test_deleted_group_message_is_forgotten(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    set_interval(bot_server, 0.05)
    room = await watch_in_group(fake_api, bot_server)
    assert bot_server.bot is not None
    assert room.chat_message_id is not None
    await bot_server.run(bot_server.bot.delete_message(GROUP, room.chat_message_id))

    await fake_api.say(f"/start room_{room.code}", user_id=222)

    # (An edit for a change from before the deletion may come first and succeed.)
    failed = await fake_api.wait_for("editMessageText", lambda c: not c.ok)
    assert "message to edit not found" in str(failed.error)
    for _ in range(100):
        fresh = await room_by_id(bot_server, room.id)
        if fresh.chat_message_id is None:
            break
        await asyncio.sleep(0.02)
    assert fresh.chat_message_id is None
    # Later changes do not try again.
    await fake_api.say(f"/start room_{room.code}", user_id=223)
    await asyncio.sleep(0.3)
    assert len(fake_api.calls_of("editMessageText")) == 1
    assert not errors_logged(caplog)


async def test_unchanged_group_status_is_not_edited(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Re-checks that change nothing visible (the catch-up after posting, the host following
    their own link) cost no edit: Telegram would answer "message is not modified"."""
    set_interval(bot_server, 0.05)
    room = await watch_in_group(fake_api, bot_server)
    await fake_api.say(f"/start room_{room.code}", user_id=111)  # the host, already in
    await asyncio.sleep(0.3)
    assert fake_api.calls_of("editMessageText") == []
    assert not errors_logged(caplog)


# --------------------------------------------------------------------------- /start room_


async def test_start_room_joins_and_offers_the_room(
    bot_server: Server, fake_api: FakeBotAPI
) -> None:
    await fake_api.say(f"/watch {LINK}", user_id=111)
    (room,) = await rooms_of(bot_server, 111)

    reply = only_send(await fake_api.say(f"/start room_{room.code}", user_id=222))

    assert shown_text(reply) == EN_JOINED.format(title=MEDIA_TITLE)
    assert buttons(reply) == [
        {"text": "Open room", "web_app": {"url": f"{PUBLIC_URL}/app/room/{room.code}"}}
    ]

    async def member_ids() -> list[int | None]:
        await room.fetch_related("members__user")
        return [m.user.telegram_id for m in room.members if m.left_at is None]

    assert sorted(await bot_server.run(member_ids())) == [111, 222]


@pytest.mark.parametrize("closed", [False, True], ids=["unknown", "closed"])
async def test_start_room_unknown_or_closed(
    bot_server: Server,
    fake_api: FakeBotAPI,
    caplog: pytest.LogCaptureFixture,
    closed: bool,
) -> None:
    code = "abcdefgh"
    if closed:
        await fake_api.say(f"/watch {LINK}", user_id=111)
        (room,) = await rooms_of(bot_server, 111)
        assert bot_server.services is not None
        await bot_server.run(do_close_room(bot_server.services, room=room, reason="test"))
        code = room.code

    reply = only_send(await fake_api.say(f"/start room_{code}", user_id=222))

    assert shown_text(reply) == EN_NO_ROOM
    assert_app_button(reply)
    assert not errors_logged(caplog)


async def test_start_room_unknown_in_russian(bot_server: Server, fake_api: FakeBotAPI) -> None:
    reply = only_send(await fake_api.say("/start room_abcdefgh", user_id=2, language_code="ru"))
    assert shown_text(reply) == RU_NO_ROOM


async def test_start_room_malformed_code(bot_server: Server, fake_api: FakeBotAPI) -> None:
    reply = only_send(await fake_api.say("/start room_0OIl1xyz", user_id=222))
    assert shown_text(reply) == EN_BAD_LINK


async def _private_room(server: Server) -> Room:
    assert server.services is not None
    services = server.services

    async def create() -> Room:
        host = await User.get(telegram_id=111)
        return await do_create_room(
            services, acting_user=host, title="Secret", visibility=Visibility.PRIVATE
        )

    return await server.run(create())


async def test_start_private_room_needs_the_invite_code(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    await fake_api.say("/start", user_id=111)
    room = await _private_room(bot_server)

    refused = only_send(await fake_api.say(f"/start room_{room.code}", user_id=222))
    assert shown_text(refused) == EN_PRIVATE

    reply = only_send(
        await fake_api.say(f"/start room_{room.code}_{room.invite_code}", user_id=222)
    )
    assert shown_text(reply) == EN_JOINED.format(title="Secret")
    url = f"{PUBLIC_URL}/app/room/{room.code}?invite={room.invite_code}"
    assert buttons(reply) == [{"text": "Open room", "web_app": {"url": url}}]
    assert not errors_logged(caplog)


# --------------------------------------------------------------------------- /rooms


async def test_rooms_lists_open_rooms(bot_server: Server, fake_api: FakeBotAPI) -> None:
    await fake_api.say(f"/watch {LINK}", user_id=111)
    await fake_api.say("/watch https://vimeo.com/123456", user_id=111)
    await fake_api.say(f"/watch {LINK}", user_id=222)
    first, second = await rooms_of(bot_server, 111)
    (other,) = await rooms_of(bot_server, 222)
    await fake_api.say(f"/start room_{other.code}", user_id=111)
    assert bot_server.services is not None
    await bot_server.run(do_close_room(bot_server.services, room=first, reason="test"))

    reply = only_send(await fake_api.say("/rooms", user_id=111))

    assert shown_text(reply) == f"Your open rooms\n• Vimeo · 123456 (host)\n• {MEDIA_TITLE}"
    urls = [b["web_app"]["url"] for b in buttons(reply)]
    assert urls == [
        f"{PUBLIC_URL}/app/room/{second.code}",
        f"{PUBLIC_URL}/app/room/{other.code}",
    ]


async def test_rooms_when_there_are_none(bot_server: Server, fake_api: FakeBotAPI) -> None:
    reply = only_send(await fake_api.say("/rooms", user_id=111))
    assert shown_text(reply) == ("You are not in any open room. Start one with /watch <link>.")
    assert buttons(reply) == []
