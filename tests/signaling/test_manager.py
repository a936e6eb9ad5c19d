"""signaling.manager: a room broadcast is framed once and written to every socket in order."""

from __future__ import annotations

import asyncio
import struct

import pytest

from services import chat
from signaling import manager
from signaling.manager import FrameOnceManager, text_frame
from tests.conftest import Account, ServerFactory, SioFactory
from tests.signaling.test_rooms import connect, create_room, eventually, join


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
