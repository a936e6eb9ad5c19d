"""signaling.manager: a room broadcast is framed once and written to every socket in order."""

from __future__ import annotations

import asyncio
import json
import struct
import time

import aiohttp
import pytest

from services.rooms import chat
from signaling import manager
from signaling.manager import FrameOnceManager, text_frame
from tests.conftest import Account, ServerFactory, SioFactory
from tests.signaling.test_rooms import connect, create_room, eventually, join
from webapp.keys import SIO


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 70000])
def test_text_frame_is_a_final_unmasked_text_frame(size: int) -> None:
    text = "é" * (size // 2) + "x" * (size % 2)
    payload = text.encode()
    frame = text_frame(text)
    first, second = frame[0], frame[1]
    assert first == 0x81  # FIN + text
    assert second & 0x80 == 0  # servers never mask
    if len(payload) < 126:
        length, offset = second, 2
    elif len(payload) < 65536:
        assert second == 126
        (length,), offset = struct.unpack("!H", frame[2:4]), 4
    else:
        assert second == 127
        (length,), offset = struct.unpack("!Q", frame[2:10]), 10
    assert length == len(payload)
    assert frame[offset:] == payload


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "queued"])
async def test_a_burst_reaches_every_member_complete_and_in_order(
    make_server: ServerFactory,
    anna: Account,
    boris: Account,
    sio_client: SioFactory,
    monkeypatch: pytest.MonkeyPatch,
    direct: bool,
) -> None:
    if not direct:
        # Every transport counts as backed up: all deliveries go through the socket queues.
        monkeypatch.setattr(manager, "DIRECT_WRITE_LIMIT", -1)
    monkeypatch.setattr(chat, "FLOOD_RATE", "1000/second")
    server = await make_server()
    room = await create_room(server, anna)
    host = await connect(sio_client, anna, url=server.url)
    await join(host, room)
    guest = await connect(sio_client, boris, url=server.url)
    await join(guest, room)
    before = (FrameOnceManager.direct_writes, FrameOnceManager.queued_writes)

    texts = [f"line {i}" for i in range(40)]
    acks = await asyncio.gather(
        *(host.call("chat:send", {"roomId": room.id, "text": t}) for t in texts)
    )
    assert all(a["ok"] for a in acks), acks
    seen = []
    for peer in (host, guest):
        await eventually(lambda peer=peer: len(peer.of("chat:message")) >= len(texts))
        seen.append([m["text"] for m in peer.of("chat:message") if m["kind"] == "text"])
    # Every message, once, and in the same order for everyone (the order they were published).
    assert sorted(seen[0]) == sorted(texts)
    assert seen[0] == seen[1]
    direct_writes = FrameOnceManager.direct_writes - before[0]
    queued_writes = FrameOnceManager.queued_writes - before[1]
    if direct:
        assert direct_writes > 0
    else:
        assert direct_writes == 0
        assert queued_writes >= 2 * len(texts)


async def test_the_send_queue_hands_each_packet_over_once_and_keeps_none_of_them() -> None:
    import gc
    import weakref

    from engineio import packet as eio_packet

    queue = manager._SendQueue()
    pkt = eio_packet.Packet(eio_packet.MESSAGE, "2" + "x" * 10_000)
    ref = weakref.ref(pkt)
    queue.put_nowait(pkt)
    queue.put_nowait(None)
    del pkt
    taken = queue.get_nowait()
    queue.task_done()
    assert taken.encode() == "42" + "x" * 10_000
    gc.collect()
    assert ref() is None  # the writer's locals hold only the emptied wrapper
    assert queue.get_nowait() is None  # the writer's stop signal passes through
    queue.task_done()
    assert queue.empty()


async def test_the_lean_poll_batches_and_stops_like_engineios() -> None:
    from engineio import exceptions as eio_exceptions
    from engineio import packet as eio_packet

    class Server:
        ping_interval = 0.05
        ping_timeout = 0.05

    class Socket:
        server = Server()
        queue = manager._SendQueue()

    sock = Socket()
    a, b = (eio_packet.Packet(eio_packet.MESSAGE, t) for t in ("a", "b"))
    sock.queue.put_nowait(a)
    sock.queue.put_nowait(b)
    sock.queue.put_nowait(None)
    poll = manager.DirectSocket.poll
    batch = await poll(sock)  # type: ignore[arg-type]
    assert [p.encode() for p in batch] == ["4a", "4b"]
    assert await poll(sock) == []  # type: ignore[arg-type]  # None: the socket is closing
    getter = asyncio.ensure_future(manager.DirectSocket.poll(sock))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    assert sock.queue._getters  # parked on the queue, as _write_direct expects; times out
    with pytest.raises(eio_exceptions.QueueEmpty):
        await getter


async def _raw_socket(
    http: aiohttp.ClientSession, server_url: str, token: str
) -> aiohttp.ClientWebSocketResponse:
    """A bare Engine.IO WebSocket that speaks only what the test tells it to."""
    ws = await http.ws_connect(server_url + "/socket.io/?EIO=4&transport=websocket")
    opening = await ws.receive_str(timeout=5)
    assert opening.startswith("0{")
    await ws.send_str("40" + json.dumps({"token": token}))
    assert (await ws.receive_str(timeout=5)).startswith("40")
    return ws


async def test_a_client_that_answers_pings_stays_and_one_that_does_not_is_closed(
    make_server: ServerFactory, anna: Account, boris: Account
) -> None:
    server = await make_server()
    assert server.app is not None
    eio = server.app[SIO].eio
    eio.ping_interval, eio.ping_timeout = 0.2, 0.2
    async with aiohttp.ClientSession() as http:
        alive = await _raw_socket(http, server.url, anna.token)
        silent = await _raw_socket(http, server.url, boris.token)
        assert {type(s) for s in eio.sockets.values()} == {manager.DirectSocket}
        pings = 0
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            try:
                message = await alive.receive(timeout=deadline - time.monotonic())
            except TimeoutError:
                break
            assert message.type == aiohttp.WSMsgType.TEXT, message
            if message.data == "2":
                pings += 1
                await alive.send_str("3")
        # A ping each interval while pongs come back: the cycle keeps going on its timers.
        assert pings >= 4
        assert not alive.closed
        # The silent one got its first ping, never answered, and was dropped after
        # ping_interval + ping_timeout without data.
        first = await silent.receive(timeout=1)
        assert first.data == "2"
        closing = await silent.receive(timeout=1)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        await eventually(lambda: len(eio.sockets) == 1)
        await alive.close()
        await eventually(lambda: not eio.sockets)


async def test_an_idle_socket_costs_three_tasks(
    make_server: ServerFactory, anna: Account, sio_client: SioFactory
) -> None:
    """aiohttp's connection and request tasks (the request's task reads) and one writer task;
    pings are timers, not tasks, and a read is not wrapped in a task of its own."""
    server = await make_server()
    room = await create_room(server, anna)
    await join(await connect(sio_client, anna, url=server.url), room)
    before = len(asyncio.all_tasks())
    async with aiohttp.ClientSession() as http:
        sockets = [await _raw_socket(http, server.url, anna.token) for _ in range(20)]
        await asyncio.sleep(0.2)
        per_socket = (len(asyncio.all_tasks()) - before) / len(sockets)
        for ws in sockets:
            await ws.close()
    # Client side: aiohttp's client WebSocket has no task of its own while idle.
    assert per_socket <= 3.0, per_socket
