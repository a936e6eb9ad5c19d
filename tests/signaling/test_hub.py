"""Socket.IO: token required on connect, acks carry results or domain errors, clock sync."""

from __future__ import annotations

import json
import logging
import time

import aiohttp
import pytest

from tests.conftest import REDIS_URL, Account, ServerFactory, SioFactory, SioRefused
from tests.signaling.test_rooms import YT, create_room


async def test_connect_without_token_is_refused(sio_client: SioFactory) -> None:
    with pytest.raises(SioRefused) as info:
        await sio_client(None)
    assert info.value.data["data"]["code"] == "unauthorized"
    assert "token is required" in info.value.data["message"]


async def test_connect_with_bad_token_is_refused(sio_client: SioFactory) -> None:
    with pytest.raises(SioRefused) as info:
        await sio_client("not-a-jwt")
    assert info.value.data["data"]["code"] == "unauthorized"


async def test_time_sync_answers_with_server_clock(sio_client: SioFactory, anna: Account) -> None:
    client = await sio_client(anna.token)
    sent = time.time() * 1000
    ack = await client.call("time:sync", {"clientTime": sent}, timeout=5)
    received = time.time() * 1000
    assert ack["ok"] is True
    assert ack["clientTime"] == sent
    # Same machine: the server clock must fall inside the round trip.
    assert sent - 5 <= ack["serverTime"] <= received + 5
    assert ack["receivedAt"] <= ack["serverTime"]


async def test_time_sync_ignores_garbage_client_time(sio_client: SioFactory, anna: Account) -> None:
    client = await sio_client(anna.token)
    ack = await client.call("time:sync", "nonsense", timeout=5)
    assert ack["ok"] is True
    assert ack["clientTime"] is None


@pytest.mark.undeclared_events("notice")
async def test_published_event_reaches_the_users_sockets(
    server, sio_client: SioFactory, anna: Account, boris: Account
) -> None:
    from services.core.events import Event

    anna_client = await sio_client(anna.token)
    boris_client = await sio_client(boris.token)
    got_anna: list[dict] = []
    got_boris: list[dict] = []
    anna_client.on("notice", got_anna.append)
    boris_client.on("notice", got_boris.append)
    await server.run(
        server.services.events.publish(Event("notice", {"text": "hi"}, scope=f"user:{anna.id}"))
    )
    await _eventually(lambda: got_anna == [{"text": "hi"}])
    assert got_boris == []


async def _eventually(check, within: float = 3.0) -> None:
    import asyncio

    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_stopping_the_server_closes_sockets_as_going_away(
    make_server: ServerFactory, anna: Account, caplog: pytest.LogCaptureFixture
) -> None:
    """A restart tells clients to reconnect (1001) at once instead of hanging until aiohttp
    cancels the handlers; their disconnects run while the database and Redis are open."""
    server = await make_server(redis_url=REDIS_URL)
    room = await create_room(server, anna, media_url=YT)
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(server.url + "/socket.io/?EIO=4&transport=websocket")
        assert (await ws.receive_str(timeout=5)).startswith("0{")
        await ws.send_str("40" + json.dumps({"token": anna.token}))
        assert (await ws.receive_str(timeout=5)).startswith("40")
        await ws.send_str('421["room:join",' + json.dumps({"roomId": room.id}) + "]")
        assert '"ok":true' in (await ws.receive_str(timeout=5)).replace(" ", "")
        started = time.monotonic()
        await server.stop()
        stopped_in = time.monotonic() - started
        message = await ws.receive(timeout=5)
        while message.type == aiohttp.WSMsgType.TEXT:  # a presence delta may come first
            message = await ws.receive(timeout=5)
    assert message.type == aiohttp.WSMsgType.CLOSE
    assert message.data == aiohttp.WSCloseCode.GOING_AWAY
    assert stopped_in < 3, stopped_in
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


def test_each_redis_database_has_its_own_socketio_channel() -> None:
    """Pub/sub ignores database numbers: two deployments on one Redis server must not hear
    each other's room events."""
    from signaling.hub import socketio_channel

    assert socketio_channel("redis://127.0.0.1:6379/0") == "vmeste-socketio"
    assert socketio_channel("redis://127.0.0.1:6379") == "vmeste-socketio"
    channels = {socketio_channel(f"redis://127.0.0.1:6379/{db}") for db in range(4)}
    assert len(channels) == 4
