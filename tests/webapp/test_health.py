"""GET /api/health: database and Redis status; the app keeps serving when Redis is down."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from composition import Server
from tests.conftest import REDIS_URL, ServerFactory, register


async def _health(server: Server) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession(base_url=server.url) as http,
        http.get("/api/health") as response,
    ):
        return response.status, await response.json()


async def test_health_without_redis(server: Server) -> None:
    status, body = await _health(server)
    assert status == 200, body
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["redis"] == {"status": "disabled"}
    assert body["bot"]["status"] == "off"


@pytest.mark.redis
async def test_health_with_redis(make_server: ServerFactory) -> None:
    status, body = await _health(await make_server(redis_url=REDIS_URL))
    assert status == 200, body
    assert body["status"] == "ok"
    assert body["redis"]["status"] == "ok"


async def test_redis_down_is_503_and_the_app_still_serves(make_server: ServerFactory) -> None:
    server = await make_server(redis_url="redis://127.0.0.1:1/0")
    status, body = await _health(server)
    assert status == 503, body
    assert body["status"] == "degraded"
    assert body["redis"]["status"] == "down"
    assert body["database"]["status"] == "ok"
    # Sign-up (which counts rate-limit hits, normally in Redis) still works.
    async with aiohttp.ClientSession(base_url=server.url) as http:
        account = await register(http, "anna")
        async with http.get("/api/users/me", headers=account.headers) as response:
            assert response.status == 200
