"""Device tokens (OWASP device cookies): someone else's failed sign-ins for an account cannot lock
its owner's known device out, and guessing stays slow (services/accounts/devices.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from tests.conftest import ServerFactory, register
from tests.webapp.helpers import assert_json_error

OWNER_ADDRESS = "198.51.100.7"


async def _login(
    http: aiohttp.ClientSession,
    email: str,
    password: str = "wrong password",
    *,
    device: str | None = None,
    address: str = "203.0.113.1",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any], aiohttp.ClientResponse]:
    body: dict[str, Any] = {"email": email, "password": password}
    if device is not None:
        body["deviceToken"] = device
    sent = {"X-Forwarded-For": address, **(headers or {})}
    async with http.post("/api/auth/login", json=body, headers=sent) as response:
        answer = await response.json()
        if response.status == 429:
            await assert_json_error(response, 429, "rate_limited")
            assert 1 <= int(response.headers["Retry-After"]) <= 60
            assert 1 <= answer["error"]["details"]["retry_after"] <= 60
        return response.status, answer, response


async def _device_of(http: aiohttp.ClientSession, email: str, password: str) -> str:
    """Sign in from the owner's address; the device token the server answered."""
    status, body, _ = await _login(http, email, password, address=OWNER_ADDRESS)
    assert status == 200, body
    token = body["deviceToken"]
    assert isinstance(token, str), body
    assert token.startswith("d1."), body
    return token


async def test_an_attackers_failures_do_not_lock_the_owners_device_out(
    make_server: ServerFactory,
) -> None:
    server = await make_server(
        auth_rate_ip="50/minute",
        auth_rate_account="3/minute",
        auth_rate_device="3/minute",
        trusted_proxies=["127.0.0.1"],
    )
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
        device = await _device_of(http, anna.email, anna.password)

        # Guesses from many addresses without the device token: slowed down after 2 more
        # (the owner's own untrusted sign-in counted too), whatever address they come from.
        statuses = [(await _login(http, anna.email, address=f"203.0.113.{i}"))[0] for i in range(8)]
        assert statuses == [401, 401] + [429] * 6
        # Even the right password is refused to an untrusted client now.
        assert (await _login(http, anna.email, anna.password, address="203.0.113.99"))[0] == 429

        # The owner's device still signs in, from its usual address or another one.
        status, body, _ = await _login(
            http, anna.email, anna.password, device=device, address=OWNER_ADDRESS
        )
        assert status == 200, body
        assert body["user"]["id"] == anna.id
        renewed = body["deviceToken"]
        assert renewed != device  # a fresh nonce: a fresh budget
        status, body, _ = await _login(
            http, anna.email.upper(), anna.password, device=renewed, address="192.0.2.5"
        )
        assert status == 200, body


async def test_the_device_budget_still_limits_guessing_and_locks_out_only_that_device(
    make_server: ServerFactory,
) -> None:
    server = await make_server(
        auth_rate_ip="50/minute",
        auth_rate_account="5/minute",
        auth_rate_device="3/2seconds",
        trusted_proxies=["127.0.0.1"],
    )
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
        stolen = await _device_of(http, anna.email, anna.password)
        kept = await _device_of(http, anna.email, anna.password)

        # Someone holding one device token of the account guesses with it: 3 tries, then 429
        # (a message about this device), even for the right password.
        guesses = [(await _login(http, anna.email, device=stolen))[0] for _ in range(3)]
        assert guesses == [401, 401, 401]
        status, body, _ = await _login(http, anna.email, anna.password, device=stolen)
        assert status == 429
        assert "device" in body["error"]["message"]

        # Only that device is locked out: the account's untrusted budget was not touched (2 of
        # 5 used by the two sign-ins above), and another device of the owner signs in.
        assert (await _login(http, anna.email, anna.password, device=kept))[0] == 200
        assert (await _login(http, anna.email, anna.password))[0] == 200

        # After the device's window, it may try again.
        await asyncio.sleep(2.1)
        assert (await _login(http, anna.email, anna.password, device=stolen))[0] == 200


async def test_a_device_token_of_another_account_or_a_forged_one_is_useless(
    make_server: ServerFactory,
) -> None:
    server = await make_server(
        auth_rate_ip="50/minute",
        auth_rate_account="3/minute",
        auth_rate_device="50/minute",
        trusted_proxies=["127.0.0.1"],
    )
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
        boris = await register(http, "boris")
        borises = await _device_of(http, boris.email, boris.password)
        head, _, signature = borises.rpartition(".")
        uid, nonce, issued = head.split(".")[1:]
        forged = [
            # Boris's token names Boris: for Anna it is an untrusted client's.
            borises,
            # Anna's id in Boris's token: the signature no longer matches.
            f"d1.{anna.id}.{nonce}.{issued}.{signature}",
            # A token signed with another key.
            f"d1.{anna.id}.{nonce}.{issued}.{'A' * 43}",
            "garbage",
        ]
        statuses = [(await _login(http, anna.email, device=token))[0] for token in forged]
        # All four counted against Anna's untrusted budget (3): the fourth is already refused.
        assert statuses == [401, 401, 401, 429]
        for token in forged:
            assert (await _login(http, anna.email, anna.password, device=token))[0] == 429
        # Boris's token still works for Boris.
        assert (await _login(http, boris.email, boris.password, device=borises))[0] == 200
        assert uid == str(boris.id)


async def test_the_device_cookie_and_header_are_read_back(make_server: ServerFactory) -> None:
    """Browsers keep the HttpOnly cookie on /api/auth; the Mini App may send the header."""
    server = await make_server(
        public_url="http://127.0.0.1:8080",  # plain HTTP here: the cookie is not Secure
        auth_rate_ip="50/minute",
        auth_rate_account="2/minute",
        trusted_proxies=["127.0.0.1"],
    )
    jar = aiohttp.CookieJar(unsafe=True)  # the server is an IP address
    async with (
        aiohttp.ClientSession(base_url=server.url, cookie_jar=jar) as browser,
        aiohttp.ClientSession(base_url=server.url) as attacker,
    ):
        anna = await register(attacker, "anna")
        status, body, response = await _login(browser, anna.email, anna.password)
        assert status == 200, body
        cookie = response.cookies["vmeste_device"]
        assert cookie.value == body["deviceToken"]
        assert cookie["path"] == "/api/auth"
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
        assert not cookie["secure"]
        assert int(cookie["max-age"]) == server.settings.auth_device_ttl

        # The attacker exhausts the untrusted budget (1 left after the owner's sign-in).
        assert [(await _login(attacker, anna.email))[0] for _ in range(3)] == [401, 429, 429]

        # The browser sends its cookie on its own.
        assert (await _login(browser, anna.email, anna.password))[0] == 200
        # A client without cookies sends the header.
        status, _, _ = await _login(
            attacker,
            anna.email,
            anna.password,
            headers={"X-Device-Token": body["deviceToken"]},
        )
        assert status == 200


async def test_the_device_cookie_is_secure_behind_https(make_server: ServerFactory) -> None:
    server = await make_server()  # the test settings' PUBLIC_URL is https://vmeste.test
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
        status, body, response = await _login(http, anna.email, anna.password)
        assert status == 200, body
        cookie = response.cookies["vmeste_device"]
        assert cookie["secure"] is True
        assert cookie["httponly"] is True
