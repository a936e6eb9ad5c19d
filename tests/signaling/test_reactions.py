"""``reaction:send {mediaId}`` over Socket.IO: a reaction to an item the room has moved past is
refused with ``media_changed`` and never lands on the new item (docs/rooms-protocol.md)."""

from __future__ import annotations

import asyncio

from composition import Server
from tests.conftest import Account, SioFactory
from tests.signaling.test_rooms import YT, YT2, connect, create_room, join


async def test_reaction_to_the_previous_item_is_refused(
    server: Server, sio_client: SioFactory, anna: Account, boris: Account
) -> None:
    room = await create_room(server, anna, media_url=YT)
    host = await connect(sio_client, anna)
    snap = await join(host, room)
    first = snap["queue"][0]["id"]
    guest = await connect(sio_client, boris)
    await join(guest, room)
    ack = await guest.call(
        "reaction:send", {"roomId": room.id, "emoji": "🔥", "mediaTime": 3, "mediaId": first}
    )
    assert ack["ok"] is True, ack
    assert ack["reaction"]["mediaId"] == first

    second = (await host.call("player:load", {"roomId": room.id, "url": YT2}))["playback"]
    ack = await guest.call(
        "reaction:send", {"roomId": room.id, "emoji": "😂", "mediaTime": 4, "mediaId": first}
    )
    assert ack["ok"] is False, ack
    assert ack["error"]["code"] == "media_changed"
    assert ack["error"]["details"]["currentMediaId"] == second["mediaId"]
    await asyncio.sleep(0.2)
    # Nobody saw a burst on the new item.
    assert [r["mediaId"] for r in host.of("reaction")] == [first]
