"""Hostile text never reaches a 500 (issue #9, "Input that reaches a 500").

One property per kind of text field (names, titles, URLs, chat text, search queries, tokens),
over HTTP and Socket.IO, on SQLite and PostgreSQL: strings made of lone surrogates, NUL and
other control characters, bidirectional controls, zero-width characters and ordinary text.
Every answer is a 4xx with the error envelope (an ``{ok: false, error}`` ack over Socket.IO,
never ``internal_error``) or a clean success, and nothing stored holds what the text type
(``services/core/text.py``) refuses. The handwritten table below is always tried first, then
hypothesis adds bounded examples (``HOSTILE_EXAMPLES``, default 12 per property and database).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import pytest
import socketio
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from yarl import URL

import services.rooms.chat
from composition import Server
from models.rooms import ChatMessage, MediaItem, Room
from models.users import User
from services.accounts.telegram_auth import sign_init_data
from services.core import text
from tests.conftest import TEST_BOT_TOKEN, Account, ServerFactory, register
from tests.webapp.helpers import in_server, make_token

#: One of each kind of trouble, alone and amid ordinary letters.
TABLE = [
    "a\ud800b",
    "\udfff",
    "a\x00b",
    "\x00",
    "bell\x07",
    "esc\x1b[31m",
    "c1\x85x",
    "\u202eevil",
    "x\u2066y\u2069",
    "\u200b",
    "\u200b\u200c\u200d\u2060\ufeff",
    "  \u200b ",
    "tab\tx",
    "line\nbreak",
    "",
    "ordinary",
]
HOSTILE_CHARS = [
    "\ud800",
    "\udbff",
    "\udc00",
    "\udfff",
    "\x00",
    "\x07",
    "\x1b",
    "\x7f",
    "\x85",
    "\x9f",
    "\u202a",
    "\u202e",
    "\u2066",
    "\u2069",
    "\u200b",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\n",
    "\t",
    "\r",
    " ",
]
HOSTILE = st.text(
    st.one_of(st.sampled_from(HOSTILE_CHARS), st.characters(codec="utf-8")), max_size=16
)
EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "12"))
YOUTUBE = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
_serial = itertools.count(1)
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def hostile(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The table, then generated strings, as the test's ``value``."""
    for value in reversed(TABLE):
        fn = example(value=value)(fn)
    return settings(
        max_examples=len(TABLE) + EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )(given(value=HOSTILE)(fn))


# --- what every answer must look like ----------------------------------------------------------


def assert_envelope(status: int, body: Any, raw: str) -> None:
    assert 400 <= status < 500, raw
    assert isinstance(body, dict), raw
    assert set(body) == {"error"}, raw
    error = body["error"]
    assert set(error) <= {"code", "message", "details"}, raw
    assert isinstance(error["code"], str), raw
    assert error["code"] != "internal_error", raw
    assert isinstance(error["message"], str), raw
    assert error["message"], raw


async def answer(response: aiohttp.ClientResponse) -> tuple[int, Any]:
    """(status, body): a success, or a 4xx error envelope; never a 5xx."""
    raw = await response.text()
    assert response.status < 500, raw
    assert response.content_type == "application/json", raw
    body = json.loads(raw)
    if response.status >= 400:
        assert_envelope(response.status, body, raw)
    return response.status, body


def assert_ack(ack: Any) -> bool:
    """True for ``{ok: true}``; otherwise the error ack of a refusal, not of a crash."""
    assert isinstance(ack, dict), ack
    if ack.get("ok") is True:
        return True
    assert ack.get("ok") is False, ack
    error = ack["error"]
    assert isinstance(error["code"], str), ack
    assert error["code"] != "internal_error", ack
    assert isinstance(error["message"], str), ack
    return False


def assert_clean(value: Any, rule: text.Rule = text.LINE) -> None:
    """What was stored (or sent back) is text of this kind: no NUL, surrogates, controls."""
    if value is None:
        return
    assert isinstance(value, str), ascii(value)
    assert "\x00" not in value, repr(value)
    assert text.problem(value, rule) is None, repr(value)


async def stored_texts(server: Server) -> list[str]:
    """Every text column the hostile strings could reach."""

    async def read() -> list[str]:
        values: list[Any] = []
        for user in await User.all():
            values += [user.username, user.email, user.first_name, user.last_name]
            values += [user.telegram_username, user.telegram_language, user.photo_url]
        for room in await Room.all():
            values += [room.title, room.current_title]
        for item in await MediaItem.all():
            values += [item.url, item.title, item.source_id]
        for message in await ChatMessage.all():
            values.append(message.text)
        return [v for v in values if v is not None]

    return await in_server(server, read)


