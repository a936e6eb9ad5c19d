"""Per-address limits see the real client behind a trusted proxy, and only behind one."""

from __future__ import annotations

import aiohttp


async def _login(http: aiohttp.ClientSession, forwarded_for: str) -> int:
    async with http.post(
        "/api/auth/login",
        json={"email": "nobody@example.com", "password": "whatever1"},
        headers={"X-Forwarded-For": forwarded_for},
    ) as response:
        return response.status


async def test_forwarded_for_is_trusted_only_from_trusted_proxies(make_server) -> None:
    server = await make_server(auth_rate_ip="2/minute", trusted_proxies=["127.0.0.1"])
    async with aiohttp.ClientSession(base_url=server.url) as http:
        # Two different clients behind the proxy each get their own budget.
        assert [await _login(http, "203.0.113.1") for _ in range(2)] == [401, 401]
        assert await _login(http, "203.0.113.1") == 429
        assert await _login(http, "203.0.113.2") == 401
        # A client cannot dodge its limit by prepending a fake hop: the last untrusted hop counts.
        assert await _login(http, "198.51.100.7, 203.0.113.1") == 429


async def test_forwarded_for_is_ignored_without_trusted_proxies(make_server) -> None:
    server = await make_server(auth_rate_ip="2/minute")
    async with aiohttp.ClientSession(base_url=server.url) as http:
        assert [await _login(http, f"203.0.113.{i}") for i in range(3)] == [401, 401, 429]
