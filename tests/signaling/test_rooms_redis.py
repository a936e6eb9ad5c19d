"""Rooms across two app instances on one Redis (and one database): presence is shared, a player
command on one reaches a client of the other, and a kick on one silences the other's socket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from composition import Server
from models.users import User
from services.rooms.moderation import do_kick
from signaling.hub import close_sio
from tests.conftest import REDIS_URL, ServerFactory, SioFactory, register
from tests.signaling.test_rooms import YT, connect, create_room, eventually, in_server, join
from webapp.keys import SIO

pytestmark = pytest.mark.redis


async def subscribed(server: Server) -> None:
    """Wait for the instance's Socket.IO manager to listen on Redis (it starts on the first
    connection): a message published before it subscribed never reaches this instance's
    sockets."""
    manager = server.app[SIO].manager
    await eventually(lambda: getattr(getattr(manager, "pubsub", None), "subscribed", False))


@pytest.fixture
async def two_instances(make_server: ServerFactory) -> AsyncIterator[tuple[Server, Server]]:
    first = await make_server(redis_url=REDIS_URL)
    second = await make_server(redis_url=REDIS_URL)
    yield first, second
    for server in (first, second):
        await close_sio(server.app[SIO])


async def test_player_command_on_one_instance_reaches_the_other(
    two_instances: tuple[Server, Server], sio_client: SioFactory
) -> None:
    first, second = two_instances
    async with aiohttp.ClientSession(base_url=first.url) as http:
        anna = await register(http, "anna_rooms_redis")
        boris = await register(http, "boris_rooms_redis")
    host = await connect(sio_client, anna, url=first.url)
    guest = await connect(sio_client, boris, url=second.url)
    for server in (first, second):
        await subscribed(server)
    room = await create_room(first, anna, media_url=YT)
    await join(host, room, rtt=450)
    snap = await join(guest, room)
    # Presence lives in Redis: the second instance sees the host who joined on the first,
    # including her round trip when it schedules a start.
    assert {p["user"]["id"] for p in snap["participants"]} == {anna.id, boris.id}

    # The second instance's pub/sub subscription starts lazily: repeat until it delivers.
    deadline = time.monotonic() + 5
    while not guest.of("room:state"):
        assert time.monotonic() < deadline, "room:state never crossed Redis"
        sent = time.time() * 1000
        ack = await host.call("player:play", {"roomId": room.id, "position": 3})
        assert ack["ok"] is True, ack
        assert ack["playback"]["updatedAt"] >= sent + 900
        await asyncio.sleep(0.2)
    state = guest.of("room:state")[-1]
    assert state["playback"]["status"] == "playing"
    assert state["playback"]["position"] == 3
    assert host.of("room:state") == []

    # Permissions hold on either instance (host-control room).
    ack = await guest.call("player:pause", {"roomId": room.id})
    assert ack["error"]["code"] == "forbidden"

    async def kick() -> None:
        await do_kick(
            first.services, room=room, acting_user=await User.get(id=anna.id), target_id=boris.id
        )

    await in_server(first, kick)
    await eventually(lambda: bool(guest.of("room:kicked")))
    await asyncio.sleep(0.2)
    seen = len(guest.of("room:state"))
    assert (await host.call("player:pause", {"roomId": room.id}))["ok"] is True
    await asyncio.sleep(0.4)
    assert len(guest.of("room:state")) == seen
