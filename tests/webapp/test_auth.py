"""POST /api/auth/register, /login and /telegram over real HTTP."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest

from composition import Server
from models.users import User
from tests.conftest import Account, ServerFactory, register
from tests.webapp.helpers import (
    assert_json_error,
    bearer,
    in_server,
    init_data,
    telegram_user,
)


async def _post(http: aiohttp.ClientSession, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    async with http.post(path, json=body) as response:
        return response.status, await response.json()


async def _me(http: aiohttp.ClientSession, token: str) -> dict[str, Any]:
    async with http.get("/api/users/me", headers=bearer(token)) as response:
        assert response.status == 200, await response.text()
        return (await response.json())["user"]


# --- register -------------------------------------------------------------------------------


async def test_register_returns_a_session_for_the_new_user(
    server: Server, http: aiohttp.ClientSession
) -> None:
    status, body = await _post(
        http,
        "/api/auth/register",
        {"email": " Anna@Example.COM ", "username": "@Anna_K", "password": "correct horse"},
    )
    assert status == 201, body
    assert set(body) == {"accessToken", "user"}
    user = body["user"]
    assert user["email"] == "anna@example.com"
    assert user["username"] == "anna_k"
    assert user["telegramId"] is None
    assert "password" not in str(body).lower()
    assert await _me(http, body["accessToken"]) == user
    row = await in_server(server, lambda: User.get(id=user["id"]))
    assert row.password_hash is not None
    assert row.password_hash.startswith("$argon2id$")


async def test_registered_user_can_log_in_with_any_email_case(
    http: aiohttp.ClientSession, anna: Account
) -> None:
    status, body = await _post(
        http, "/api/auth/login", {"email": "ANNA@example.com", "password": anna.password}
    )
    assert status == 200, body
    assert body["user"]["id"] == anna.id
    assert (await _me(http, body["accessToken"]))["id"] == anna.id


@pytest.mark.parametrize(
    ("email", "username", "field"),
    [
        ("anna@example.com", "someone_else", "email"),
        ("ANNA@EXAMPLE.COM", "someone_else", "email"),
        ("other@example.com", "anna", "username"),
        ("other@example.com", "ANNA", "username"),
    ],
)
async def test_duplicate_email_or_username_is_409_naming_the_field(
    http: aiohttp.ClientSession, anna: Account, email: str, username: str, field: str
) -> None:
    async with http.post(
        "/api/auth/register", json={"email": email, "username": username, "password": "x" * 12}
    ) as response:
        await assert_json_error(response, 409, "conflict", field=field)


async def test_concurrent_sign_ups_with_one_email_make_one_account(db_server: Server) -> None:
    async with aiohttp.ClientSession(base_url=db_server.url) as http:
        results = await asyncio.gather(
            *(
                _post(
                    http,
                    "/api/auth/register",
                    {"email": "same@example.com", "username": f"user{i}", "password": "x" * 12},
                )
                for i in range(5)
            )
        )
    statuses = sorted(status for status, _ in results)
    assert statuses == [201, 409, 409, 409, 409], results
    assert {body["error"]["details"]["field"] for status, body in results if status == 409} == {
        "email"
    }
    assert await in_server(db_server, lambda: User.filter(email="same@example.com").count()) == 1


@pytest.mark.parametrize(
    ("password", "status"), [("", 400), ("1234567", 400), ("12345678", 201), ("x" * 257, 400)]
)
async def test_password_length_is_checked(
    http: aiohttp.ClientSession, password: str, status: int
) -> None:
    async with http.post(
        "/api/auth/register",
        json={"email": "p@example.com", "username": "pw_user", "password": password},
    ) as response:
        if status == 400:
            await assert_json_error(response, 400, "validation_error", field="password")
        else:
            assert response.status == status, await response.text()


@pytest.mark.parametrize(
    ("email", "username", "field"),
    [
        ("not-an-email", "valid_name", "email"),
        ("a@b", "valid_name", "email"),
        ("a\x00b@example.com", "valid_name", "email"),
        ("ok@example.com", "ab", "username"),
        ("ok@example.com", "has space", "username"),
        ("ok@example.com", "кириллица", "username"),
    ],
)
async def test_bad_email_or_username_is_400_naming_the_field(
    http: aiohttp.ClientSession, email: str, username: str, field: str
) -> None:
    async with http.post(
        "/api/auth/register", json={"email": email, "username": username, "password": "x" * 12}
    ) as response:
        await assert_json_error(response, 400, "validation_error", field=field)


# --- login ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "credentials",
    [
        {"email": "anna@example.com", "password": "wrong password"},
        {"email": "nobody@example.com", "password": "correct horse"},
        {"email": "not an email", "password": "correct horse"},
        {"email": "a\x00@example.com", "password": "correct horse"},
    ],
    ids=["wrong-password", "unknown-email", "malformed-email", "nul-in-email"],
)
async def test_failed_logins_all_look_the_same(
    http: aiohttp.ClientSession, anna: Account, credentials: dict[str, str]
) -> None:
    async with http.post("/api/auth/login", json=credentials) as response:
        error = await assert_json_error(response, 401, "unauthorized")
    assert error["message"] == "Wrong email or password."
    assert "details" not in error


async def test_telegram_only_account_has_no_password_to_log_in_with(
    telegram_server: Server,
) -> None:
    async with aiohttp.ClientSession(base_url=telegram_server.url) as http:
        status, body = await _post(
            http, "/api/auth/telegram", {"initData": init_data(telegram_user())}
        )
        assert status == 200, body
        # Give the Telegram account an email but no password, as a linked account would have.
        await in_server(
            telegram_server,
            lambda: User.filter(id=body["user"]["id"]).update(email="vera@example.com"),
        )
        async with http.post(
            "/api/auth/login", json={"email": "vera@example.com", "password": ""}
        ) as response:
            await assert_json_error(response, 401, "unauthorized")


async def test_hashing_runs_off_the_event_loop(make_server: ServerFactory) -> None:
    """While a login hashes with the real (~100 ms) parameters, the loop keeps ticking."""
    server = await make_server(password_hash_profile="default")
    async with aiohttp.ClientSession(base_url=server.url) as http:
        account = await register(http, "slow_hash")
        # The first login also makes the dummy hash for unknown emails; measure a later one.
        await _post(http, "/api/auth/login", {"email": account.email, "password": "warm-up!"})
        loop = asyncio.get_running_loop()
        gaps: list[float] = []
        done = asyncio.Event()

        async def ticker() -> None:
            last = loop.time()
            while not done.is_set():
                await asyncio.sleep(0.001)
                now = loop.time()
                gaps.append(now - last)
                last = now

        tick = asyncio.create_task(ticker())
        started = time.perf_counter()
        status, body = await _post(
            http, "/api/auth/login", {"email": account.email, "password": account.password}
        )
        took = time.perf_counter() - started
        done.set()
        await tick
    assert status == 200, body
    # Hashing on the loop would stall it for about the whole request.
    assert max(gaps) < took / 2, (max(gaps), took)


async def test_unknown_email_costs_as_much_as_a_wrong_password(
    make_server: ServerFactory,
) -> None:
    """Timing must not reveal which emails have accounts (default argon2 parameters)."""
    server = await make_server(password_hash_profile="default")
    async with aiohttp.ClientSession(base_url=server.url) as http:
        account = await register(http, "timing")

        async def login_time(email: str) -> float:
            started = time.perf_counter()
            async with http.post(
                "/api/auth/login", json={"email": email, "password": "wrong password"}
            ) as response:
                assert response.status == 401
            return time.perf_counter() - started

        # Interleaved, unknown email first (the first miss used to cost two hashes). At least
        # three rounds; more (up to ten) while the fastest of each are apart: with the suite in
        # parallel a round can be slowed 2-3x by the neighbours, and the fastest runs converge
        # on the real costs.
        unknown: list[float] = []
        known: list[float] = []
        for _ in range(10):
            unknown.append(await login_time("nobody@example.com"))
            known.append(await login_time(account.email))
            if len(known) >= 3 and 0.6 < min(unknown) / min(known) < 1.6:
                break
    fastest_unknown, fastest_known = min(unknown), min(known)
    # Skipping the hash would make the miss ~100x faster; a second hash would double it.
    assert 0.6 < fastest_unknown / fastest_known < 1.6, (unknown, known)


# --- Telegram -------------------------------------------------------------------------------


async def test_telegram_sign_in_creates_then_updates_one_user(telegram_server: Server) -> None:
    async with aiohttp.ClientSession(base_url=telegram_server.url) as http:
        first = telegram_user(
            42, first_name="Vera", last_name="P", username="vera_tg", photo_url="https://t.me/a.jpg"
        )
        status, body = await _post(http, "/api/auth/telegram", {"initData": init_data(first)})
        assert status == 200, body
        user = body["user"]
        assert user["telegramId"] == 42
        assert user["firstName"] == "Vera"
        assert user["lastName"] == "P"
        assert user["displayName"] == "Vera P"
        assert user["username"] == "vera_tg"
        assert user["telegramUsername"] == "vera_tg"
        assert user["photoUrl"] == "https://t.me/a.jpg"
        assert user["language"] == "ru"
        assert user["email"] is None
        assert (await _me(http, body["accessToken"]))["id"] == user["id"]

        second = telegram_user(
            42,
            first_name="Верa",
            username="vera_new",
            photo_url="https://t.me/b.jpg",
            language_code="en",
        )
        status, body = await _post(http, "/api/auth/telegram", {"initData": init_data(second)})
        assert status == 200, body
        again = await _me(http, body["accessToken"])
    assert again["id"] == user["id"]
    assert again["firstName"] == "Верa"
    assert again["lastName"] is None
    assert again["telegramUsername"] == "vera_new"
    assert again["photoUrl"] == "https://t.me/b.jpg"
    assert again["username"] == "vera_tg"  # the in-app handle, once set, stays
    assert again["language"] == "en"
    assert await in_server(telegram_server, lambda: User.filter(telegram_id=42).count()) == 1


async def test_telegram_sign_in_does_not_take_a_registered_username(
    telegram_server: Server,
) -> None:
    async with aiohttp.ClientSession(base_url=telegram_server.url) as http:
        anna = await register(http, "anna")
        status, body = await _post(
            http, "/api/auth/telegram", {"initData": init_data(telegram_user(7, username="Anna"))}
        )
    assert status == 200, body
    assert body["user"]["id"] != anna.id
    assert body["user"]["username"] is None
    assert body["user"]["telegramUsername"] == "Anna"


@pytest.mark.parametrize(
    ("age", "reason"), [(120, "expired"), (-3600, "from_future")], ids=["stale", "future"]
)
async def test_telegram_sign_in_refuses_stale_or_future_init_data(
    make_telegram_server: ServerFactory, age: int, reason: str
) -> None:
    server = await make_telegram_server(init_data_max_age=60)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        fresh = init_data(telegram_user(), auth_date=int(time.time()) - 30)
        async with http.post("/api/auth/telegram", json={"initData": fresh}) as response:
            assert response.status == 200, await response.text()
        old = init_data(telegram_user(), auth_date=int(time.time()) - age)
        async with http.post("/api/auth/telegram", json={"initData": old}) as response:
            error = await assert_json_error(response, 401, "unauthorized")
    assert error["details"] == {"reason": reason}


@pytest.mark.parametrize(
    ("make_init_data", "reason"),
    [
        (lambda: init_data(telegram_user(), bot_token="999:OTHER-bot"), "bad_signature"),
        (lambda: init_data(telegram_user()).replace("Vera", "Eve"), "bad_signature"),
        (lambda: init_data(telegram_user()).rsplit("&hash=", 1)[0], "missing_hash"),
        (lambda: "", "malformed"),
        (lambda: "x" * 5000, "malformed"),
        (lambda: init_data({"id": "42", "first_name": "Vera"}), "bad_user"),
    ],
    ids=["other-bot", "tampered", "no-hash", "empty", "huge", "string-id"],
)
async def test_telegram_sign_in_refuses_bad_init_data(
    telegram_server: Server, make_init_data: Any, reason: str
) -> None:
    async with (
        aiohttp.ClientSession(base_url=telegram_server.url) as http,
        http.post("/api/auth/telegram", json={"initData": make_init_data()}) as response,
    ):
        error = await assert_json_error(response, 401, "unauthorized")
    assert error["details"] == {"reason": reason}
    assert await in_server(telegram_server, lambda: User.all().count()) == 0


async def test_telegram_sign_in_without_a_bot_token_is_refused(
    http: aiohttp.ClientSession,
) -> None:
    async with http.post(
        "/api/auth/telegram", json={"initData": init_data(telegram_user())}
    ) as response:
        await assert_json_error(response, 401, "unauthorized")
