"""The messenger over HTTP (docs/messenger.md): direct chats (idempotent) and groups, the chat
list's order, previews and unread counts, history pages, members and admins, mute, the
presence fields of /api/users/me and /api/auth/me, device public keys; on SQLite and
PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
import socketio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from composition import Server
from models.users import User
from services.messenger.messages import do_mark_read, do_send_message
from tests.conftest import Account, register
from tests.webapp.helpers import assert_json_error, in_server


@pytest.fixture
async def http(db_server: Server) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=db_server.url) as session:
        yield session


@pytest.fixture
async def vera(http: aiohttp.ClientSession) -> Account:
    return await register(http, "vera")


async def post(
    http: aiohttp.ClientSession, who: Account, path: str, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    async with http.post(path, json=body, headers=who.headers) as response:
        return response.status, await response.json()


async def get(http: aiohttp.ClientSession, who: Account, path: str) -> tuple[int, dict[str, Any]]:
    async with http.get(path, headers=who.headers) as response:
        return response.status, await response.json()


async def direct(http: aiohttp.ClientSession, who: Account, other: Account) -> dict[str, Any]:
    status, body = await post(http, who, "/api/chats", {"userId": other.id})
    assert status in (200, 201), body
    return body["chat"]


async def group(
    http: aiohttp.ClientSession, who: Account, *others: Account, title: str = "Team"
) -> dict[str, Any]:
    status, body = await post(
        http, who, "/api/chats", {"memberIds": [o.id for o in others], "title": title}
    )
    assert status == 201, body
    return body["chat"]


async def send(
    server: Server, who: Account, chat_id: int, content: str, **extra: Any
) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        message, _ = await do_send_message(
            server.services,
            acting_user=await User.get(id=who.id),
            chat_id=chat_id,
            content=content,
            client_id=extra.pop("client_id", uuid.uuid4().hex),
            **extra,
        )
        return message

    return await in_server(server, go)


async def read(server: Server, who: Account, chat_id: int, message_id: int) -> int:
    async def go() -> int:
        return await do_mark_read(
            server.services,
            acting_user=await User.get(id=who.id),
            chat_id=chat_id,
            message_id=message_id,
        )

    return await in_server(server, go)


# --- chats ---------------------------------------------------------------------------------------


async def test_a_direct_chat_is_one_per_pair(
    db_server: Server, http: aiohttp.ClientSession, anna: Account, boris: Account
) -> None:
    status, first = await post(http, anna, "/api/chats", {"userId": boris.id})
    assert status == 201, first
    chat = first["chat"]
    assert chat["kind"] == "direct"
    assert chat["title"] is None
    assert {m["user"]["id"] for m in chat["members"]} == {anna.id, boris.id}
    assert chat["unreadCount"] == 0
    assert chat["lastMessage"] is None

    status, again = await post(http, anna, "/api/chats", {"userId": boris.id})
    assert status == 200
    assert again["chat"]["id"] == chat["id"]
    status, other_way = await post(http, boris, "/api/chats", {"userId": anna.id})
    assert status == 200
    assert other_way["chat"]["id"] == chat["id"]
    for who in (anna, boris):
        _, listed = await get(http, who, "/api/chats")
        assert [c["id"] for c in listed["chats"]] == [chat["id"]]


async def test_starting_a_chat_with_nobody_yourself_or_a_blocked_user_is_refused(
    db_server: Server, http: aiohttp.ClientSession, anna: Account, boris: Account
) -> None:
    async with http.post("/api/chats", json={"userId": anna.id}, headers=anna.headers) as r:
        await assert_json_error(r, 400, "validation_error", field="userId")
    async with http.post("/api/chats", json={"userId": 99999}, headers=anna.headers) as r:
        error = await assert_json_error(r, 404, "not_found")
        assert error["message"] == "User not found."
    async with http.post("/api/chats", json={}, headers=anna.headers) as r:
        await assert_json_error(r, 400, "validation_error")
    async with http.post("/api/chats", json={"memberIds": [boris.id]}, headers=anna.headers) as r:
        await assert_json_error(r, 400, "validation_error", field="title")
    async with http.post(
        "/api/chats", json={"memberIds": [anna.id], "title": "Me"}, headers=anna.headers
    ) as r:
        await assert_json_error(r, 400, "validation_error", field="memberIds")

    await in_server(db_server, lambda: User.filter(id=boris.id).update(banned_at=datetime.now(UTC)))
    async with http.post("/api/chats", json={"userId": boris.id}, headers=anna.headers) as r:
        error = await assert_json_error(r, 403, "forbidden")
        assert error["message"] == "This user is blocked."
    async with http.post(
        "/api/chats", json={"memberIds": [boris.id], "title": "T"}, headers=anna.headers
    ) as r:
        await assert_json_error(r, 403, "forbidden")
    _, listed = await get(http, anna, "/api/chats")
    assert listed["chats"] == []


async def test_group_admins_rename_add_and_remove_members_leave(
    db_server: Server, http: aiohttp.ClientSession, anna: Account, boris: Account, vera: Account
) -> None:
    gleb = await register(http, "gleb")
    chat = await group(http, anna, boris, vera, title="  Film   club ")
    assert chat["title"] == "Film club"
    assert chat["myRole"] == "admin"
    roles = {m["user"]["id"]: m["role"] for m in chat["members"]}
    assert roles == {anna.id: "admin", boris.id: "member", vera.id: "member"}
    path = f"/api/chats/{chat['id']}"

    async with http.patch(path, json={"title": "Mine"}, headers=boris.headers) as r:
        await assert_json_error(r, 403, "forbidden")
    async with http.patch(path, json={"title": "Cinema"}, headers=anna.headers) as r:
        assert r.status == 200
        assert (await r.json())["chat"]["title"] == "Cinema"
    status, _ = await post(http, boris, f"{path}/members", {"userId": gleb.id})
    assert status == 403
    status, added = await post(http, anna, f"{path}/members", {"userId": gleb.id})
    assert status == 200
    assert gleb.id in {m["user"]["id"] for m in added["chat"]["members"]}
    async with http.delete(f"{path}/members/{vera.id}", headers=boris.headers) as r:
        await assert_json_error(r, 403, "forbidden")

    async with http.delete(f"{path}/members/{vera.id}", headers=anna.headers) as r:
        assert r.status == 200
    async with http.get(path, headers=vera.headers) as r:
        await assert_json_error(r, 403, "forbidden")
    async with http.delete(f"{path}/members/{vera.id}", headers=anna.headers) as r:
        await assert_json_error(r, 404, "not_found")
    async with http.delete(f"{path}/members/{boris.id}", headers=boris.headers) as r:
        assert r.status == 200  # leaving
    _, listed = await get(http, boris, "/api/chats")
    assert listed["chats"] == []

    # The last admin leaves: the longest-standing member (Gleb, the only one left) takes over.
    async with http.delete(f"{path}/members/{anna.id}", headers=anna.headers) as r:
        assert r.status == 200
    _, seen = await get(http, gleb, path)
    assert [(m["user"]["id"], m["role"]) for m in seen["chat"]["members"]] == [(gleb.id, "admin")]
    # Added back, Vera is a member again.
    status, _ = await post(http, gleb, f"{path}/members", {"userId": vera.id})
    assert status == 200
    status, seen = await get(http, vera, path)
    assert status == 200
    assert seen["chat"]["myRole"] == "member"


async def test_direct_chats_have_no_members_to_manage(
    db_server: Server, http: aiohttp.ClientSession, anna: Account, boris: Account, vera: Account
) -> None:
    chat = await direct(http, anna, boris)
    path = f"/api/chats/{chat['id']}"
    async with http.post(f"{path}/members", json={"userId": vera.id}, headers=anna.headers) as r:
        await assert_json_error(r, 403, "forbidden")
    async with http.delete(f"{path}/members/{boris.id}", headers=anna.headers) as r:
        await assert_json_error(r, 403, "forbidden")
    async with http.patch(path, json={"title": "Us"}, headers=anna.headers) as r:
        await assert_json_error(r, 403, "forbidden")


async def test_non_members_are_refused_everywhere(
    db_server: Server, http: aiohttp.ClientSession, anna: Account, boris: Account, vera: Account
) -> None:
    chat = await direct(http, anna, boris)
    await send(db_server, anna, chat["id"], "private")
    path = f"/api/chats/{chat['id']}"
    for method, url, body in (
        ("GET", path, None),
        ("PATCH", path, {"muted": True}),
        ("POST", f"{path}/members", {"userId": vera.id}),
        ("DELETE", f"{path}/members/{vera.id}", None),
        ("GET", f"/api/messages?chatId={chat['id']}", None),
    ):
        async with http.request(method, url, json=body, headers=vera.headers) as r:
            error = await assert_json_error(r, 403, "forbidden")
            assert error["message"] == "You are not a member of this chat."
    async with http.get("/api/chats/424242", headers=anna.headers) as r:
        await assert_json_error(r, 404, "not_found")
    async with http.get("/api/messages?chatId=424242", headers=anna.headers) as r:
        await assert_json_error(r, 404, "not_found")
    async with http.get("/api/messages", headers=anna.headers) as r:
        await assert_json_error(r, 400, "validation_error", field="chatId")
    async with http.get(path) as r:
        await assert_json_error(r, 401, "unauthorized")


async def test_the_list_is_ordered_by_last_message_with_previews_and_unread_counts(
    db_server: Server, http: aiohttp.ClientSession, anna: Account, boris: Account, vera: Account
) -> None:
    with_boris = await direct(http, anna, boris)
    with_vera = await direct(http, anna, vera)
    team = await group(http, anna, boris, vera)
    # Newest first by creation while nobody wrote.
    _, listed = await get(http, anna, "/api/chats")
    assert [c["id"] for c in listed["chats"]] == [team["id"], with_vera["id"], with_boris["id"]]

    first = await send(db_server, boris, with_boris["id"], "hi Anna")
    await send(db_server, boris, with_boris["id"], "are you there?")
    await send(db_server, vera, with_vera["id"], "x" * 150)
    await send(db_server, anna, team["id"], "my own message")
    secret = await send(
        db_server,
        boris,
        with_boris["id"],
        "Q2lwaGVydGV4dA==",
        is_encrypted=True,
        encryption={"iv": "aXY=", "keys": {"dev1": "d3JhcHBlZA=="}},
    )
    _, listed = await get(http, anna, "/api/chats")
    chats = listed["chats"]
    assert [c["id"] for c in chats] == [with_boris["id"], team["id"], with_vera["id"]]
    by_id = {c["id"]: c for c in chats}
    assert by_id[with_boris["id"]]["unreadCount"] == 3
    assert by_id[with_vera["id"]]["unreadCount"] == 1
    assert by_id[team["id"]]["unreadCount"] == 0  # one's own messages are never unread
    preview = by_id[with_boris["id"]]["lastMessage"]
    assert preview["id"] == secret["id"]
    assert preview["isEncrypted"] is True
    assert preview["text"] is None  # never the ciphertext, never anything of the content
    assert by_id[with_boris["id"]]["lastMessageAt"] == secret["createdAt"]
    assert by_id[with_vera["id"]]["lastMessage"]["text"] == "x" * 100
    assert by_id[team["id"]]["lastMessage"]["text"] == "my own message"

    assert await read(db_server, anna, with_boris["id"], first["id"]) == 2
    _, listed = await get(http, anna, "/api/chats")
    assert {c["id"]: c["unreadCount"] for c in listed["chats"]}[with_boris["id"]] == 2
    assert await read(db_server, anna, with_boris["id"], secret["id"]) == 0
    # Boris's view: his own messages are not unread for him; Anna's group message is.
    _, listed = await get(http, boris, "/api/chats")
    assert {c["id"]: c["unreadCount"] for c in listed["chats"]} == {
        with_boris["id"]: 0,
        team["id"]: 1,
    }


async def test_history_pages_newest_first_with_statuses(
    db_server: Server, http: aiohttp.ClientSession, anna: Account, boris: Account
) -> None:
    chat = await direct(http, anna, boris)
    sent = [await send(db_server, anna, chat["id"], f"m{i}") for i in range(7)]
    ids = [m["id"] for m in sent]
    await read(db_server, boris, chat["id"], ids[2])
    status, page = await get(http, boris, f"/api/messages?chatId={chat['id']}&limit=3")
    assert status == 200
    assert [m["id"] for m in page["messages"]] == ids[6:3:-1]
    assert page["hasMore"] is True
    status, page = await get(
        http, anna, f"/api/messages?chatId={chat['id']}&limit=3&before={ids[4]}"
    )
    assert [m["content"] for m in page["messages"]] == ["m3", "m2", "m1"]
    assert [m["status"] for m in page["messages"]] == ["sent", "read", "read"]
    assert page["messages"][0]["readBy"] is None  # direct chats count no readers
    assert page["hasMore"] is True
    _, page = await get(http, anna, f"/api/messages?chatId={chat['id']}&before={ids[1]}")
    assert [m["content"] for m in page["messages"]] == ["m0"]
    assert page["hasMore"] is False
    async with http.get(f"/api/messages?chatId={chat['id']}&limit=101", headers=anna.headers) as r:
        await assert_json_error(r, 400, "validation_error", field="limit")


async def test_mute_is_each_members_own(
    db_server: Server, http: aiohttp.ClientSession, anna: Account, boris: Account
) -> None:
    chat = await direct(http, anna, boris)
    async with http.patch(
        f"/api/chats/{chat['id']}", json={"muted": True}, headers=anna.headers
    ) as r:
        assert r.status == 200
        assert (await r.json())["chat"]["muted"] is True
    _, seen = await get(http, boris, f"/api/chats/{chat['id']}")
    assert seen["chat"]["muted"] is False
    _, listed = await get(http, anna, "/api/chats")
    assert listed["chats"][0]["muted"] is True


# --- /api/users/me -------------------------------------------------------------------------------


async def test_me_has_avatar_presence_and_last_seen_and_auth_me_answers_the_same(
    db_server: Server, http: aiohttp.ClientSession, anna: Account
) -> None:
    await in_server(
        db_server, lambda: User.filter(id=anna.id).update(photo_url="https://t.me/i/a.jpg")
    )
    _, me = await get(http, anna, "/api/users/me")
    assert me["user"]["avatarUrl"] == "https://t.me/i/a.jpg"
    assert me["user"]["isOnline"] is False
    assert me["user"]["lastSeenAt"] is None
    _, alias = await get(http, anna, "/api/auth/me")
    assert alias == me

    client = socketio.AsyncClient(reconnection=False)
    await client.connect(db_server.url, transports=["websocket"], auth={"token": anna.token})
    try:
        _, me = await get(http, anna, "/api/auth/me")
        assert me["user"]["isOnline"] is True
    finally:
        await client.disconnect()


# --- encryption keys -----------------------------------------------------------------------------


def spki(bits: int = 2048) -> tuple[str, str]:
    """A fresh RSA public key as the browser exports it (SPKI, base64) and its fingerprint."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key()
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode(), hashlib.sha256(der).hexdigest()


