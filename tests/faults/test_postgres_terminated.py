"""PostgreSQL connections killed under load (``pg_terminate_backend`` on the test's own
database, several times while requests run).

Before: a request on a killed connection answered 500 ``internal_error``. Now it answers 503
``database_unavailable`` with a localized message (or succeeds: a read is retried once on a
fresh connection), the pool reconnects by itself, and no write is left half-done.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import aiohttp
import asyncpg
import pytest

import services.rooms.chat
from tests.conftest import ServerFactory, SioFactory, asyncpg_dsn, register
from tests.faults.conftest import terminate_backends
from tests.signaling.test_rooms import Recorder, create_room, join

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

MESSAGES = {
    "en": "The database is unavailable right now. Try again in a moment.",
    "ru": "База данных сейчас недоступна. Повторите чуть позже.",
}


async def _load(
    http: aiohttp.ClientSession, headers: dict[str, str], stop: asyncio.Event, seen: Counter
) -> list[tuple[str, dict[str, Any]]]:
    """Create rooms (writes, signed in: English) and list public rooms (reads, ``?lang=ru``)
    until told to stop; every answer must be a success or a clear 503."""
    unavailable: list[tuple[str, dict[str, Any]]] = []
    n = 0
    while not stop.is_set():
        n += 1
        if n % 2:
            request = http.post("/api/rooms", json={"title": f"room {n}"}, headers=headers)
            lang = "en"
        else:
            request = http.get("/api/rooms", params={"lang": "ru"})
            lang = "ru"
        async with request as response:
            body = await response.json()
            seen[(lang, response.status)] += 1
            if response.status == 503:
                unavailable.append((lang, body))
            else:
                assert response.status in (200, 201), body
    return unavailable


async def test_killed_connections_give_a_clear_error_then_recover(
    make_server: ServerFactory, own_postgres: str
) -> None:
    server = await make_server(database_url=own_postgres)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna_pg_faults")
        stop, seen = asyncio.Event(), Counter()
        workers = [asyncio.create_task(_load(http, anna.headers, stop, seen)) for _ in range(6)]
        killed = 0
        for _ in range(10):
            await asyncio.sleep(0.15)
            killed += await terminate_backends(own_postgres)
        await asyncio.sleep(0.2)
        stop.set()
        unavailable = [u for result in await asyncio.gather(*workers) for u in result]

        assert killed > 0
        assert unavailable, f"no request met a killed connection: {seen}"
        for lang, body in unavailable:
            assert body["error"]["code"] == "database_unavailable", body
            assert body["error"]["message"] == MESSAGES[lang], body

        # Recovered without a restart: writes and reads work again.
        async with http.post("/api/rooms", json={"title": "after"}, headers=anna.headers) as r:
            assert r.status == 201, await r.json()
        async with http.get("/api/rooms/mine", headers=anna.headers) as r:
            assert r.status == 200, await r.json()
        async with http.get("/api/health") as r:
            assert (await r.json())["database"]["status"] == "ok"

    # Nothing half-written: every room has its host's membership (one transaction), and
    # no more rooms exist than creations that may have committed.
    conn = await asyncpg.connect(asyncpg_dsn(own_postgres))
    try:
        rooms = await conn.fetchval("SELECT count(*) FROM rooms")
        orphans = await conn.fetchval(
            "SELECT count(*) FROM rooms r WHERE NOT EXISTS (SELECT 1 FROM room_members m "
            "WHERE m.room_id = r.id AND m.user_id = r.host_id AND m.role = 'host')"
        )
    finally:
        await conn.close()
    assert orphans == 0
    created = seen[("en", 201)] + 1
    assert created <= rooms <= created + seen[("en", 503)]


async def test_socket_events_on_killed_connections_answer_database_unavailable(
    make_server: ServerFactory,
    own_postgres: str,
    sio_client: SioFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Chat over Socket.IO while the database's connections are killed: each ack is a success
    or ``database_unavailable`` (never ``internal_error``), and chat works again afterwards."""
    monkeypatch.setattr(services.rooms.chat, "FLOOD_RATE", "10000/second")
    server = await make_server(database_url=own_postgres)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna_pg_sio")
    room = await create_room(server, anna)
    rec = Recorder(await sio_client(anna.token, url=server.url))
    await join(rec, room)
    codes: Counter = Counter()
    stop = asyncio.Event()

    async def chat() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            ack = await rec.call("chat:send", {"roomId": room.id, "text": f"line {n}"})
            codes["ok" if ack["ok"] else ack["error"]["code"]] += 1

    # Several sends in flight, so a kill meets statements on the wire (with nothing in flight a
    # killed idle connection is only replaced: asyncpg notices before handing it out). Kill
    # until one ack has met it, at least eight times.
    tasks = [asyncio.create_task(chat()) for _ in range(4)]
    for kills in range(1, 61):
        await asyncio.sleep(0.1)
        await terminate_backends(own_postgres)
        if kills >= 8 and codes["database_unavailable"]:
            break
    stop.set()
    await asyncio.gather(*tasks)
    assert set(codes) <= {"ok", "database_unavailable"}, codes
    assert codes["database_unavailable"] > 0, codes
    # Recovered by itself (no restart): the pool has replaced the killed connections.
    for _ in range(3):
        ack = await rec.call("chat:send", {"roomId": room.id, "text": "after"})
        assert ack["ok"] is True, ack
