"""Domain errors reach people in their language, over HTTP and Socket.IO (one mapping each)."""

from __future__ import annotations

import aiohttp

from composition import Server
from models.users import User
from tests.conftest import Account, SioFactory
from tests.webapp.helpers import in_server

RU_BAD_JSON = "Тело запроса — некорректный JSON."
RU_NO_ROOM = "Этой комнаты нет или она закрыта."
RU_JOIN_FIRST = "Сначала войдите в комнату."


async def _speaks_russian(server: Server, account: Account) -> None:
    async def switch() -> None:
        await User.filter(id=account.id).update(language="ru")

    await in_server(server, switch)


async def test_http_errors_follow_accept_language_before_sign_in(
    http: aiohttp.ClientSession,
) -> None:
    headers = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5", "Content-Type": "application/json"}
    async with http.post("/api/auth/login", data=b"{nope", headers=headers) as response:
        body = await response.json()
    assert response.status == 400
    assert body["error"] == {
        "code": "validation_error",
        "message": RU_BAD_JSON,
        "details": {"field": "body"},
    }
    async with http.post("/api/auth/login", data=b"{nope", headers={"Accept-Language": "en"}) as r:
        assert (await r.json())["error"]["message"] == "The request body is not valid JSON."


async def test_http_errors_follow_the_signed_in_users_language(
    server: Server, http: aiohttp.ClientSession, anna: Account
) -> None:
    await _speaks_russian(server, anna)
    # Her language wins over what this browser asks for.
    headers = {**anna.headers, "Accept-Language": "en"}
    async with http.get("/api/rooms/ZZZZZZZZ", headers=headers) as response:
        body = await response.json()
    assert response.status == 404
    assert body["error"]["message"] == RU_NO_ROOM


async def test_socket_errors_in_the_users_language(
    server: Server,
    sio_client: SioFactory,
    anna: Account,
    boris: Account,
    http: aiohttp.ClientSession,
) -> None:
    async with http.post("/api/rooms", json={"title": "Кино"}, headers=anna.headers) as response:
        room = (await response.json())["room"]
    await _speaks_russian(server, boris)
    client = await sio_client(boris.token)
    ack = await client.call("chat:send", {"roomId": room["id"], "text": "привет"}, timeout=5)
    assert ack == {"ok": False, "error": {"code": "forbidden", "message": RU_JOIN_FIRST}}
    english = await sio_client(anna.token)
    ack = await english.call("room:join", {"roomId": "ZZZZZZZZ"}, timeout=5)
    assert ack["error"]["message"] == "This room does not exist or has been closed."


async def test_invite_takes_user_id_in_camel_case_like_every_field(
    http: aiohttp.ClientSession, anna: Account, boris: Account
) -> None:
    async with http.post("/api/rooms", json={"title": "Invites"}, headers=anna.headers) as r:
        room = (await r.json())["room"]
    url = f"/api/rooms/{room['id']}/invite"
    async with http.post(url, json={"userId": boris.id}, headers=anna.headers) as response:
        assert response.status == 200, await response.text()
    async with http.post(url, json={"userId": anna.id}, headers=anna.headers) as response:
        body = await response.json()
    assert body["error"]["details"]["field"] == "userId"
