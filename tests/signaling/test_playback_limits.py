"""Playback and queue commands are limited per member of a room and per room (each one is
fanned out to the whole room): a rate_limited ack with retry_after, and after the window they
work again (services/rooms/playback.py ``check_command_rate``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import socketio

from composition import Server
from models.rooms import ControlMode
from tests.conftest import Account, ServerFactory, register
from tests.signaling.test_rooms import YT, YT2, YT3, Recorder, create_room, join

Connect = Callable[[Account], Awaitable[Recorder]]


@pytest.fixture
async def limited_server(make_server: ServerFactory) -> Server:
    return await make_server(playback_rate_member="3/2seconds", playback_rate_room="5/2seconds")


@pytest.fixture
async def connect(limited_server: Server) -> AsyncIterator[Connect]:
    clients: list[socketio.AsyncClient] = []

    async def open_socket(account: Account) -> Recorder:
        client = socketio.AsyncClient(reconnection=False)
        clients.append(client)
        await client.connect(
            limited_server.url,
            transports=["websocket"],
            auth={"token": account.token},
            wait_timeout=5,
        )
        return Recorder(client)

    yield open_socket
    for client in clients:
        if client.connected:
            await client.disconnect()


@pytest.fixture
async def people(limited_server: Server) -> list[Account]:
    async with aiohttp.ClientSession(base_url=limited_server.url) as http:
        return [await register(http, name) for name in ("anna", "boris")]


def assert_limited(ack: dict[str, Any], message: str) -> None:
    assert ack["ok"] is False, ack
    error = ack["error"]
    assert error["code"] == "rate_limited", ack
    assert 1 <= error["details"]["retry_after"] <= 2, ack
    assert error["message"].startswith(message), ack


async def test_playback_commands_are_limited_per_member_and_per_room(
    limited_server: Server, connect: Connect, people: list[Account]
) -> None:
    anna, boris = people
    room = await create_room(limited_server, anna, media_url=YT, control_mode=ControlMode.EVERYONE)
    other = await create_room(limited_server, anna, media_url=YT)
    host, guest = await connect(anna), await connect(boris)
    await join(host, room)
    await join(host, other)
    await join(guest, room)

    seeks = [await host.call("player:seek", {"roomId": room.id, "position": i}) for i in range(3)]
    assert [ack["ok"] for ack in seeks] == [True, True, True]
    # Anna's fourth within the window: her own limit.
    limited = await host.call("player:seek", {"roomId": room.id, "position": 9})
    assert_limited(limited, "You are controlling playback too fast.")
    # Her commands in another room have their own budget.
    assert (await host.call("player:play", {"roomId": other.id}))["ok"] is True

    # Boris has his own budget, but the room's (5) runs out: 3 of Anna's + 2 of his.
    assert (await guest.call("player:pause", {"roomId": room.id}))["ok"] is True
    assert (await guest.call("player:rate", {"roomId": room.id, "rate": 1.5}))["ok"] is True
    limited = await guest.call("player:play", {"roomId": room.id})
    assert_limited(limited, "Too many playback commands in this room right now.")

    # After the window it works again; queue changes count as commands too.
    await asyncio.sleep(2.1)
    # The refused commands reached nobody: Anna saw Boris's two accepted ones only (her own
    # come back in their acks).
    assert [s["playback"]["by"] for s in host.of("room:state") if s["roomId"] == room.id] == [
        boris.id,
        boris.id,
    ]
    for url in (YT2, YT3):
        assert (await host.call("queue:add", {"roomId": room.id, "url": url}))["ok"] is True
    assert (await host.call("queue:next", {"roomId": room.id}))["ok"] is True
    limited = await host.call("player:load", {"roomId": room.id, "url": YT})
    assert_limited(limited, "You are controlling playback too fast.")
