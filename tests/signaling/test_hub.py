"""Socket.IO: token required on connect, acks carry results or domain errors, clock sync."""

from __future__ import annotations

import time

import pytest

from tests.conftest import Account, SioFactory, SioRefused


async def test_connect_without_token_is_refused(sio_client: SioFactory) -> None:
    with pytest.raises(SioRefused) as info:
        await sio_client(None)
    assert info.value.data["data"]["code"] == "unauthorized"
    assert "token is required" in info.value.data["message"]


async def test_connect_with_bad_token_is_refused(sio_client: SioFactory) -> None:
    with pytest.raises(SioRefused) as info:
        await sio_client("not-a-jwt")
    assert info.value.data["data"]["code"] == "unauthorized"


async def test_time_sync_answers_with_server_clock(sio_client: SioFactory, anna: Account) -> None:
    client = await sio_client(anna.token)
    sent = time.time() * 1000
    ack = await client.call("time:sync", {"clientTime": sent}, timeout=5)
    received = time.time() * 1000
    assert ack["ok"] is True
    assert ack["clientTime"] == sent
    # Same machine: the server clock must fall inside the round trip.
    assert sent - 5 <= ack["serverTime"] <= received + 5
    assert ack["receivedAt"] <= ack["serverTime"]


async def test_time_sync_ignores_garbage_client_time(sio_client: SioFactory, anna: Account) -> None:
    client = await sio_client(anna.token)
    ack = await client.call("time:sync", "nonsense", timeout=5)
    assert ack["ok"] is True
    assert ack["clientTime"] is None


async def test_published_event_reaches_the_users_sockets(
    server, sio_client: SioFactory, anna: Account, boris: Account
) -> None:
    from services.events import Event

    anna_client = await sio_client(anna.token)
    boris_client = await sio_client(boris.token)
    got_anna: list[dict] = []
    got_boris: list[dict] = []
    anna_client.on("notice", got_anna.append)
    boris_client.on("notice", got_boris.append)
    await server.run(
        server.services.events.publish(Event("notice", {"text": "hi"}, scope=f"user:{anna.id}"))
    )
    await _eventually(lambda: got_anna == [{"text": "hi"}])
    assert got_boris == []


async def _eventually(check, within: float = 3.0) -> None:
    import asyncio

    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