async def assert_nothing_dirty_stored(server: Server) -> None:
    for value in await stored_texts(server):
        assert text.problem(value, text.MULTILINE) is None, repr(value)


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
async def http(db_server: Server) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=db_server.url) as session:
        yield session


@pytest.fixture
async def host(http: aiohttp.ClientSession) -> Account:
    return await register(http, "hostile_host")


@pytest.fixture
async def tg_server(database_url: str | None, make_telegram_server: ServerFactory) -> Server:
    if database_url is None:
        return await make_telegram_server()
    return await make_telegram_server(database_url=database_url)


@contextlib.asynccontextmanager
async def connected(server: Server, token: Any) -> AsyncIterator[socketio.AsyncClient]:
    client = socketio.AsyncClient(reconnection=False)
    refusals: list[Any] = []
    client.on("connect_error", refusals.append)
    client.refusals = refusals  # type: ignore[attr-defined]
    try:
        await client.connect(
            server.url, transports=["websocket"], auth={"token": token}, wait_timeout=5
        )
        yield client
    finally:
        if client.connected:
            await client.disconnect()


async def create_room(http: aiohttp.ClientSession, host: Account, **body: Any) -> dict[str, Any]:
    async with http.post("/api/rooms", json=body, headers=host.headers) as response:
        status, data = await answer(response)
    assert status == 201, data
    return data["room"]


# --- names -------------------------------------------------------------------------------------


@hostile
async def test_names_at_sign_up_and_sign_in(
    db_server: Server, http: aiohttp.ClientSession, value: str
) -> None:
    n = next(_serial)
    bodies = [
        (
            "/api/auth/register",
            {"email": f"n{n}@example.com", "username": value, "password": "p" * 9},
        ),
        (
            "/api/auth/register",
            {"email": f"{value}{n}@example.com", "username": f"user{n}", "password": "p" * 9},
        ),
        (
            "/api/auth/register",
            {"email": f"p{n}@example.com", "username": f"pass{n}", "password": value * 9},
        ),
        ("/api/auth/login", {"email": f"{value}@example.com", "password": value or "x"}),
        ("/api/auth/login", {"email": "hostile@example.com", "password": value + "password"}),
    ]
    for path, body in bodies:
        async with http.post(path, json=body) as response:
            status, data = await answer(response)
        if status < 400:
            assert_clean(data["user"]["username"])
            assert_clean(data["user"]["email"])
            assert_clean(data["user"]["firstName"], text.NAME)
    await assert_nothing_dirty_stored(db_server)


def _init_data(user: dict[str, Any]) -> str:
    """Signed initData whose user JSON escapes non-ASCII (so lone surrogates travel as \\udXXX,
    the way a JSON encoder writes them)."""
    fields = {
        "query_id": "AAH-hostile",
        "user": json.dumps(user, separators=(",", ":")),
        "auth_date": str(int(time.time())),
    }
    return sign_init_data(fields, bot_token=TEST_BOT_TOKEN)


@hostile
async def test_names_from_telegram(tg_server: Server, value: str) -> None:
    n = next(_serial)
    user = {
        "id": 10_000 + n,
        "first_name": value,
        "last_name": value,
        "username": value,
        "language_code": value,
        "photo_url": f"https://t.me/i/{value}.jpg",
    }
    async with (
        aiohttp.ClientSession(base_url=tg_server.url) as http,
        http.post("/api/auth/telegram", json={"initData": _init_data(user)}) as response,
    ):
        status, data = await answer(response)
    assert status == 200, data
    me = data["user"]
    for field in ("firstName", "lastName", "displayName", "telegramUsername"):
        assert_clean(me[field], text.NAME if field != "telegramUsername" else text.LINE)
    assert_clean(me["photoUrl"], text.URL)
    await assert_nothing_dirty_stored(tg_server)


@pytest.mark.parametrize(
    ("user", "status"),
    [
        ({"id": 2**64, "first_name": "Big"}, 400),
        ({"id": 2**63, "first_name": "Big"}, 400),
        ({"id": 2**63 - 1, "first_name": "Max"}, 200),
        ({"id": 4242, "first_name": "Long", "username": "u" * 200}, 200),
        ({"id": 4243, "first_name": "n" * 500, "last_name": "l" * 500}, 200),
    ],
    ids=["65-bit-id", "64-bit-unsigned-id", "max-id", "long-username", "long-names"],
)
async def test_telegram_ids_and_lengths_beyond_the_columns(
    tg_server: Server, user: dict[str, Any], status: int
) -> None:
    async with (
        aiohttp.ClientSession(base_url=tg_server.url) as http,
        http.post("/api/auth/telegram", json={"initData": _init_data(user)}) as response,
    ):
        got, data = await answer(response)
    assert got == status, data
    if status == 400:
        assert data["error"]["code"] == "validation_error"
    else:
        assert data["user"]["telegramId"] == user["id"]
        assert data["user"]["telegramUsername"] in (None, user.get("username"))
        assert len(data["user"]["firstName"]) <= 128


