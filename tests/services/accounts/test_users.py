"""services.accounts.users: the Telegram upsert, language choice, wire shapes, search validation."""

from __future__ import annotations

import pytest

from composition import Server
from models.users import User
from services.accounts.users import (
    TelegramProfile,
    do_set_language,
    do_upsert_telegram_user,
    get_search_users,
    pick_language,
    user_payload,
)
from services.core.errors import ValidationError
from tests.webapp.helpers import in_server


async def _upsert(server: Server, profile: TelegramProfile) -> User:
    return await in_server(server, lambda: do_upsert_telegram_user(profile))


async def test_upsert_creates_once_and_refreshes_the_profile(server: Server) -> None:
    first = await _upsert(
        server,
        TelegramProfile(
            id=11,
            first_name="Vera",
            last_name="P",
            username="Vera_TG",
            language_code="ru",
            photo_url="https://t.me/a.jpg",
        ),
    )
    assert first.telegram_id == 11
    assert first.username == "vera_tg"
    assert first.telegram_username == "Vera_TG"
    second = await _upsert(
        server,
        TelegramProfile(id=11, first_name="Vera2", username="other_tg", is_premium=True),
    )
    assert second.id == first.id
    row = await in_server(server, lambda: User.get(id=first.id))
    assert row.first_name == "Vera2"
    assert row.last_name is None
    assert row.telegram_username == "other_tg"
    assert row.username == "vera_tg"  # the in-app handle stays
    assert row.is_telegram_premium is True
    assert row.photo_url == "https://t.me/a.jpg"  # no photo this time: keep the old one
    assert await in_server(server, lambda: User.filter(telegram_id=11).count()) == 1


async def test_upsert_without_changes_writes_nothing(server: Server) -> None:
    profile = TelegramProfile(id=12, first_name="Same")
    first = await _upsert(server, profile)
    again = await _upsert(server, profile)
    assert again.updated_at == first.updated_at


@pytest.mark.parametrize("handle", ["ab", "has-dash", None, ""])
async def test_upsert_skips_handles_we_cannot_use(server: Server, handle: str | None) -> None:
    user = await _upsert(server, TelegramProfile(id=13, first_name="X", username=handle))
    assert user.username is None


async def test_upsert_gets_a_handle_once_it_is_free(server: Server) -> None:
    await in_server(server, lambda: User.create(username="taken", first_name="Owner"))
    user = await _upsert(server, TelegramProfile(id=14, first_name="X", username="taken"))
    assert user.username is None
    user = await _upsert(server, TelegramProfile(id=14, first_name="X", username="fresh_one"))
    assert user.username == "fresh_one"


@pytest.mark.parametrize(
    ("chosen", "telegram", "expected"),
    [
        (None, None, "en"),
        (None, "ru", "ru"),
        (None, "ru-RU", "ru"),
        (None, "de", "en"),
        ("en", "ru", "en"),
        ("ru", None, "ru"),
    ],
)
def test_pick_language(chosen: str | None, telegram: str | None, expected: str) -> None:
    user = User(language=chosen, telegram_language=telegram)
    assert pick_language(user) == expected
    if chosen is None:
        assert pick_language(None, telegram) == expected


def test_public_payload_hides_private_fields() -> None:
    user = User(id=3, email="a@example.com", telegram_id=99, username="a", first_name="A")
    public = user_payload(user)
    assert not {"email", "telegramId", "language", "createdAt"} & set(public)
    private = user_payload(user, private=True)
    assert private["email"] == "a@example.com"
    assert private["telegramId"] == 99


async def test_set_language_validates(server: Server) -> None:
    user = await _upsert(server, TelegramProfile(id=15, first_name="L"))
    with pytest.raises(ValidationError):
        await in_server(server, lambda: do_set_language(user, "de"))
    await in_server(server, lambda: do_set_language(user, "ru"))
    assert (await in_server(server, lambda: User.get(id=user.id))).language == "ru"


@pytest.mark.parametrize("query", ["", "a", " a ", "@a", "@@", "x" * 65, "ab\x00", "a\nb"])
async def test_search_refuses_bad_queries(server: Server, query: str) -> None:
    user = await _upsert(server, TelegramProfile(id=16, first_name="S"))
    with pytest.raises(ValidationError) as caught:
        await in_server(server, lambda: get_search_users(query, acting_user=user))
    assert caught.value.data["field"] == "query"
