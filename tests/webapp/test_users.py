"""GET /api/users/me and GET /api/users/search, on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from composition import Server
from services.accounts.users import TelegramProfile, do_upsert_telegram_user
from tests.conftest import Account, register
from tests.webapp.helpers import assert_json_error, in_server

PUBLIC_FIELDS = {
    "id",
    "username",
    "displayName",
    "firstName",
    "lastName",
    "photoUrl",
    "telegramUsername",
    "isTelegramPremium",
    "isPremium",
}


@pytest.fixture
async def server(db_server: Server) -> Server:
    """Every test here runs against SQLite and against PostgreSQL."""
    return db_server


@pytest.fixture
async def vera(server: Server) -> dict[str, Any]:
    """A Telegram-only user (made the way the bot and the Mini App make them)."""
    profile = TelegramProfile(
        id=5550001, first_name="Vera", last_name="Petrova", username="verka_tg"
    )
    user = await in_server(server, lambda: do_upsert_telegram_user(profile))
    return {"id": user.id, "telegram_id": profile.id}


async def _search(
    http: aiohttp.ClientSession, account: Account, query: str
) -> list[dict[str, Any]]:
    async with http.get(
        "/api/users/search", params={"query": query}, headers=account.headers
    ) as response:
        body = await response.json()
        assert response.status == 200, body
    return body["users"]


async def test_me_shows_the_private_fields(http: aiohttp.ClientSession, anna: Account) -> None:
    async with http.get("/api/users/me", headers=anna.headers) as response:
        assert response.status == 200
        user = (await response.json())["user"]
    assert user["id"] == anna.id
    assert user["username"] == "anna"
    assert user["email"] == "anna@example.com"
    assert user["telegramId"] is None
    assert user["language"] == "en"
    assert set(user) >= PUBLIC_FIELDS


async def test_search_by_username_or_exact_email(
    http: aiohttp.ClientSession, boris: Account
) -> None:
    await register(http, "anna")
    await register(http, "annabel")
    cases = {
        "anna": {"anna", "annabel"},
        "ANN": {"anna", "annabel"},
        "@anna": {"anna", "annabel"},
        "bel": {"annabel"},
        "anna@example.com": {"anna"},
        " ANNA@Example.com ": {"anna"},
        "annabel@example.com": {"annabel"},
    }
    for query, expected in cases.items():
        found = await _search(http, boris, query)
        assert {user["username"] for user in found} == expected, query


async def test_search_by_telegram_name_and_handle(
    http: aiohttp.ClientSession, boris: Account, vera: dict[str, Any]
) -> None:
    for query in ("Vera", "petrov", "Vera Petrova"[:4], "verka", "@verka_tg"):
        found = await _search(http, boris, query)
        assert [user["id"] for user in found] == [vera["id"]], query


async def test_search_finds_cyrillic_names_in_any_case(
    server: Server, http: aiohttp.ClientSession, boris: Account
) -> None:
    """Most of our users write their names in Cyrillic; SQLite folds case for ASCII only."""
    profile = TelegramProfile(id=5550002, first_name="Светлана", last_name="Иванова")
    user = await in_server(server, lambda: do_upsert_telegram_user(profile))
    for query in ("Светлана", "светлана", "СВЕТЛАНА", "свет", "иванова", "Иван"):
        found = await _search(http, boris, query)
        assert [u["id"] for u in found] == [user.id], query


async def test_partial_email_or_wildcards_find_nobody(
    http: aiohttp.ClientSession, anna: Account, boris: Account
) -> None:
    """An account is found by its email only when the whole address is typed."""
    queries = [
        "anna@example",
        "anna@example.co",
        "nna@example.com",
        "@example.com",
        "example.com",
        "example",
        "%@example.com",
        "_nna@example.com",
        "anna%",
        "%%",
        "__",
        "%a%",
        "*a*",
    ]
    for query in queries:
        assert await _search(http, boris, query) == [], query


async def test_results_never_show_email_or_telegram_id(
    http: aiohttp.ClientSession, anna: Account, boris: Account, vera: dict[str, Any]
) -> None:
    found = await _search(http, boris, "anna@example.com") + await _search(http, boris, "vera")
    assert {user["id"] for user in found} == {anna.id, vera["id"]}
    for user in found:
        assert set(user) == PUBLIC_FIELDS, user
    assert "example.com" not in str(found)
    assert str(vera["telegram_id"]) not in str(found)


async def test_search_leaves_out_the_searcher(
    http: aiohttp.ClientSession, anna: Account, boris: Account
) -> None:
    assert await _search(http, anna, "anna") == []
    assert await _search(http, anna, "anna@example.com") == []
    assert [user["id"] for user in await _search(http, boris, "anna")] == [anna.id]


async def test_bad_search_queries_are_400(http: aiohttp.ClientSession, anna: Account) -> None:
    cases: list[dict[str, str]] = [
        {},
        {"query": ""},
        {"query": "a"},
        {"query": "  a  "},
        {"query": "@a"},
        {"query": "@@"},
        {"query": "x" * 65},
        {"query": "an\x00na"},  # PostgreSQL refuses NUL in text: must not become a 500
    ]
    for params in cases:
        async with http.get("/api/users/search", params=params, headers=anna.headers) as response:
            await assert_json_error(response, 400, "validation_error", field="query")


async def test_search_needs_a_signed_in_user(http: aiohttp.ClientSession, anna: Account) -> None:
    async with http.get("/api/users/search", params={"query": "anna"}) as response:
        await assert_json_error(response, 401, "unauthorized")
