"""Socket.IO chat and reactions: acks, domain errors in acks, and the fan-out to ``room:<id>``.

Three real python-socketio clients: Anna (host, sends), Boris (a member) and Carl (connected,
not a member) who must receive nothing from the room.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import socketio

from composition import Server
from models.rooms import Room, Visibility
from models.users import User
from services.rooms.membership import do_close_room, do_create_room
from services.rooms.moderation import do_kick, do_update_settings
from tests.conftest import Account, SioFactory, register

ROOM_EVENTS = ("chat:message", "chat:deleted", "reaction")
MESSAGE_KEYS = {"id", "roomId", "kind", "text", "data", "user", "createdAt", "deleted"}
REACTION_KEYS = {"id", "roomId", "mediaId", "emoji", "mediaTime", "user", "createdAt"}


@dataclass
class Peer:
    account: Account
    client: socketio.AsyncClient
    received: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))

    async def call(self, event: str, data: Any) -> dict[str, Any]:
        return await self.client.call(event, data, timeout=5)

    async def barrier(self) -> None:
        """A round trip on this connection: whatever the server sent before has arrived."""
        ack = await self.call("time:sync", {"clientTime": 0})
        assert ack["ok"] is True


@dataclass
class Scene:
    server: Server
    room: Room
    anna: Peer
    boris: Peer
    carl: Peer


async def _connect(sio_client: SioFactory, account: Account) -> Peer:
    client = await sio_client(account.token)
    peer = Peer(account, client)
    for name in ROOM_EVENTS:
        client.on(name, lambda data, name=name: peer.received[name].append(data))
    return peer


@pytest.fixture
async def scene(
    server: Server,
    http: aiohttp.ClientSession,
    sio_client: SioFactory,
    anna: Account,
    boris: Account,
) -> Scene:
    """Anna's private room; Anna and Boris (with the invite code) are in it by ``room:join``,
    Carl's ``room:join`` without the code is refused."""
    carl = await register(http, "carl")
    services = server.services
    assert services is not None

    async def setup() -> Room:
        host = await User.get(id=anna.id)
        return await do_create_room(
            services, acting_user=host, title="Film night", visibility=Visibility.PRIVATE
        )

    room = await server.run(setup())
    peers = [await _connect(sio_client, account) for account in (anna, boris, carl)]
    for peer in peers[:2]:
        ack = await peer.call("room:join", {"roomId": room.id, "inviteCode": room.invite_code})
        assert ack["ok"] is True, ack
    refused = await peers[2].call("room:join", {"roomId": room.id})
    assert refused["ok"] is False
    assert refused["error"]["code"] == "forbidden"
    for peer in peers:
        peer.received.clear()
    return Scene(server, room, *peers)


async def _eventually(check: Callable[[], bool], within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_chat_send_acks_and_reaches_the_room_only(scene: Scene) -> None:
    ack = await scene.anna.call("chat:send", {"roomId": scene.room.id, "text": " Hi all "})
    assert ack["ok"] is True
    message = ack["message"]
    assert set(message) == MESSAGE_KEYS
    assert message["text"] == "Hi all"
    assert message["roomId"] == scene.room.id
    assert message["user"]["id"] == scene.anna.account.id
    await _eventually(lambda: scene.boris.received["chat:message"] == [message])
    await _eventually(lambda: scene.anna.received["chat:message"] == [message])
    await scene.carl.barrier()
    assert dict(scene.carl.received) == {}


async def test_room_may_be_named_by_its_code(scene: Scene) -> None:
    ack = await scene.boris.call("chat:send", {"roomId": scene.room.code, "text": "by code"})
    assert ack["ok"] is True
    assert ack["message"]["roomId"] == scene.room.id


async def test_outsider_cannot_send_and_nothing_is_broadcast(scene: Scene) -> None:
    ack = await scene.carl.call("chat:send", {"roomId": scene.room.id, "text": "hello?"})
    assert ack["ok"] is False
    assert ack["error"]["code"] == "forbidden"
    await scene.boris.barrier()
    assert scene.boris.received["chat:message"] == []


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({"text": "   "}, "validation_error", "text"),
        ({"text": "x" * 1001}, "validation_error", "text"),
        ({"text": "a\x00b"}, "validation_error", "text"),
        ({}, "validation_error", "text"),
        ({"roomId": None, "text": "hi"}, "validation_error", "roomId"),
        ({"roomId": 987654, "text": "hi"}, "not_found", None),
    ],
)
async def test_bad_sends_are_acked_with_the_error(
    scene: Scene, payload: dict[str, Any], code: str, field: str | None
) -> None:
    ack = await scene.boris.call("chat:send", {"roomId": scene.room.id, **payload})
    assert ack["ok"] is False
    assert ack["error"]["code"] == code
    assert isinstance(ack["error"]["message"], str)
    if field is not None:
        assert ack["error"]["details"]["field"] == field
    await scene.anna.barrier()
    assert scene.anna.received["chat:message"] == []


async def test_payload_that_is_not_an_object(scene: Scene) -> None:
    for event in ("chat:send", "chat:delete", "reaction:send"):
        ack = await scene.boris.call(event, "hello")
        assert ack["ok"] is False
        assert ack["error"]["code"] == "validation_error"
        assert ack["error"]["details"]["field"] == "payload"


async def test_slow_mode_is_acked_as_rate_limited(scene: Scene) -> None:
    async def slow_mode() -> None:
        host = await User.get(id=scene.anna.account.id)
        await do_update_settings(
            scene.server.services, room=scene.room, acting_user=host, slow_mode_seconds=30
        )

    await scene.server.run(slow_mode())
    first = await scene.boris.call("chat:send", {"roomId": scene.room.id, "text": "one"})
    assert first["ok"] is True
    second = await scene.boris.call("chat:send", {"roomId": scene.room.id, "text": "two"})
    assert second["ok"] is False
    assert second["error"]["code"] == "rate_limited"
    assert 29 <= second["error"]["details"]["retry_after"] <= 30
    await scene.anna.barrier()
    assert [m["text"] for m in scene.anna.received["chat:message"]] == ["one"]


