"""Redis lost while rooms are open: killed, unreachable for a while, then restarted empty.

Before: every open room reset (playback to 0 and paused, participants emptied), ``seq``
restarted at 1 so clients dropped the next states, and chat failed for the whole outage. Now the
clock is read back from the room's row, each process puts its connections back into presence
and re-sends the clock, and chat is delivered to the clients of the same process meanwhile.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from composition import Server
from services.rooms.playback import expected_position
from signaling.hub import close_sio
from tests.conftest import Account, ServerFactory, SioFactory, register
from tests.faults.conftest import FAST_HEARTBEAT, OwnRedis
from tests.signaling.test_rooms import (
    YT,
    Recorder,
    connect,
    create_room,
    eventually,
    in_server,
    join,
)
from tests.signaling.test_rooms_redis import subscribed
from webapp.keys import SIO

pytestmark = pytest.mark.faults


async def _store_answers(server: Server) -> None:
    deadline = time.monotonic() + 5
    while not await server.services.state.ping():
        assert time.monotonic() < deadline, "the store never answered again"
        await asyncio.sleep(0.05)


async def _chat(rec: Recorder, room_id: int, text: str) -> dict:
    ack = await rec.call("chat:send", {"roomId": room_id, "text": text})
    assert ack["ok"] is True, ack
    return ack["message"]


async def test_rooms_keep_playback_members_and_chat_across_a_redis_restart(
    server: Server,
    own_redis: OwnRedis,
    http: aiohttp.ClientSession,
    sio_client: SioFactory,
    anna: Account,
    boris: Account,
) -> None:
    room = await create_room(server, anna, media_url=YT)
    host = await connect(sio_client, anna)
    guest = await connect(sio_client, boris)
    await join(host, room, rtt=100)
    await join(guest, room)
    played = await host.call("player:play", {"roomId": room.id, "position": 10})
    assert played["ok"] is True, played
    clock = played["playback"]
    await eventually(lambda: bool(guest.of("room:state")))
    await _chat(guest, room.id, "before")

    # --- Redis dies: chat keeps flowing between the clients of this process ---------------
    own_redis.stop()
    async with http.get("/api/health") as response:
        body = await response.json()
    assert response.status == 503
    assert body["status"] == "degraded"
    assert body["redis"]["status"] == "down"
    for i in range(3):
        sent = await _chat(guest, room.id, f"during {i}")
        await eventually(lambda sent=sent: sent["id"] in [m["id"] for m in host.of("chat:message")])
    assert (await host.call("chat:send", {"roomId": room.id, "text": "host too"}))["ok"] is True
    await asyncio.sleep(0.6)  # a few heartbeats fail meanwhile

    # --- Redis comes back empty ----------------------------------------------------------
    states_before = len(host.of("room:state"))
    own_redis.start()
    # Each process re-sends the clock to its sockets: the same clock, seq not gone backwards.
    await eventually(lambda: len(host.of("room:state")) > states_before, within=5)
    resent = host.of("room:state")[-1]["playback"]
    assert resent["seq"] == clock["seq"]
    assert (resent["mediaId"], resent["status"], resent["position"], resent["rate"]) == (
        clock["mediaId"],
        "playing",
        10,
        1.0,
    )
    assert resent["updatedAt"] == clock["updatedAt"]
    await eventually(
        lambda: (
            bool(guest.of("room:state"))
            and guest.of("room:state")[-1]["playback"]["seq"] == clock["seq"]
        )
    )

    # Someone joining now sees the room as it was: both members present, the clock advanced.
    async with aiohttp.ClientSession(base_url=server.url) as other:
        vera = await register(other, "vera_faults")
    newcomer = await connect(sio_client, vera)
    snap = await join(newcomer, room)
    assert {p["user"]["id"] for p in snap["participants"]} == {anna.id, boris.id, vera.id}
    playback = snap["playback"]
    assert playback["status"] == "playing"
    assert playback["mediaId"] == clock["mediaId"]
    assert playback["seq"] == clock["seq"]
    now = time.time() * 1000
    assert expected_position(playback, now) == pytest.approx(expected_position(clock, now))
    assert expected_position(playback, now) > 10  # it kept playing through the outage

    # The next command continues the sequence, and every client applies it.
    paused = await host.call("player:pause", {"roomId": room.id})
    assert paused["ok"] is True, paused
    assert paused["playback"]["seq"] == clock["seq"] + 1
    assert paused["playback"]["position"] > 10
    await eventually(lambda: guest.of("room:state")[-1]["playback"]["seq"] == clock["seq"] + 1)
    await eventually(
        lambda: (
            newcomer.of("room:state")[-1:] != []
            and newcomer.of("room:state")[-1]["playback"]["status"] == "paused"
        )
    )

    # Chat goes on, and the health check is green again.
    await _chat(guest, room.id, "after")
    async with http.get("/api/health") as response:
        assert response.status == 200
        assert (await response.json())["status"] == "ok"


async def test_clock_survives_a_restart_between_two_heartbeats(
    server: Server,
    own_redis: OwnRedis,
    sio_client: SioFactory,
    anna: Account,
    boris: Account,
) -> None:
    """Redis restarted empty (killed and back within a heartbeat or so): joins and commands
    read the durable clock, so nothing resets and ``seq`` keeps increasing; the heartbeat puts
    the host's presence back."""
    room = await create_room(server, anna, media_url=YT)
    host = await connect(sio_client, anna)
    await join(host, room)
    for position in (5, 7, 9):
        assert (await host.call("player:seek", {"roomId": room.id, "position": position}))["ok"]
    last = (await host.call("player:pause", {"roomId": room.id, "position": 12}))["playback"]

    own_redis.restart_empty()
    # As soon as Redis answers (a heartbeat may or may not have noticed yet): a joiner gets the
    # clock from the database.
    await _store_answers(server)
    guest = await connect(sio_client, boris)
    snap = await join(guest, room)
    assert snap["playback"]["seq"] == last["seq"]
    assert (snap["playback"]["status"], snap["playback"]["position"]) == ("paused", 12)
    ack = await host.call("player:play", {"roomId": room.id})
    assert ack["ok"] is True, ack
    assert ack["playback"]["seq"] == last["seq"] + 1
    assert ack["playback"]["position"] == 12
    await eventually(lambda: bool(guest.of("room:state")))
    assert guest.of("room:state")[-1]["playback"]["seq"] == last["seq"] + 1
    # And the heartbeat puts the host's presence back.
    await asyncio.sleep(0.8)
    async with aiohttp.ClientSession(base_url=server.url) as other:
        vera = await register(other, "vera_faults2")
    snap = await join(await connect(sio_client, vera), room)
    assert {p["user"]["id"] for p in snap["participants"]} == {anna.id, boris.id, vera.id}


