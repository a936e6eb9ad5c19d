"""Domain events → Telegram: invite messages; the subscriber-channel checker (getChatMember)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from composition import Server
from models.rooms import Room, RoomInvite, Visibility
from models.users import User
from services.rooms.membership import do_create_room, do_invite, is_subscriber
from tests.bot.conftest import (
    PUBLIC_URL,
    buttons,
    errors_logged,
    mini_app_sign_in,
    shown_text,
    start_bot_server,
)
from tests.conftest import ServerFactory, register
from tests.fakes.botapi import FakeBotAPI

EN_INVITE = "{name} invites you to watch together: {title}"
RU_INVITE = "{name} приглашает вас посмотреть вместе: {title}"
CHANNEL = "@vmeste_channel"


async def _room_and_invite(
    server: Server, host_tg: int, invitee_id: int, *, visibility: Visibility
) -> Room:
    assert server.services is not None
    services = server.services

    async def flow() -> Room:
        host = await User.get(telegram_id=host_tg)
        room = await do_create_room(
            services, acting_user=host, title="Movie <night>", visibility=visibility
        )
        await do_invite(services, room=room, acting_user=host, invitee_id=invitee_id)
        return room

    return await server.run(flow())


def _sends_to(fake_api: FakeBotAPI, chat_id: int) -> list[Any]:
    return [c for c in fake_api.calls_of("sendMessage") if c.params.get("chat_id") == chat_id]


@pytest.mark.parametrize("visibility", [Visibility.PUBLIC, Visibility.PRIVATE])
async def test_invite_sends_the_invitee_a_button_to_the_room(
    bot_server: Server,
    fake_api: FakeBotAPI,
    caplog: pytest.LogCaptureFixture,
    visibility: Visibility,
) -> None:
    await mini_app_sign_in(bot_server, 111, first_name="Anna")
    invitee = await mini_app_sign_in(bot_server, 222, first_name="Boris")

    room = await _room_and_invite(bot_server, 111, invitee["id"], visibility=visibility)

    sent = await fake_api.wait_for("sendMessage", lambda c: c.params.get("chat_id") == 222)
    assert shown_text(sent) == EN_INVITE.format(name="Anna", title="Movie <night>")
    url = f"{PUBLIC_URL}/app/room/{room.code}?invite={room.invite_code}"
    assert buttons(sent) == [{"text": "Open room", "web_app": {"url": url}}]
    assert not errors_logged(caplog)


async def test_invite_in_the_invitees_language(bot_server: Server, fake_api: FakeBotAPI) -> None:
    await mini_app_sign_in(bot_server, 111, first_name="Anna")
    invitee = await mini_app_sign_in(bot_server, 222, first_name="Борис", language_code="ru")

    await _room_and_invite(bot_server, 111, invitee["id"], visibility=Visibility.PUBLIC)

    sent = await fake_api.wait_for("sendMessage", lambda c: c.params.get("chat_id") == 222)
    assert shown_text(sent) == RU_INVITE.format(name="Anna", title="Movie <night>")
    assert buttons(sent)[0]["text"] == "Открыть комнату"


async def test_invite_to_a_user_who_blocked_the_bot(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    await mini_app_sign_in(bot_server, 111)
    invitee = await mini_app_sign_in(bot_server, 222)
    fake_api.set_blocked(222)

    room = await _room_and_invite(bot_server, 111, invitee["id"], visibility=Visibility.PUBLIC)

    refused = await fake_api.wait_for("sendMessage", lambda c: c.params.get("chat_id") == 222)
    assert not refused.ok
    assert refused.error is not None
    assert refused.error["error_code"] == 403

    async def invited() -> bool:
        return await RoomInvite.exists(room_id=room.id, invitee_id=invitee["id"])

    assert await bot_server.run(invited())  # the invite itself stands
    await asyncio.sleep(0.1)
    assert len(_sends_to(fake_api, 222)) == 1  # no retry loop
    assert not errors_logged(caplog)


async def test_invite_to_an_account_without_telegram(
    bot_server: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    await mini_app_sign_in(bot_server, 111)
    async with aiohttp.ClientSession(base_url=bot_server.url) as http:
        email_user = await register(http, "carol")
    fake_api.clear()

    await _room_and_invite(bot_server, 111, email_user.id, visibility=Visibility.PUBLIC)

    await asyncio.sleep(0.2)
    assert fake_api.calls_of("sendMessage") == []
    assert not errors_logged(caplog)


# --------------------------------------------------------------------------- the channel


@pytest.fixture
async def channel_server(fake_api: FakeBotAPI, make_server: ServerFactory) -> Server:
    return await start_bot_server(make_server, fake_api, subscriber_channel_id=CHANNEL)


@pytest.mark.parametrize(
    ("status", "fields", "expected"),
    [
        ("member", {}, True),
        ("administrator", {}, True),
        ("creator", {}, True),
        ("restricted", {"is_member": True}, True),
        ("restricted", {"is_member": False}, False),
        ("left", {}, False),
        ("kicked", {}, False),
    ],
)
async def test_channel_checker(
    channel_server: Server,
    fake_api: FakeBotAPI,
    status: str,
    fields: dict[str, Any],
    expected: bool,
) -> None:
    fake_api.set_chat_member(CHANNEL, 111, status, **fields)
    services = channel_server.services
    assert services is not None
    assert services.channel_checker is not None

    assert await channel_server.run(services.channel_checker(111)) is expected
    (call,) = fake_api.calls_of("getChatMember")
    assert call.params == {"chat_id": CHANNEL, "user_id": 111}


async def test_numeric_channel_id(fake_api: FakeBotAPI, make_server: ServerFactory) -> None:
    server = await start_bot_server(make_server, fake_api, subscriber_channel_id="-1009876")
    fake_api.set_chat_member(-1009876, 111, "member")
    assert server.services is not None
    assert server.services.channel_checker is not None
    assert await server.run(server.services.channel_checker(111)) is True
    (call,) = fake_api.calls_of("getChatMember")
    assert call.params["chat_id"] == -1009876


async def test_subscriber_check_goes_through_the_bot_and_is_cached(
    channel_server: Server, fake_api: FakeBotAPI
) -> None:
    fake_api.set_chat_member(CHANNEL, 111, "member")
    services = channel_server.services
    assert services is not None

    assert await channel_server.run(is_subscriber(services, 111)) is True
    fake_api.set_chat_member(CHANNEL, 111, "left")
    assert await channel_server.run(is_subscriber(services, 111)) is True  # cached
    assert len(fake_api.calls_of("getChatMember")) == 1
    assert await channel_server.run(is_subscriber(services, 222)) is False


async def test_no_channel_no_checker(bot_server: Server) -> None:
    assert bot_server.services is not None
    assert bot_server.services.channel_checker is None