async def test_flood_is_acked_as_rate_limited(scene: Scene) -> None:
    results = [
        await scene.anna.call("chat:send", {"roomId": scene.room.id, "text": f"m{i}"})
        for i in range(6)
    ]
    assert [r["ok"] for r in results] == [True] * 5 + [False]
    assert results[-1]["error"]["code"] == "rate_limited"
    assert results[-1]["error"]["details"]["retry_after"] >= 1


async def test_chat_delete_by_the_host_reaches_the_room(scene: Scene) -> None:
    sent = await scene.boris.call("chat:send", {"roomId": scene.room.id, "text": "rude"})
    message_id = sent["message"]["id"]
    ack = await scene.anna.call("chat:delete", {"roomId": scene.room.id, "messageId": message_id})
    assert ack == {"ok": True}
    expected = {"roomId": scene.room.id, "messageId": message_id}
    await _eventually(lambda: scene.boris.received["chat:deleted"] == [expected])
    await scene.carl.barrier()
    assert dict(scene.carl.received) == {}


async def test_member_cannot_delete_the_hosts_message(scene: Scene) -> None:
    sent = await scene.anna.call("chat:send", {"roomId": scene.room.id, "text": "host says"})
    message_id = sent["message"]["id"]
    ack = await scene.boris.call("chat:delete", {"roomId": scene.room.id, "messageId": message_id})
    assert ack["ok"] is False
    assert ack["error"]["code"] == "forbidden"
    bad = await scene.boris.call("chat:delete", {"roomId": scene.room.id, "messageId": "x"})
    assert bad["error"]["details"]["field"] == "messageId"
    await scene.anna.barrier()
    assert scene.anna.received["chat:deleted"] == []


async def test_reaction_is_acked_and_burst_to_the_room_only(scene: Scene) -> None:
    added = await scene.anna.call(
        "queue:add", {"roomId": scene.room.id, "url": "https://example.com/a.mp4"}
    )
    assert added["ok"] is True, added
    media = added["item"]  # the first link is loaded at once
    ack = await scene.boris.call(
        "reaction:send", {"roomId": scene.room.id, "emoji": "🔥", "mediaTime": 61.5}
    )
    assert ack["ok"] is True
    reaction = ack["reaction"]
    assert set(reaction) == REACTION_KEYS
    assert (reaction["mediaId"], reaction["emoji"], reaction["mediaTime"]) == (
        media["id"],
        "🔥",
        61.5,
    )
    assert reaction["user"]["id"] == scene.boris.account.id
    await _eventually(lambda: scene.anna.received["reaction"] == [reaction])
    await scene.carl.barrier()
    assert dict(scene.carl.received) == {}

    refused = await scene.carl.call(
        "reaction:send", {"roomId": scene.room.id, "emoji": "🔥", "mediaTime": 1}
    )
    assert refused["error"]["code"] == "forbidden"
    wrong = await scene.boris.call(
        "reaction:send", {"roomId": scene.room.id, "emoji": "🍆", "mediaTime": 1}
    )
    assert wrong["error"]["details"]["field"] == "emoji"


async def test_history_is_in_the_join_snapshot(scene: Scene) -> None:
    sent = await scene.boris.call("chat:send", {"roomId": scene.room.id, "text": "earlier"})
    deleted = await scene.boris.call("chat:send", {"roomId": scene.room.id, "text": "gone"})
    await scene.boris.call(
        "chat:delete", {"roomId": scene.room.id, "messageId": deleted["message"]["id"]}
    )
    snapshot = await scene.anna.call(
        "room:join", {"roomId": scene.room.id, "inviteCode": scene.room.invite_code}
    )
    messages = snapshot["messages"]
    assert [m["kind"] for m in messages] == ["joined", "text", "text"]  # Boris joined
    assert messages[1] == sent["message"]
    assert (messages[2]["deleted"], messages[2]["text"]) == (True, "")


async def test_kicked_member_neither_sends_nor_receives(scene: Scene) -> None:
    async def kick() -> None:
        host = await User.get(id=scene.anna.account.id)
        await do_kick(
            scene.server.services,
            room=scene.room,
            acting_user=host,
            target_id=scene.boris.account.id,
        )

    await scene.server.run(kick())
    await _eventually(lambda: len(scene.anna.received["chat:message"]) == 1)  # "was removed"
    assert scene.anna.received["chat:message"][0]["kind"] == "kicked"
    refused = await scene.boris.call("chat:send", {"roomId": scene.room.id, "text": "let me"})
    assert refused["error"]["code"] == "forbidden"
    await scene.anna.call("chat:send", {"roomId": scene.room.id, "text": "bye"})
    await _eventually(lambda: len(scene.anna.received["chat:message"]) == 2)
    await scene.boris.barrier()
    assert [m["kind"] for m in scene.boris.received["chat:message"]] == []


async def test_closed_room_takes_no_messages(scene: Scene) -> None:
    """The one-query membership look-up of the send path still sees that the room closed."""
    await scene.server.run(
        do_close_room(scene.server.services, room=scene.room, reason="closed_by_host")
    )
    refused = await scene.boris.call("chat:send", {"roomId": scene.room.id, "text": "anyone?"})
    assert refused["ok"] is False
    assert refused["error"]["code"] == "not_found"
    by_code = await scene.anna.call("chat:send", {"roomId": scene.room.code, "text": "anyone?"})
    assert by_code["error"]["code"] == "not_found"