# --- titles ------------------------------------------------------------------------------------


@hostile
async def test_room_titles(
    db_server: Server, http: aiohttp.ClientSession, host: Account, value: str
) -> None:
    async with http.post("/api/rooms", json={"title": value}, headers=host.headers) as response:
        status, data = await answer(response)
    if status < 400:
        assert_clean(data["room"]["title"], text.TITLE)
        assert data["room"]["title"].strip()
    room = await create_room(http, host, title=f"room {next(_serial)}")
    async with http.patch(
        f"/api/rooms/{room['id']}", json={"title": value}, headers=host.headers
    ) as response:
        status, data = await answer(response)
    if status < 400:
        assert_clean(data["room"]["title"], text.TITLE)
    await assert_nothing_dirty_stored(db_server)


async def test_spoofing_titles_are_refused(http: aiohttp.ClientSession, host: Account) -> None:
    for title in ["\u202eevil", "a\u2067b", "\u200b\u200b", "\ufeff", " \u2060 "]:
        async with http.post("/api/rooms", json={"title": title}, headers=host.headers) as r:
            status, data = await answer(r)
        assert status == 400, ascii((title, data))
        assert data["error"]["code"] == "validation_error"
        assert data["error"]["details"]["field"] == "title"


# --- URLs --------------------------------------------------------------------------------------


@hostile
async def test_media_urls(
    db_server: Server, http: aiohttp.ClientSession, host: Account, value: str
) -> None:
    for url in (
        value,
        f"https://example.com/{value}.mp4",
        f"{YOUTUBE}&t={value}",
        f"https://player.twitch.tv/?video=1{value}",
        f"https://www.twitch.tv/videos/{value}",
    ):
        async with http.post("/api/rooms", json={"url": url}, headers=host.headers) as response:
            status, data = await answer(response)
        if status < 400:
            assert_clean(data["room"]["currentTitle"], text.TITLE)
    # Percent-encoded, the path decodes to the characters themselves (the default title).
    encoded = quote(value.encode("utf-8", "surrogatepass"), safe="")
    async with http.post(
        "/api/rooms", json={"url": f"https://example.com/{encoded}.mp4"}, headers=host.headers
    ) as response:
        status, data = await answer(response)
    if status < 400:
        assert_clean(data["room"]["currentTitle"], text.TITLE)
    await assert_nothing_dirty_stored(db_server)


@pytest.mark.parametrize(
    "url",
    [
        YOUTUBE + "&t=²",
        "https://player.twitch.tv/?video=" + "9" * 300,
        "https://www.twitch.tv/videos/" + "9" * 300,
        "https://example.com/%00%E2%80%AE.mp4",
        "https://example.com/" + "a" * 3000 + ".mp4",
    ],
    ids=["superscript-start", "long-twitch-video", "long-twitch-path", "nul-name", "too-long"],
)
async def test_links_that_used_to_break_the_columns(
    db_server: Server, http: aiohttp.ClientSession, host: Account, url: str
) -> None:
    async with http.post("/api/rooms", json={"url": url}, headers=host.headers) as response:
        status, data = await answer(response)
    if status < 400:
        assert_clean(data["room"]["currentTitle"], text.TITLE)
    await assert_nothing_dirty_stored(db_server)


# --- search queries ----------------------------------------------------------------------------