async def test_device_keys_are_per_device_replaced_and_shown_to_chat_partners_only(
    db_server: Server, http: aiohttp.ClientSession, anna: Account, boris: Account, vera: Account
) -> None:
    phone, phone_print = spki()
    laptop, laptop_print = spki()
    status, body = await post(
        http, boris, "/api/encryption/public-key", {"publicKey": phone, "deviceId": "phone"}
    )
    assert status == 200, body
    assert body["key"]["fingerprint"] == phone_print
    await post(
        http, boris, "/api/encryption/public-key", {"publicKey": laptop, "deviceId": "laptop"}
    )
    path = f"/api/encryption/public-key/{boris.id}"
    async with http.get(path, headers=anna.headers) as r:
        await assert_json_error(r, 403, "forbidden")  # no chat with Boris yet
    await direct(http, anna, boris)
    status, body = await get(http, anna, path)
    assert status == 200
    assert body["userId"] == boris.id
    assert {k["deviceId"]: k["fingerprint"] for k in body["keys"]} == {
        "phone": phone_print,
        "laptop": laptop_print,
    }
    assert {k["deviceId"]: k["publicKey"] for k in body["keys"]}["phone"] == phone

    new_phone, new_print = spki()
    await post(
        http, boris, "/api/encryption/public-key", {"publicKey": new_phone, "deviceId": "phone"}
    )
    _, body = await get(http, anna, path)
    assert {k["deviceId"]: k["fingerprint"] for k in body["keys"]} == {
        "phone": new_print,
        "laptop": laptop_print,
    }
    async with http.get(path, headers=vera.headers) as r:
        await assert_json_error(r, 403, "forbidden")
    status, own = await get(http, boris, path)
    assert status == 200
    assert len(own["keys"]) == 2
    async with http.get("/api/encryption/public-key/99999", headers=anna.headers) as r:
        await assert_json_error(r, 404, "not_found")


