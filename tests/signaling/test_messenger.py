"""The messenger over Socket.IO with real clients (docs/messenger.md): the whole status cycle on
two and three people and several devices, group read counts, resends after a reconnect, a
server restart mid-conversation, presence with two devices and its grace, typing, editing
and deleting, limits, encrypted messages stored as sent, and non-members refused."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp
import pytest

from composition import Server
from models.messenger import Message
from models.users import User
from tests.conftest import Account, ServerFactory, SioFactory, register
from tests.signaling.test_rooms import Recorder, connect, eventually, in_server


@pytest.fixture
async def vera(http: aiohttp.ClientSession) -> Account:
    return await register(http, "vera")


async def new_chat(http: aiohttp.ClientSession, who: Account, body: dict[str, Any]) -> int:
    async with http.post("/api/chats", json=body, headers=who.headers) as response:
        data = await response.json()
        assert response.status in (200, 201), data
    return data["chat"]["id"]


async def send(rec: Recorder, chat_id: int, content: str, **extra: Any) -> dict[str, Any]:
    ack = await rec.call(
        "message:send",
        {"chatId": chat_id, "content": content, "clientId": uuid.uuid4().hex, **extra},
    )
    assert ack["ok"] is True, ack
    return ack


async def history(http: aiohttp.ClientSession, who: Account, chat_id: int) -> list[dict]:
    async with http.get(f"/api/messages?chatId={chat_id}", headers=who.headers) as response:
        body = await response.json()
        assert response.status == 200, body
    return body["messages"]


async def quiet(seconds: float = 0.3) -> None:
    """Give events that should not come the time to come anyway."""
    await asyncio.sleep(seconds)


# --- the status cycle ----------------------------------------------------------------------------


async def test_send_received_delivered_read_on_every_device(
    server: Server,
    http: aiohttp.ClientSession,
    sio_client: SioFactory,
    anna: Account,
    boris: Account,
) -> None:
    chat_id = await new_chat(http, anna, {"userId": boris.id})
    anna_phone = await connect(sio_client, anna)
    anna_laptop = await connect(sio_client, anna)
    boris_phone = await connect(sio_client, boris)

    ack = await send(anna_phone, chat_id, "  Привет!\r\nКак дела? ")
    message = ack["message"]
    assert ack["resent"] is False
    assert message["status"] == "sent"
    assert message["content"] == "Привет!\nКак дела?"
    assert message["sender"]["id"] == anna.id
    assert message["readBy"] is None
    # Every device of every member, the sender's other device included; not the sending one.
    await eventually(lambda: len(boris_phone.of("message:received")) == 1)
    await eventually(lambda: len(anna_laptop.of("message:received")) == 1)
    assert boris_phone.of("message:received")[0] == message
    assert anna_laptop.of("message:received")[0] == message
    await quiet(0.1)
    assert anna_phone.of("message:received") == []

    ack = await boris_phone.call("message:delivered", {"messageId": message["id"]})
    assert ack == {"ok": True}
    delivered = {"chatId": chat_id, "messageId": message["id"], "status": "delivered"}
    for device in (anna_phone, anna_laptop):
        await eventually(lambda d=device: len(d.of("message:status")) == 1)
        assert device.of("message:status")[0] == {**delivered, "readBy": None}
    # Delivered again (another device of Boris): nothing new.
    await boris_phone.call("message:delivered", {"messageId": message["id"]})
    ack = await boris_phone.call("message:read", {"chatId": chat_id, "messageId": message["id"]})
    assert ack == {"ok": True, "unreadCount": 0}
    for device in (anna_phone, anna_laptop):
        await eventually(lambda d=device: len(d.of("message:status")) == 2)
        assert device.of("message:status")[1] == {**delivered, "status": "read", "readBy": None}
    assert boris_phone.of("message:status") == []  # statuses go to the sender only
    [stored] = await history(http, anna, chat_id)
    assert stored["status"] == "read"


async def test_read_up_to_covers_earlier_messages_and_delivered_comes_with_read(
    server: Server,
    http: aiohttp.ClientSession,
    sio_client: SioFactory,
    anna: Account,
    boris: Account,
) -> None:
    chat_id = await new_chat(http, anna, {"userId": boris.id})
    anna_rec = await connect(sio_client, anna)
    boris_rec = await connect(sio_client, boris)
    ids = [(await send(anna_rec, chat_id, f"m{i}"))["message"]["id"] for i in range(3)]
    reply = (await send(boris_rec, chat_id, "back"))["message"]["id"]
    ack = await boris_rec.call("message:read", {"chatId": chat_id, "messageId": ids[1]})
    assert ack["unreadCount"] == 1
    await eventually(lambda: len(anna_rec.of("message:status")) == 1)
    assert anna_rec.of("message:status")[0]["messageId"] == ids[1]
    assert anna_rec.of("message:status")[0]["status"] == "read"
    statuses = [m["status"] for m in await history(http, anna, chat_id)]
    assert statuses == ["sent", "sent", "read", "read"]  # newest first: back, m2, m1, m0
    # Anna reads Boris's reply: he hears it, she hears nothing about her own messages.
    await anna_rec.call("message:read", {"chatId": chat_id, "messageId": reply})
    await eventually(lambda: len(boris_rec.of("message:status")) == 1)
    assert boris_rec.of("message:status")[0]["messageId"] == reply
    # A read mark never goes back.
    ack = await boris_rec.call("message:read", {"chatId": chat_id, "messageId": ids[0]})
    assert ack["unreadCount"] == 1
    await quiet(0.1)
    assert len(anna_rec.of("message:status")) == 1


async def test_group_statuses_count_the_readers(
    server: Server,
    http: aiohttp.ClientSession,
    sio_client: SioFactory,
    anna: Account,
    boris: Account,
    vera: Account,
) -> None:
    chat_id = await new_chat(http, anna, {"memberIds": [boris.id, vera.id], "title": "Trio"})
    anna_rec = await connect(sio_client, anna)
    boris_rec = await connect(sio_client, boris)
    vera_rec = await connect(sio_client, vera)
    message = (await send(anna_rec, chat_id, "hello both"))["message"]
    assert message["readBy"] == 0
    for rec in (boris_rec, vera_rec):
        await eventually(lambda r=rec: len(r.of("message:received")) == 1)
    await boris_rec.call("message:delivered", {"messageId": message["id"]})
    await eventually(lambda: len(anna_rec.of("message:status")) == 1)
    assert anna_rec.of("message:status")[-1]["status"] == "delivered"
    assert anna_rec.of("message:status")[-1]["readBy"] == 0
    await boris_rec.call("message:read", {"chatId": chat_id, "messageId": message["id"]})
    await eventually(lambda: len(anna_rec.of("message:status")) == 2)
    assert anna_rec.of("message:status")[-1]["status"] == "read"
    assert anna_rec.of("message:status")[-1]["readBy"] == 1
    await vera_rec.call("message:read", {"chatId": chat_id, "messageId": message["id"]})
    await eventually(lambda: len(anna_rec.of("message:status")) == 3)
    assert anna_rec.of("message:status")[-1]["readBy"] == 2
    [stored] = await history(http, boris, chat_id)
    assert (stored["status"], stored["readBy"]) == ("read", 2)
    # Vera's reply: Boris and Anna get it, with nobody's read yet.
    reply = (await send(vera_rec, chat_id, "hi"))["message"]
    await eventually(lambda: len(anna_rec.of("message:received")) == 1)
    await eventually(lambda: len(boris_rec.of("message:received")) == 2)
    assert reply["readBy"] == 0


# --- resends and restarts ------------------------------------------------------------------------


async def test_a_resend_after_a_reconnect_is_not_a_duplicate(
    server: Server,
    http: aiohttp.ClientSession,
    sio_client: SioFactory,
    anna: Account,
    boris: Account,
) -> None:
    chat_id = await new_chat(http, anna, {"userId": boris.id})
    other_chat = await new_chat(http, anna, {"memberIds": [boris.id], "title": "Two"})
    boris_rec = await connect(sio_client, boris)
    anna_rec = await connect(sio_client, anna)
    body = {"chatId": chat_id, "content": "only once", "clientId": "queued-1"}
    first = await anna_rec.call("message:send", body)
    await anna_rec.client.disconnect()

    anna_rec = await connect(sio_client, anna)
    again = await anna_rec.call("message:send", body)
    assert again["ok"] is True
    assert again["resent"] is True
    assert again["message"]["id"] == first["message"]["id"]
    # Twice at once, too (a client retrying before the first ack came back).
    both = await asyncio.gather(*(anna_rec.call("message:send", body) for _ in range(2)))
    assert {b["message"]["id"] for b in both} == {first["message"]["id"]}
    await quiet()
    assert len(boris_rec.of("message:received")) == 1
    assert len(await history(http, boris, chat_id)) == 1
    count = await in_server(server, lambda: Message.filter(client_id="queued-1").count())
    assert count == 1
    # The same client id for another chat is a client bug, not a resend.
    clash = await anna_rec.call("message:send", {**body, "chatId": other_chat})
    assert clash["ok"] is False
    assert clash["error"]["code"] == "conflict"


async def test_new_client_ids_racing_make_one_message_each(
    server: Server,
    http: aiohttp.ClientSession,
    sio_client: SioFactory,
    anna: Account,
    boris: Account,
) -> None:
    chat_id = await new_chat(http, anna, {"userId": boris.id})
    anna_rec = await connect(sio_client, anna)
    acks = await asyncio.gather(
        *(
            anna_rec.call(
                "message:send", {"chatId": chat_id, "content": f"n{i % 5}", "clientId": f"c{i % 5}"}
            )
            for i in range(15)
        )
    )
    assert all(a["ok"] for a in acks), acks
    assert len({a["message"]["id"] for a in acks}) == 5
    assert sum(1 for a in acks if not a["resent"]) == 5
    assert len(await history(http, anna, chat_id)) == 5


async def test_a_server_restart_mid_conversation_loses_and_duplicates_nothing(
    make_server: ServerFactory, sio_client: SioFactory
) -> None:
    first = await make_server()
    async with aiohttp.ClientSession(base_url=first.url) as http:
        anna = await register(http, "anna")
        boris = await register(http, "boris")
        chat_id = await new_chat(http, anna, {"userId": boris.id})
    anna_rec = await connect(sio_client, anna, url=first.url)
    boris_rec = await connect(sio_client, boris, url=first.url)
    m1 = (await send(anna_rec, chat_id, "before the restart"))["message"]
    await eventually(lambda: len(boris_rec.of("message:received")) == 1)
    await boris_rec.call("message:delivered", {"messageId": m1["id"]})
    await eventually(lambda: len(anna_rec.of("message:status")) == 1)
    # Anna's next message is stored, but the restart may swallow its ack: her client keeps it
    # queued and sends it again once it is back.
    queued = {"chatId": chat_id, "content": "in flight", "clientId": "in-flight-1"}
    await anna_rec.call("message:send", queued)
    await first.stop()
    await eventually(lambda: not anna_rec.client.connected and not boris_rec.client.connected)

    second = await make_server()  # the same SQLite file, a fresh memory store
    anna_rec = await connect(sio_client, anna, url=second.url)
    boris_rec = await connect(sio_client, boris, url=second.url)
    again = await anna_rec.call("message:send", queued)
    assert again["ok"] is True
    assert again["resent"] is True
    m3 = (await send(boris_rec, chat_id, "after the restart"))["message"]
    await eventually(lambda: len(anna_rec.of("message:received")) == 1)
    assert anna_rec.of("message:received")[0]["id"] == m3["id"]
    async with aiohttp.ClientSession(base_url=second.url) as http:
        shown = await history(http, boris, chat_id)
        async with http.get("/api/chats", headers=boris.headers) as response:
            chats = (await response.json())["chats"]
    assert [m["content"] for m in shown] == ["after the restart", "in flight", "before the restart"]
    assert [m["status"] for m in shown] == ["sent", "sent", "delivered"]
    assert chats[0]["lastMessage"]["id"] == m3["id"]
    assert chats[0]["unreadCount"] == 2


# --- encryption ----------------------------------------------------------------------------------


async def test_encrypted_messages_are_stored_and_relayed_exactly_as_sent(
    server: Server,
    http: aiohttp.ClientSession,
    sio_client: SioFactory,
    anna: Account,
    boris: Account,
) -> None:
    chat_id = await new_chat(http, anna, {"userId": boris.id})
    anna_rec = await connect(sio_client, anna)
    boris_rec = await connect(sio_client, boris)
    ciphertext = "k3J0bG9yZW0taXBzdW0tY2lwaGVy/+=="
    envelope = {
        "v": 1,
        "alg": "RSA-OAEP-256+A256GCM",
        "iv": "MTIzNDU2Nzg5MDEy",
        "keys": {"boris-phone": "d3JhcHBlZC1mb3ItYm9yaXM=", "anna-laptop": "d3JhcHBlZC1hbm5h"},
    }
    ack = await send(anna_rec, chat_id, ciphertext, isEncrypted=True, encryption=envelope)
    message = ack["message"]
    assert message["isEncrypted"] is True
    assert message["content"] == ciphertext
    assert message["encryption"] == envelope
    await eventually(lambda: len(boris_rec.of("message:received")) == 1)
    assert boris_rec.of("message:received")[0]["encryption"] == envelope

    row = await in_server(server, lambda: Message.get(id=message["id"]))
    assert row.is_encrypted is True
    assert row.content == ciphertext
    assert row.encryption == envelope
    async with http.get("/api/chats", headers=boris.headers) as response:
        preview = (await response.json())["chats"][0]["lastMessage"]
    assert preview["text"] is None
    assert preview["isEncrypted"] is True

    for extra, field in (
        ({"isEncrypted": True}, "encryption"),  # no wrapped keys
        ({"isEncrypted": True, "encryption": {}}, "encryption"),
        ({"isEncrypted": True, "encryption": {"k": "x" * 40000}}, "encryption"),
        ({"encryption": envelope}, "encryption"),  # keys on a plain message
    ):
        refused = await anna_rec.call(
            "message:send",
            {"chatId": chat_id, "content": ciphertext, "clientId": uuid.uuid4().hex, **extra},
        )
        assert refused["ok"] is False, extra
        assert refused["error"]["details"]["field"] == field
    refused = await anna_rec.call(
        "message:send",
        {
            "chatId": chat_id,
            "content": "не шифр",
            "clientId": "x1",
            "isEncrypted": True,
            "encryption": envelope,
        },
    )
    assert refused["error"]["details"]["field"] == "content"


# --- presence ------------------------------------------------------------------------------------


async def test_online_with_the_first_device_offline_after_the_last_and_its_grace(
    make_server: ServerFactory, sio_client: SioFactory
) -> None:
    server = await make_server(member_grace_seconds=0.4)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
        boris = await register(http, "boris")
        vera = await register(http, "vera")
        chat_id = await new_chat(http, anna, {"userId": boris.id})
        boris_rec = await connect(sio_client, boris, url=server.url)
        stranger = await connect(sio_client, vera, url=server.url)

        phone = await connect(sio_client, anna, url=server.url)
        await eventually(lambda: len(boris_rec.of("user:online")) == 1)
        assert boris_rec.of("user:online")[0] == {
            "userId": anna.id,
            "isOnline": True,
            "lastSeenAt": None,
        }
        async with http.get(f"/api/chats/{chat_id}", headers=boris.headers) as response:
            members = (await response.json())["chat"]["members"]
        assert {m["user"]["id"]: m["isOnline"] for m in members} == {anna.id: True, boris.id: True}
        laptop = await connect(sio_client, anna, url=server.url)
        await phone.client.disconnect()
        await quiet(0.8)  # longer than the grace: the laptop is still connected
        assert len(boris_rec.of("user:online")) == 1
        assert boris_rec.of("user:offline") == []

        # A reload inside the grace: neither offline nor online again.
        await laptop.client.disconnect()
        laptop = await connect(sio_client, anna, url=server.url)
        await quiet(0.8)
        assert boris_rec.of("user:offline") == []
        assert len(boris_rec.of("user:online")) == 1

        await laptop.client.disconnect()
        await quiet(0.2)
        assert boris_rec.of("user:offline") == []  # still inside the grace
        await eventually(lambda: len(boris_rec.of("user:offline")) == 1)
        offline = boris_rec.of("user:offline")[0]
        assert offline["userId"] == anna.id
        assert offline["isOnline"] is False
        seen = await in_server(server, lambda: User.get(id=anna.id))
        assert seen.last_seen_at is not None
        assert seen.last_seen_at.isoformat() == offline["lastSeenAt"]
        async with http.get(f"/api/chats/{chat_id}", headers=boris.headers) as response:
            members = (await response.json())["chat"]["members"]
        anna_seen = next(m for m in members if m["user"]["id"] == anna.id)
        assert anna_seen["isOnline"] is False
        assert anna_seen["lastSeenAt"] == offline["lastSeenAt"]
        # Vera shares no chat with Anna: she heard nothing of it.
        assert stranger.of("user:online") == []
        assert stranger.of("user:offline") == []


# --- typing, edit, delete ------------------------------------------------------------------------


async def test_typing_is_relayed_to_the_others_at_most_every_two_seconds(
    server: Server,
    http: aiohttp.ClientSession,
    sio_client: SioFactory,
    anna: Account,
    boris: Account,
    vera: Account,
) -> None:
    chat_id = await new_chat(http, anna, {"userId": boris.id})
    anna_rec = await connect(sio_client, anna)
    boris_rec = await connect(sio_client, boris)
    for _ in range(5):
        assert (await anna_rec.call("typing", {"chatId": chat_id})) == {"ok": True}
    await eventually(lambda: len(boris_rec.of("user:typing")) == 1)
    await quiet()
    assert boris_rec.of("user:typing") == [{"chatId": chat_id, "userId": anna.id}]
    assert anna_rec.of("user:typing") == []
    vera_rec = await connect(sio_client, vera)
    refused = await vera_rec.call("typing", {"chatId": chat_id})
    assert refused["error"]["code"] == "forbidden"


async def test_authors_edit_and_delete_and_everyone_hears_it(
    server: Server,
    http: aiohttp.ClientSession,
    sio_client: SioFactory,
    anna: Account,
    boris: Account,
) -> None:
    chat_id = await new_chat(http, anna, {"userId": boris.id})
    anna_rec = await connect(sio_client, anna)
    anna_other = await connect(sio_client, anna)
    boris_rec = await connect(sio_client, boris)
    message = (await send(anna_rec, chat_id, "typo"))["message"]

    refused = await boris_rec.call("message:edit", {"messageId": message["id"], "content": "x"})
    assert refused["error"]["code"] == "forbidden"
    refused = await boris_rec.call("message:delete", {"messageId": message["id"]})
    assert refused["error"]["code"] == "forbidden"

    ack = await anna_rec.call("message:edit", {"messageId": message["id"], "content": "fixed"})
    assert ack["message"]["content"] == "fixed"
    assert ack["message"]["editedAt"] is not None
    for rec in (boris_rec, anna_other):
        await eventually(lambda r=rec: len(r.of("message:edited")) == 1)
        assert rec.of("message:edited")[0]["content"] == "fixed"

    ack = await anna_rec.call("message:delete", {"messageId": message["id"]})
    assert ack == {"ok": True}
    for rec in (boris_rec, anna_other):
        await eventually(lambda r=rec: len(r.of("message:deleted")) == 1)
        assert rec.of("message:deleted")[0] == {"chatId": chat_id, "messageId": message["id"]}
    [shown] = await history(http, boris, chat_id)
    assert shown["deleted"] is True
    assert shown["content"] == ""
    again = await anna_rec.call("message:edit", {"messageId": message["id"], "content": "back"})
    assert again["error"]["code"] == "not_found"
    async with http.get("/api/chats", headers=boris.headers) as response:
        preview = (await response.json())["chats"][0]["lastMessage"]
    assert preview["deleted"] is True
    assert preview["text"] is None


# --- refusals and limits -------------------------------------------------------------------------


async def test_non_members_are_refused_on_every_event(
    server: Server,
    http: aiohttp.ClientSession,
    sio_client: SioFactory,
    anna: Account,
    boris: Account,
    vera: Account,
) -> None:
    chat_id = await new_chat(http, anna, {"userId": boris.id})
    anna_rec = await connect(sio_client, anna)
    message = (await send(anna_rec, chat_id, "between us"))["message"]
    vera_rec = await connect(sio_client, vera)
    for event, data in (
        ("message:send", {"chatId": chat_id, "content": "hi", "clientId": "v1"}),
        ("message:delivered", {"messageId": message["id"]}),
        ("message:read", {"chatId": chat_id, "messageId": message["id"]}),
        ("message:edit", {"messageId": message["id"], "content": "mine"}),
        ("message:delete", {"messageId": message["id"]}),
        ("typing", {"chatId": chat_id}),
    ):
        ack = await vera_rec.call(event, data)
        assert ack["ok"] is False, event
        assert ack["error"]["code"] == "forbidden", (event, ack)
    missing = await vera_rec.call("message:send", {"chatId": 999, "content": "x", "clientId": "v2"})
    assert missing["error"]["code"] == "not_found"
    await quiet(0.1)
    assert vera_rec.of("message:received") == []
    assert len(await history(http, anna, chat_id)) == 1


async def test_content_is_checked_and_sending_is_rate_limited(
    make_server: ServerFactory, sio_client: SioFactory
) -> None:
    server = await make_server(message_rate="3/minute")
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
        boris = await register(http, "boris")
        chat_id = await new_chat(http, anna, {"userId": boris.id})
    rec = await connect(sio_client, anna, url=server.url)
    for content, field in (("   ", "content"), ("x" * 4001, "content"), ("a\x00b", "content")):
        ack = await rec.call(
            "message:send", {"chatId": chat_id, "content": content, "clientId": uuid.uuid4().hex}
        )
        assert ack["error"]["code"] == "validation_error", content
        assert ack["error"]["details"]["field"] == field
    ack = await rec.call("message:send", {"chatId": chat_id, "content": "x"})
    assert ack["error"]["details"]["field"] == "clientId"
    for i in range(3):
        await send(rec, chat_id, f"ok {i}")
    limited = await rec.call(
        "message:send", {"chatId": chat_id, "content": "one too many", "clientId": "late"}
    )
    assert limited["error"]["code"] == "rate_limited"
    assert limited["error"]["details"]["retry_after"] >= 1


async def test_the_other_person_hears_of_a_new_chat(
    server: Server,
    http: aiohttp.ClientSession,
    sio_client: SioFactory,
    anna: Account,
    boris: Account,
) -> None:
    boris_rec = await connect(sio_client, boris)
    chat_id = await new_chat(http, anna, {"userId": boris.id})
    await eventually(lambda: boris_rec.of("chat:updated") == [{"chatId": chat_id}])


# --- across processes (Redis) --------------------------------------------------------------------


@pytest.mark.redis
async def test_devices_on_two_processes_share_presence_and_messages(
    make_server: ServerFactory, sio_client: SioFactory
) -> None:
    """Anna's phone on one process, her laptop on another (one Redis, one database): online
    once, offline only after both closed, messages on both."""
    from signaling.hub import close_sio
    from tests.conftest import REDIS_URL
    from tests.signaling.test_rooms_redis import subscribed
    from webapp.keys import SIO

    first = await make_server(redis_url=REDIS_URL, member_grace_seconds=0.4)
    second = await make_server(redis_url=REDIS_URL, member_grace_seconds=0.4)
    try:
        async with aiohttp.ClientSession(base_url=first.url) as http:
            anna = await register(http, "anna")
            boris = await register(http, "boris")
            chat_id = await new_chat(http, anna, {"userId": boris.id})
        boris_rec = await connect(sio_client, boris, url=first.url)
        phone = await connect(sio_client, anna, url=first.url)
        laptop = await connect(sio_client, anna, url=second.url)
        await subscribed(first)
        await subscribed(second)
        await eventually(lambda: len(boris_rec.of("user:online")) == 1)

        await send(boris_rec, chat_id, "to both devices")
        await eventually(lambda: len(phone.of("message:received")) == 1)
        await eventually(lambda: len(laptop.of("message:received")) == 1)

        await phone.client.disconnect()
        await quiet(0.8)
        assert boris_rec.of("user:offline") == []
        await laptop.client.disconnect()
        await eventually(lambda: len(boris_rec.of("user:offline")) == 1)
        await quiet(0.3)
        assert len(boris_rec.of("user:online")) == 1
        assert len(boris_rec.of("user:offline")) == 1
    finally:
        for server in (first, second):
            await close_sio(server.app[SIO])


async def test_presence_comes_back_when_the_store_was_emptied(
    server: Server,
    http: aiohttp.ClientSession,
    sio_client: SioFactory,
    anna: Account,
    boris: Account,
) -> None:
    """Redis restarted empty: the heartbeat publishes state:restored, and each process puts
    its live connections back (online again; the last close still counts right)."""
    from services.core.events import Event
    from services.messenger.presence import is_online
    from services.rooms.presence import STATE_RESTORED

    await new_chat(http, anna, {"userId": boris.id})
    boris_rec = await connect(sio_client, boris)
    anna_rec = await connect(sio_client, anna)
    await eventually(lambda: len(boris_rec.of("user:online")) == 1)
    services = server.services
    assert services is not None
    for key in (f"msg-conns:{anna.id}", f"msg-online:{anna.id}"):
        await services.state.delete(key)
    assert not await is_online(services, anna.id)

    await server.run(services.events.publish(Event(STATE_RESTORED, {"emptied": True})))
    assert await is_online(services, anna.id)
    await eventually(lambda: len(boris_rec.of("user:online")) == 2)
    assert services.scheduler.pending(f"msg-away:{anna.id}") is False
    await anna_rec.client.disconnect()
    await eventually(lambda: services.scheduler.pending(f"msg-away:{anna.id}"))


async def test_someone_removed_from_a_group_hears_it_and_nothing_after(
    server: Server,
    http: aiohttp.ClientSession,
    sio_client: SioFactory,
    anna: Account,
    boris: Account,
    vera: Account,
) -> None:
    chat_id = await new_chat(http, anna, {"memberIds": [boris.id, vera.id], "title": "Trio"})
    anna_rec = await connect(sio_client, anna)
    boris_rec = await connect(sio_client, boris)
    vera_rec = await connect(sio_client, vera)
    await send(anna_rec, chat_id, "all three")
    await eventually(lambda: len(vera_rec.of("message:received")) == 1)

    async with http.delete(
        f"/api/chats/{chat_id}/members/{vera.id}", headers=anna.headers
    ) as response:
        assert response.status == 200
    await eventually(lambda: vera_rec.of("chat:removed") == [{"chatId": chat_id}])
    await eventually(lambda: {"chatId": chat_id} in boris_rec.of("chat:updated"))
    await send(anna_rec, chat_id, "just us two")
    await eventually(lambda: len(boris_rec.of("message:received")) == 2)
    await quiet(0.1)
    assert len(vera_rec.of("message:received")) == 1
    refused = await vera_rec.call(
        "message:send", {"chatId": chat_id, "content": "still here?", "clientId": "v-late"}
    )
    assert refused["error"]["code"] == "forbidden"


async def test_a_dead_process_users_go_offline_after_the_grace(
    make_server: ServerFactory, sio_client: SioFactory
) -> None:
    """kill -9 of the process holding Anna's connection: its heartbeat expires, the live
    process sweeps its connections, and Boris hears user:offline after the grace."""
    import dataclasses

    from services.core.scheduler import Scheduler
    from services.messenger.presence import do_connect
    from services.rooms.presence import do_heartbeat

    server = await make_server(
        presence_heartbeat_seconds=0.1, presence_heartbeat_ttl_seconds=0.4, member_grace_seconds=0.2
    )
    assert server.services is not None
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
        boris = await register(http, "boris")
        await new_chat(http, anna, {"userId": boris.id})
    boris_rec = await connect(sio_client, boris, url=server.url)
    dead = dataclasses.replace(server.services, scheduler=Scheduler())

    async def on_the_dead_process() -> None:
        await do_heartbeat(dead)  # alive for presence_heartbeat_ttl_seconds, then never again
        await do_connect(dead, user_id=anna.id, conn_id="sid-on-dead")

    await server.run(on_the_dead_process())
    await dead.scheduler.close()
    await eventually(lambda: len(boris_rec.of("user:online")) == 1)
    await eventually(lambda: len(boris_rec.of("user:offline")) == 1, within=5)
    assert boris_rec.of("user:offline")[0]["userId"] == anna.id
