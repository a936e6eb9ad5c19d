"""The contract check itself (tests/contract.py): it sees every event and ack, and a payload
that does not match its model fails the test."""

from __future__ import annotations

from composition import Server
from services.core.events import Event
from services.rooms.events import CHAT_MESSAGE, CHAT_SEND, ROOM_JOIN
from tests.conftest import Account, SioFactory
from tests.contract import Checked
from tests.signaling.test_rooms import YT, connect, create_room, eventually, join


async def test_events_and_acks_are_checked(
    server: Server, sio_client: SioFactory, anna: Account, contract: Checked
) -> None:
    room = await create_room(server, anna, media_url=YT)
    host = await connect(sio_client, anna)
    await join(host, room)
    ack = await host.call(CHAT_SEND, {"roomId": room.id, "text": "hi"})
    assert ack["ok"] is True
    refused = await host.call(CHAT_SEND, {"roomId": room.id, "text": ""})
    assert refused["ok"] is False
    await eventually(lambda: len(host.of(CHAT_MESSAGE)) >= 1)
    assert contract.acks[ROOM_JOIN] == 1
    assert contract.acks[CHAT_SEND] == 2  # the refusal too, as an AckError
    assert contract.events[CHAT_MESSAGE] >= 1
    assert contract.violations == []


async def test_a_payload_off_its_model_is_a_violation(
    server: Server, sio_client: SioFactory, anna: Account, contract: Checked
) -> None:
    room = await create_room(server, anna)
    host = await connect(sio_client, anna)
    await join(host, room)
    # A chat:message whose createdAt is a number and that lacks "deleted".
    bad = {"id": 1, "roomId": room.id, "kind": "text", "text": "x", "data": None, "user": None}
    await server.run(
        server.services.events.publish(
            Event(CHAT_MESSAGE, {**bad, "createdAt": 1}, scope=f"room:{room.id}")
        )
    )
    await server.run(
        server.services.events.publish(Event("chat:unknown", {}, scope=f"room:{room.id}"))
    )
    found, contract.violations[:] = list(contract.violations), []
    assert len(found) == 2, found
    assert "'chat:message' does not match ChatMessage" in found[0]
    assert "createdAt" in found[0]
    assert "deleted" in found[0]
    assert "'chat:unknown' is not declared" in found[1]