async def test_public_keys_must_be_rsa_spki_in_base64(
    db_server: Server, http: aiohttp.ClientSession, anna: Account
) -> None:
    ec_der = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    small_der = small.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    good, _ = spki()
    for key in (
        base64.b64encode(ec_der).decode() * 2,  # long enough, but not one key
        base64.b64encode(ec_der).decode() + "A" * 40,
        base64.b64encode(small_der).decode(),
        "!" * 400,
        "QUFB" * 120,
        good[:-8],
        "A" * 3000,
    ):
        async with http.post(
            "/api/encryption/public-key",
            json={"publicKey": key, "deviceId": "d1"},
            headers=anna.headers,
        ) as r:
            await assert_json_error(r, 400, "validation_error", field="publicKey")
    async with http.post(
        "/api/encryption/public-key",
        json={"publicKey": good, "deviceId": "x" * 65},
        headers=anna.headers,
    ) as r:
        await assert_json_error(r, 400, "validation_error", field="deviceId")


async def test_refusals_speak_the_users_language(
    db_server: Server, http: aiohttp.ClientSession, anna: Account, boris: Account, vera: Account
) -> None:
    chat = await direct(http, anna, boris)
    async with http.patch("/api/users/me", json={"language": "ru"}, headers=vera.headers) as r:
        assert r.status == 200
    async with http.get(f"/api/chats/{chat['id']}", headers=vera.headers) as r:
        error = await assert_json_error(r, 403, "forbidden")
    assert error["message"] == "Вы не участник этого чата."
    async with http.post("/api/chats", json={"userId": vera.id}, headers=vera.headers) as r:
        error = await assert_json_error(r, 400, "validation_error")
    assert error["message"] == "Нельзя начать чат с самим собой."


async def test_the_same_client_id_at_once_stores_one_message(
    db_server: Server, http: aiohttp.ClientSession, anna: Account, boris: Account
) -> None:
    """The unique (sender, clientId) constraint decides a race, on both databases."""
    import asyncio

    chat = await direct(http, anna, boris)

    async def go() -> list[tuple[dict[str, Any], bool]]:
        user = await User.get(id=anna.id)
        return await asyncio.gather(
            *(
                do_send_message(
                    db_server.services,
                    acting_user=user,
                    chat_id=chat["id"],
                    content="once",
                    client_id="same-id",
                )
                for _ in range(6)
            )
        )

    results = await in_server(db_server, go)
    assert len({message["id"] for message, _ in results}) == 1
    assert sorted(resent for _, resent in results) == [False, True, True, True, True, True]
    _, page = await get(http, boris, f"/api/messages?chatId={chat['id']}")
    assert [m["content"] for m in page["messages"]] == ["once"]