@hostile
async def test_search_queries(
    db_server: Server, http: aiohttp.ClientSession, host: Account, value: str
) -> None:
    encoded = quote(value.encode("utf-8", "surrogatepass"), safe="")
    for path, headers in (
        ("/api/rooms", {}),
        ("/api/rooms", host.headers),
        ("/api/users/search", host.headers),
    ):
        for name in ("query", "kind", "limit", "offset"):
            if path == "/api/users/search" and name != "query":
                continue
            url = URL(f"{db_server.url}{path}?{name}={encoded}", encoded=True)
            async with http.get(url, headers=headers) as response:
                status, data = await answer(response)
            # NUL and controls survive percent-decoding: refused, not searched for (SQLite
            # would look for them, PostgreSQL would fail).
            if name == "query" and _CONTROLS.search(value):
                assert status == 400, ascii((path, value, data))
    room = await create_room(http, host, title=f"search {next(_serial)}")
    for query in ("before", "limit", "invite", "mediaId", "from", "to"):
        url = URL(
            f"{db_server.url}/api/rooms/{room['id']}/messages?{query}={encoded}", encoded=True
        )
        async with http.get(url, headers=host.headers) as response:
            await answer(response)
        url = URL(
            f"{db_server.url}/api/rooms/{room['id']}/reactions?{query}={encoded}", encoded=True
        )
        async with http.get(url, headers=host.headers) as response:
            await answer(response)
        url = URL(f"{db_server.url}/api/rooms/{room['id']}?{query}={encoded}", encoded=True)
        async with http.get(url, headers=host.headers) as response:
            await answer(response)


@pytest.mark.parametrize(
    "path",
    [
        "/api/rooms?query=%00",
        "/api/rooms?query=a%00b",
        "/api/users/search?query=an%00na",
        "/api/rooms/1/messages?before=99999999999",
        "/api/rooms/1/messages?limit=-99999999999",
        "/api/rooms/1/reactions?mediaId=4294967296",
        "/api/rooms/1/reactions?mediaId=1&from=nan",
        "/api/rooms/99999999999",
        "/api/rooms/1?invite=%00",
    ],
)
async def test_query_strings_with_nul_or_out_of_range_ints_are_400_or_404(
    db_server: Server, http: aiohttp.ClientSession, host: Account, path: str
) -> None:
    await create_room(http, host, title="probe")
    async with http.get(URL(db_server.url + path, encoded=True), headers=host.headers) as r:
        status, data = await answer(r)
    assert status in (400, 404), data


async def test_ids_beyond_32_bits_are_validation_errors(
    db_server: Server, http: aiohttp.ClientSession, host: Account
) -> None:
    room = await create_room(http, host, title="ids")
    for method, path, body in [
        ("POST", f"/api/rooms/{room['id']}/kick/99999999999", None),
        ("POST", f"/api/rooms/{room['id']}/moderators/4294967296", None),
        ("PATCH", f"/api/rooms/{room['id']}", {"slowModeSeconds": 2**40}),
        ("POST", f"/api/rooms/{room['id']}/invite", {"userId": 2**40}),
        ("POST", f"/api/rooms/{room['id']}/handover", {"userId": 2**70}),
    ]:
        async with http.request(method, path, json=body, headers=host.headers) as response:
            status, data = await answer(response)
        assert status == 400, (path, data)
        assert data["error"]["code"] == "validation_error", (path, data)
    async with connected(db_server, host.token) as client:
        ack = await client.call("room:join", {"roomId": room["id"]}, timeout=5)
        assert assert_ack(ack)
        for event, payload in [
            ("queue:remove", {"roomId": room["id"], "mediaId": 2**40}),
            ("queue:reorder", {"roomId": room["id"], "mediaIds": [2**63]}),
            ("chat:delete", {"roomId": room["id"], "messageId": 2**64}),
            ("player:play", {"roomId": room["id"], "clientSeq": 2**80}),
            ("room:join", {"roomId": 2**40}),
        ]:
            ack = await client.call(event, payload, timeout=5)
            assert not assert_ack(ack), (event, ack)
            assert ack["error"]["code"] == "validation_error", (event, ack)


# --- tokens ------------------------------------------------------------------------------------