async def test_two_processes_resync_after_a_redis_restart(
    make_server: ServerFactory, own_redis: OwnRedis, sio_client: SioFactory
) -> None:
    """Two app processes on one Redis: during the outage each one's clients still chat among
    themselves; once Redis is back empty, both put their connections back (a joiner sees
    everyone), the clock is re-sent, and commands cross processes again with ``seq`` going on."""
    first = await make_server(redis_url=own_redis.url, **FAST_HEARTBEAT)
    second = await make_server(redis_url=own_redis.url, **FAST_HEARTBEAT)
    try:
        async with aiohttp.ClientSession(base_url=first.url) as http:
            anna = await register(http, "anna_two")
            vera = await register(http, "vera_two")
            boris = await register(http, "boris_two")
            gleb = await register(http, "gleb_two")
        host = await connect(sio_client, anna, url=first.url)
        neighbour = await connect(sio_client, vera, url=first.url)
        remote = await connect(sio_client, boris, url=second.url)
        for server in (first, second):
            await subscribed(server)
        room = await create_room(first, anna, media_url=YT)
        for rec in (host, neighbour, remote):
            await join(rec, room)
        deadline = time.monotonic() + 5
        while not remote.of("room:state"):  # the second's subscription starts lazily
            assert time.monotonic() < deadline, "room:state never crossed Redis"
            ack = await host.call("player:play", {"roomId": room.id, "position": 20})
            assert ack["ok"] is True, ack
            await asyncio.sleep(0.2)
        clock = ack["playback"]

        own_redis.stop()
        sent = await _chat(host, room.id, "Redis is down")
        await eventually(lambda: sent["id"] in [m["id"] for m in neighbour.of("chat:message")])

        resent = {rec: len(rec.of("room:state")) for rec in (host, remote)}
        own_redis.start()
        # Each process noticed and re-sent the clock to its own sockets.
        for rec in (host, remote):
            await eventually(lambda rec=rec: len(rec.of("room:state")) > resent[rec], within=5)
            assert rec.of("room:state")[-1]["playback"]["seq"] == clock["seq"]
        # Commands cross processes again once the second's listener is back (within 5 s).
        deadline = time.monotonic() + 10
        seen = len(remote.of("room:state"))
        position = 30
        while len(remote.of("room:state")) == seen:
            assert time.monotonic() < deadline, "room:state never crossed Redis again"
            ack = await host.call("player:seek", {"roomId": room.id, "position": position})
            assert ack["ok"] is True, ack
            position += 1
            await asyncio.sleep(0.3)
        latest = remote.of("room:state")[-1]["playback"]
        assert latest["seq"] > clock["seq"]
        assert latest["seq"] == ack["playback"]["seq"]
        # Both processes put their connections back: a joiner on either sees everyone.
        snap = await join(await connect(sio_client, gleb, url=second.url), room)
        assert {p["user"]["id"] for p in snap["participants"]} == {
            anna.id,
            vera.id,
            boris.id,
            gleb.id,
        }
    finally:
        for server in (first, second):
            await close_sio(server.app[SIO])


async def test_slow_mode_still_holds_while_redis_is_down(
    server: Server,
    own_redis: OwnRedis,
    sio_client: SioFactory,
    anna: Account,
    boris: Account,
) -> None:
    """Slow mode lives in Redis; while it is down this process counts it in memory instead of
    failing every message (or letting every message through)."""
    from models.users import User
    from services.rooms.moderation import do_update_settings

    room = await create_room(server, anna)
    host = await connect(sio_client, anna)
    guest = await connect(sio_client, boris)
    await join(host, room)
    await join(guest, room)

    async def slow() -> None:
        user = await User.get(id=anna.id)
        await do_update_settings(server.services, room=room, acting_user=user, slow_mode_seconds=30)

    await in_server(server, slow)
    own_redis.stop()
    await _chat(guest, room.id, "first")
    refused = await guest.call("chat:send", {"roomId": room.id, "text": "second"})
    assert refused["ok"] is False
    assert refused["error"]["code"] == "rate_limited"
    assert 1 <= refused["error"]["details"]["retry_after"] <= 30
    assert refused["error"]["details"]["seconds"] == 30
    await _chat(host, room.id, "hosts are spared")
