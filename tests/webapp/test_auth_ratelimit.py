"""Sign-in and sign-up are limited per client address and per account (429 + Retry-After)."""

from __future__ import annotations

import asyncio
import uuid

import aiohttp
import pytest

from tests.conftest import REDIS_URL, ServerFactory, register
from tests.webapp.helpers import assert_json_error, init_data, telegram_user


async def _login(http: aiohttp.ClientSession, email: str, password: str = "wrong password") -> int:
    async with http.post("/api/auth/login", json={"email": email, "password": password}) as r:
        if r.status == 429:
            await _assert_rate_limited(r)
        return r.status


async def _assert_rate_limited(response: aiohttp.ClientResponse, window: int = 60) -> None:
    await assert_json_error(response, 429, "rate_limited")
    retry_after = response.headers["Retry-After"]
    assert retry_after.isdigit(), retry_after
    assert 1 <= int(retry_after) <= window


async def test_wrong_passwords_for_one_account_are_limited_below_the_address_limit(
    make_server: ServerFactory,
) -> None:
    server = await make_server(auth_rate_ip="50/minute", auth_rate_account="3/minute")
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
        assert [await _login(http, anna.email) for _ in range(3)] == [401, 401, 401]
        # Over the account's limit even with the right password, and in any letter case.
        assert await _login(http, anna.email, anna.password) == 429
        assert await _login(http, anna.email.upper(), anna.password) == 429
        # Another account from the same address is not affected.
        boris = await register(http, "boris")
        assert await _login(http, boris.email, boris.password) == 200


async def test_logins_from_one_address_are_limited_across_accounts(
    make_server: ServerFactory,
) -> None:
    server = await make_server(auth_rate_ip="3/minute", auth_rate_account="50/minute")
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
        statuses = [await _login(http, f"user{i}@example.com") for i in range(3)]
        assert statuses == [401, 401, 401]
        assert await _login(http, anna.email, anna.password) == 429


async def test_sign_ups_are_limited_per_address(make_server: ServerFactory) -> None:
    server = await make_server(auth_rate_ip="2/minute")
    async with aiohttp.ClientSession(base_url=server.url) as http:
        await register(http, "first")
        await register(http, "second")
        async with http.post(
            "/api/auth/register",
            json={"email": "third@example.com", "username": "third", "password": "x" * 12},
        ) as response:
            await _assert_rate_limited(response)
        # Login has its own budget.
        assert await _login(http, "first@example.com", "correct horse") == 200


async def test_sign_ups_are_limited_per_email(make_server: ServerFactory) -> None:
    """Probing one address (409 "email taken") counts against that address."""
    server = await make_server(auth_rate_ip="50/minute", auth_rate_account="2/minute")
    async with aiohttp.ClientSession(base_url=server.url) as http:
        await register(http, "anna")
        body = {"email": "anna@example.com", "username": "other", "password": "x" * 12}
        async with http.post("/api/auth/register", json=body) as response:
            await assert_json_error(response, 409, "conflict", field="email")
        async with http.post("/api/auth/register", json=body) as response:
            await _assert_rate_limited(response)


async def test_telegram_sign_in_is_limited_per_address(
    make_telegram_server: ServerFactory,
) -> None:
    server = await make_telegram_server(auth_rate_telegram="2/minute")
    async with aiohttp.ClientSession(base_url=server.url) as http:
        for _ in range(2):
            async with http.post(
                "/api/auth/telegram", json={"initData": init_data(telegram_user())}
            ) as response:
                assert response.status == 200, await response.text()
        async with http.post(
            "/api/auth/telegram", json={"initData": init_data(telegram_user())}
        ) as response:
            await _assert_rate_limited(response)


async def test_concurrent_attempts_do_not_slip_past_the_limit(
    make_server: ServerFactory,
) -> None:
    server = await make_server(auth_rate_ip="100/minute", auth_rate_account="5/minute")
    async with aiohttp.ClientSession(base_url=server.url) as http:
        statuses = await asyncio.gather(*(_login(http, "x@example.com") for _ in range(30)))
    assert sorted(statuses) == [401] * 5 + [429] * 25


@pytest.mark.redis
async def test_limits_are_shared_through_redis(make_server: ServerFactory) -> None:
    """Two processes behind one Redis share one budget (here: two servers in one process)."""
    first = await make_server(redis_url=REDIS_URL, auth_rate_account="3/minute")
    second = await make_server(redis_url=REDIS_URL, auth_rate_account="3/minute")
    email = f"{uuid.uuid4().hex}@example.com"  # Redis outlives the test: a fresh account key
    async with (
        aiohttp.ClientSession(base_url=first.url) as one,
        aiohttp.ClientSession(base_url=second.url) as two,
    ):
        assert [await _login(one, email), await _login(two, email)] == [401, 401]
        assert await _login(one, email) == 401
        assert await _login(two, email) == 429


async def test_limits_still_apply_when_redis_is_down(make_server: ServerFactory) -> None:
    """Redis down: sign-in keeps working (no 500) and is limited in the process instead."""
    server = await make_server(redis_url="redis://127.0.0.1:1/0", auth_rate_account="2/minute")
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
        assert await _login(http, anna.email, anna.password) == 200
        assert await _login(http, anna.email) == 401
        assert await _login(http, anna.email, anna.password) == 429
