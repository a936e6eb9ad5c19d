"""Sessions end on time (issue #9, "Connections"): a socket is disconnected when its token
expires (after ``session:expired``), ``POST /api/auth/refresh`` gives a working token, and
``POST /api/auth/logout-all`` makes every earlier token fail (HTTP 401, Socket.IO refused)
and disconnects that user's live sockets, on every server sharing Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import jwt
import pytest

from composition import Server
from services.accounts.tokens import issue_access_token
from signaling.hub import close_sio
from tests.conftest import REDIS_URL, Account, ServerFactory, SioFactory, SioRefused, register
from tests.signaling.test_rooms import Recorder, create_room, eventually, join
from tests.signaling.test_rooms_redis import subscribed
from webapp.keys import SIO


def short_token(server: Server, account: Account, *, lives: float) -> str:
    """A token of ``account`` expiring in about ``lives`` seconds (``exp`` is whole seconds:
    between ``lives - 1`` and ``lives`` from now)."""
    assert server.services is not None
    return issue_access_token(
        server.services.jwt_key, account.id, ttl=60, now=time.time() - 60 + lives
    )


def record_disconnects(rec: Recorder) -> list[Any]:
    reasons: list[Any] = []

    async def on_disconnect(reason: Any = None) -> None:
        reasons.append(reason)

    rec.client.on("disconnect", on_disconnect)
    return reasons


async def test_socket_is_disconnected_when_its_token_expires(
    server: Server,
    http: aiohttp.ClientSession,
    sio_client: SioFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    anna = await register(http, "anna_expiry")
    boris = await register(http, "boris_expiry")
    room = await create_room(server, anna)
    token = short_token(server, boris, lives=2.0)
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    rec = Recorder(await sio_client(token))
    reasons = record_disconnects(rec)
    await join(rec, room)

    await eventually(lambda: not rec.client.connected, within=4)
    ended_at = time.time()
    assert rec.of("session:expired") == [{"reason": "expired"}]
    assert reasons == [rec.client.reason.SERVER_DISCONNECT]
    # At the token's exp, not before it (nor much later).
    assert exp - 0.05 <= ended_at <= exp + 1.0, (exp, ended_at)

    # The expired token no longer connects; a fresh one does, and joins again: still a member
    # (the disconnect only started the presence grace period).
    with pytest.raises(SioRefused):
        await sio_client(token)
    again = Recorder(await sio_client(boris.token))
    snapshot = await join(again, room)
    assert boris.id in {p["user"]["id"] for p in snapshot["participants"]}
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []


async def test_a_socket_that_disconnects_first_leaves_no_timer(
    server: Server, http: aiohttp.ClientSession, sio_client: SioFactory
) -> None:
    anna = await register(http, "anna_no_timer")
    client = await sio_client(anna.token)
    hub_expiry = _hub(server)._expiry
    await eventually(lambda: len(hub_expiry) == 1)
    await client.disconnect()
    await eventually(lambda: len(hub_expiry) == 0)


def _hub(server: Server) -> Any:
    """The Hub behind the server's Socket.IO server (its connect handler's owner)."""
    sio = server.app[SIO]
    return sio.handlers["/"]["connect"].__self__


async def test_refresh_gives_a_working_token(
    server: Server, http: aiohttp.ClientSession, sio_client: SioFactory
) -> None:
    anna = await register(http, "anna_refresh")
    old = short_token(server, anna, lives=30)
    async with http.post("/api/auth/refresh", headers={"Authorization": f"Bearer {old}"}) as r:
        assert r.status == 200, await r.text()
        body = await r.json()
    fresh = body["accessToken"]
    assert body["user"]["id"] == anna.id
    claims = jwt.decode(fresh, options={"verify_signature": False})
    assert claims["sub"] == str(anna.id)
    assert claims["exp"] > jwt.decode(old, options={"verify_signature": False})["exp"] + 60
    async with http.get("/api/users/me", headers={"Authorization": f"Bearer {fresh}"}) as r:
        assert r.status == 200
    assert (await sio_client(fresh)).connected

    for headers in ({}, {"Authorization": "Bearer nonsense"}):
        async with http.post("/api/auth/refresh", headers=headers) as r:
            assert r.status == 401


async def test_logout_all_refuses_old_tokens_and_disconnects_live_sockets(
    server: Server, http: aiohttp.ClientSession, sio_client: SioFactory
) -> None:
    anna = await register(http, "anna_logout")
    boris = await register(http, "boris_logout")
    anna_sockets = [Recorder(await sio_client(anna.token)) for _ in range(2)]
    boris_socket = Recorder(await sio_client(boris.token))
    # A second token of anna's (another device), issued before she signs out.
    async with http.post(
        "/api/auth/login", json={"email": anna.email, "password": anna.password}
    ) as r:
        other_device = (await r.json())["accessToken"]

    async with http.post("/api/auth/logout-all", headers=anna.headers) as r:
        assert r.status == 200, await r.text()
        assert await r.json() == {"ok": True}

    for rec in anna_sockets:
        await eventually(lambda rec=rec: not rec.client.connected)
        assert rec.of("session:revoked") == [{"reason": "revoked"}]
    assert boris_socket.client.connected
    assert boris_socket.of("session:revoked") == []

    for token in (anna.token, other_device):
        async with http.get("/api/users/me", headers={"Authorization": f"Bearer {token}"}) as r:
            assert r.status == 401
            assert (await r.json())["error"]["code"] == "unauthorized"
        async with http.post(
            "/api/auth/refresh", headers={"Authorization": f"Bearer {token}"}
        ) as r:
            assert r.status == 401
        with pytest.raises(SioRefused) as refused:
            await sio_client(token)
        assert refused.value.data["data"]["code"] == "unauthorized"
        assert "signed out on all devices" in refused.value.data["message"]

    # Signing in again works, on HTTP and Socket.IO.
    async with http.post(
        "/api/auth/login", json={"email": anna.email, "password": anna.password}
    ) as r:
        fresh = (await r.json())["accessToken"]
    async with http.get("/api/users/me", headers={"Authorization": f"Bearer {fresh}"}) as r:
        assert r.status == 200
    assert (await sio_client(fresh)).connected
    async with http.get("/api/users/me", headers=boris.headers) as r:
        assert r.status == 200


@pytest.fixture
async def two_instances(make_server: ServerFactory) -> AsyncIterator[tuple[Server, Server]]:
    first = await make_server(redis_url=REDIS_URL)
    second = await make_server(redis_url=REDIS_URL)
    yield first, second
    for server in (first, second):
        await close_sio(server.app[SIO])


@pytest.mark.redis
async def test_logout_all_disconnects_sockets_on_every_server(
    two_instances: tuple[Server, Server], sio_client: SioFactory
) -> None:
    first, second = two_instances
    async with aiohttp.ClientSession(base_url=first.url) as http:
        anna = await register(http, "anna_logout_redis")
        boris = await register(http, "boris_logout_redis")
    on_first = Recorder(await sio_client(anna.token, url=first.url))
    on_second = Recorder(await sio_client(anna.token, url=second.url))
    boris_on_second = Recorder(await sio_client(boris.token, url=second.url))
    for server in (first, second):
        await subscribed(server)

    async with (
        aiohttp.ClientSession(base_url=first.url) as http,
        http.post("/api/auth/logout-all", headers=anna.headers) as r,
    ):
        assert r.status == 200

    await eventually(lambda: not on_first.client.connected)
    await eventually(lambda: not on_second.client.connected)
    assert on_second.of("session:revoked") == [{"reason": "revoked"}]
    await asyncio.sleep(0.2)
    assert boris_on_second.client.connected

    # The other server refuses the old token too (the version is in the shared database).
    async with (
        aiohttp.ClientSession(base_url=second.url) as http,
        http.get("/api/users/me", headers=anna.headers) as r,
    ):
        assert r.status == 401
    with pytest.raises(SioRefused):
        await sio_client(anna.token, url=second.url)