async def raw_request(server: Server, head: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (aiohttp's client will not put undecodable bytes in a header)."""
    parts = urlsplit(server.url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(head)
        await writer.drain()
        async with asyncio.timeout(10):
            data = await reader.read()
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    header_block, _, body = data.partition(b"\r\n\r\n")
    lines = header_block.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


@hostile
async def test_tokens_over_http(db_server: Server, value: str) -> None:
    raw = value.encode("utf-8", "surrogatepass")
    for token in (
        raw,
        b"\xff\xfe" + raw,
        b"eyJ" + raw,
        make_token(db_server, sub="1").encode() + raw,
    ):
        for path in (b"/api/users/me", b"/api/rooms"):
            head = (
                b"GET " + path + b" HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
                b"Authorization: Bearer " + token + b"\r\n\r\n"
            )
            status, headers, body = await raw_request(db_server, head)
            assert status < 500, body
            assert headers.get("server") == "vmeste", headers
            if status == 200:
                continue
            if headers.get("content-type", "").startswith("application/json"):
                assert_envelope(status, json.loads(body), body.decode("utf-8", "replace"))
            else:
                # Refused by the HTTP parser (a NUL or CR in a header) before any app code.
                assert status == 400, body


@hostile
async def test_tokens_over_socketio(db_server: Server, value: str) -> None:
    for token in (value, "eyJ" + value, make_token(db_server, sub="1") + value):
        client = socketio.AsyncClient(reconnection=False)
        refusals: list[Any] = []
        client.on("connect_error", refusals.append)
        started = time.monotonic()
        try:
            await client.connect(
                db_server.url, transports=["websocket"], auth={"token": token}, wait_timeout=5
            )
        except socketio.exceptions.ConnectionError:
            pass
        finally:
            if client.connected:
                await client.disconnect()
        # A refusal, at once: not the client's wait_timeout running out.
        assert refusals, ascii(token)
        assert time.monotonic() - started < 4
        assert refusals[0]["data"]["code"] == "unauthorized", refusals


async def test_signed_tokens_with_ids_beyond_32_bits_are_refused(db_server: Server) -> None:
    token = make_token(db_server, sub=str(2**40))
    async with (
        aiohttp.ClientSession(base_url=db_server.url) as http,
        http.get("/api/users/me", headers={"Authorization": f"Bearer {token}"}) as response,
    ):
        status, data = await answer(response)
    assert status == 401, data


# --- Socket.IO payloads: chat text, URLs, refs, emoji --------------------------------------------


@hostile
async def test_socket_payloads(
    db_server: Server,
    http: aiohttp.ClientSession,
    host: Account,
    monkeypatch: pytest.MonkeyPatch,
    value: str,
) -> None:
    monkeypatch.setattr(services.rooms.chat, "FLOOD_RATE", "100000/second")
    room = await create_room(http, host, title=f"sock {next(_serial)}", url=YOUTUBE)
    async with connected(db_server, host.token) as client:
        assert assert_ack(await client.call("room:join", {"roomId": room["id"]}, timeout=5))
        ack = await client.call("chat:send", {"roomId": room["id"], "text": value}, timeout=5)
        if assert_ack(ack):
            assert_clean(ack["message"]["text"], text.MULTILINE)
        for url in (value, f"https://example.com/{value}.mp4"):
            ack = await client.call("queue:add", {"roomId": room["id"], "url": url}, timeout=5)
            if assert_ack(ack):
                assert_clean(ack["item"]["title"], text.TITLE)
                assert_clean(ack["item"]["url"], text.URL)
            ack = await client.call("player:load", {"roomId": room["id"], "url": url}, timeout=5)
            assert_ack(ack)
        for event, payload in [
            ("room:join", {"roomId": value}),
            ("room:join", {"roomId": room["id"], "inviteCode": value}),
            ("chat:send", {"roomId": value, "text": "hi"}),
            ("reaction:send", {"roomId": room["id"], "emoji": value, "mediaTime": 1.0}),
            ("queue:add", {"roomId": room["code"] + value, "url": YOUTUBE}),
        ]:
            assert_ack(await client.call(event, payload, timeout=5))
        assert_ack(await client.call(value or "x", {"roomId": room["id"]}, timeout=5))
    await assert_nothing_dirty_stored(db_server)


async def test_an_unknown_event_gets_an_error_ack(db_server: Server, host: Account) -> None:
    async with connected(db_server, host.token) as client:
        for args in [("no:such",), ("no:such", {"a": 1}), ("chat:sendd", "x")]:
            ack = await client.call(*args, timeout=5)
            assert ack["ok"] is False, ack
            assert ack["error"]["code"] == "unknown_event", ack
            assert ack["error"]["details"] == {"event": args[0]}
        # A known event with an extra argument is still answered.
        ack = await client.call("time:sync", ({"clientTime": 1.0}, "extra"), timeout=5)
        assert assert_ack(ack), ack


# --- the Server header ---------------------------------------------------------------------------


async def test_server_header_names_no_versions(db_server: Server) -> None:
    async with aiohttp.ClientSession(base_url=db_server.url) as http:
        for path in ("/api/health", "/api/nope", "/app", "/static/nope.js"):
            async with http.get(path) as response:
                assert response.headers.get("Server") == "vmeste", (path, response.headers)
    # Answered by the protocol before any route: a malformed request line, a bad header.
    for head in (b"NOT HTTP\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nBad\x00Header: 1\r\n\r\n"):
        status, headers, _ = await raw_request(db_server, head)
        assert status == 400
        assert headers.get("server") == "vmeste", headers
