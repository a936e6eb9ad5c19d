"""Two app processes' worth of servers on one Redis: an emit from one reaches the other's client."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
import socketio

from services.core.events import Event
from tests.conftest import REDIS_URL, register

pytestmark = pytest.mark.redis


@pytest.mark.undeclared_events("notice")
async def test_emit_on_one_instance_reaches_client_of_the_other(make_server) -> None:
    first = await make_server(redis_url=REDIS_URL)
    second = await make_server(redis_url=REDIS_URL)
    assert first.port != second.port
    async with aiohttp.ClientSession(base_url=first.url) as http:
        anna = await register(http, "anna_redis")
    received: list[dict] = []
    client = socketio.AsyncClient(reconnection=False)
    client.on("notice", received.append)
    await client.connect(second.url, transports=["websocket"], auth={"token": anna.token})
    try:
        # The pub/sub subscription of the first instance's manager starts lazily; retry the
        # publish until the second instance delivers it.
        deadline = time.monotonic() + 5
        while not received:
            assert time.monotonic() < deadline, "emit never crossed Redis"
            await first.run(
                first.services.events.publish(
                    Event("notice", {"from": "first"}, scope=f"user:{anna.id}")
                )
            )
            await asyncio.sleep(0.2)
        assert received[0] == {"from": "first"}
    finally:
        await client.disconnect()


async def test_health_reports_redis(make_server) -> None:
    server = await make_server(redis_url=REDIS_URL)
    async with (
        aiohttp.ClientSession(base_url=server.url) as http,
        http.get("/api/health") as response,
    ):
        body = await response.json()
    assert response.status == 200
    assert body["redis"]["status"] == "ok"
