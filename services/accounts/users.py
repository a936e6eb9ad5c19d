"""Users: the Telegram upsert shared by the bot and the Mini App, search, language, wire shapes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from models.users import User
from services.core import text
from services.core.contract import MAX_TELEGRAM_ID
from services.core.errors import N_, NotFound, ValidationError
from services.core.languages import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES

USERNAME_RE = re.compile(r"^[a-z0-9_]{3,32}$")
SEARCH_LIMIT = 20
#: Telegram usernames: 5-32 of these (shorter ones exist for collectible names).
TELEGRAM_USERNAME_RE = re.compile(r"[A-Za-z0-9_]{1,32}")


@dataclass(frozen=True)
class TelegramProfile:
    """The parts of a Telegram user we keep, whether they came from initData or a bot update."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_premium: bool = False
    photo_url: str | None = None


def pick_language(user: User | None, telegram_language: str | None = None) -> str:
    """The user's chosen language, else their Telegram client's if supported, else English."""
    if user is not None and user.language in SUPPORTED_LANGUAGES:
        return user.language
    code = (telegram_language or (user.telegram_language if user else None) or "").lower()
    code = code.split("-", 1)[0]
    return code if code in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE


async def _free_username(candidate: str | None, *, exclude_id: int | None = None) -> str | None:
    if not candidate:
        return None
    name = candidate.lower()
    if not USERNAME_RE.match(name):
        return None
    taken = User.filter(username=name)
    if exclude_id is not None:
        taken = taken.exclude(id=exclude_id)
    return None if await taken.exists() else name


async def do_upsert_telegram_user(profile: TelegramProfile) -> User:
    """Create the user on first contact and refresh the profile later; one row per Telegram id."""
    # Telegram's own data, signed or from the Bot API, is still text from outside: what the
    # columns cannot hold (an id beyond 64 bits, NUL, lone surrogates, a handle longer than a
    # handle) is refused or dropped here, not by the database.
    if isinstance(profile.id, bool) or not 0 < profile.id <= MAX_TELEGRAM_ID:
        raise ValidationError(field="telegramId", reason="must be a 64-bit Telegram id")
    username = profile.username
    if username is not None and not TELEGRAM_USERNAME_RE.fullmatch(username):
        username = None
    language = text.clean(profile.language_code or "", text.Rule(ascii=True, max_length=16))
    photo_url = text.clean(profile.photo_url or "", text.URL)
    user = await User.get_or_none(telegram_id=profile.id)
    fields: dict[str, Any] = {
        "first_name": text.clean(profile.first_name, text.NAME),
        "last_name": text.clean(profile.last_name or "", text.NAME) or None,
        "telegram_username": username,
        "telegram_language": language or None,
        "is_telegram_premium": profile.is_premium,
    }
    if photo_url and len(photo_url) <= 512:
        fields["photo_url"] = photo_url
    if user is None:
        username = await _free_username(username)
        try:
            return await User.create(telegram_id=profile.id, username=username, **fields)
        except IntegrityError:
            # A concurrent first sign-in (bot update and Mini App at once) created the row.
            user = await User.get(telegram_id=profile.id)
    changed = {k: v for k, v in fields.items() if getattr(user, k) != v}
    if user.username is None and username:
        username = await _free_username(username, exclude_id=user.id)
        if username:
            changed["username"] = username
    if changed:
        for key, value in changed.items():
            setattr(user, key, value)
        await user.save(update_fields=[*changed, "updated_at"])
    return user


async def get_user(user_id: object) -> User | None:
    """The user with this id, or None (an id from a token, a session or an event)."""
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        return None
    return await User.get_or_none(id=user_id)


async def access_user(user_id: int) -> User:
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise NotFound("User not found.")
    return user


def _case_variants(text: str) -> set[str]:
    """Spellings to try for a name. SQLite's LIKE (behind ``icontains``) folds case for ASCII only,
    so "вера" would miss "Вера" there; trying the usual capitalisations covers real names until
    a lower-cased search column exists. PostgreSQL folds case itself."""
    return {text, text.lower(), text.upper(), text.capitalize(), text.title()}


async def get_search_users(query: str, *, acting_user: User) -> list[User]:
    """Find people by username or name (substring), or by an exact email address."""
    # Control characters match nobody, and PostgreSQL refuses NUL in a text parameter.
    query = text.check(query, text.LINE, field="query").strip()
    handle = query.lstrip("@")
    if len(handle) < 2:
        # "@a" or "@@" would otherwise match every handle containing "a" (or every handle).
        raise ValidationError(field="query", reason="at least 2 characters")
    if len(query) > 64:
        raise ValidationError(field="query", reason="at most 64 characters")
    condition = Q(username__icontains=handle) | Q(telegram_username__icontains=handle)
    for variant in _case_variants(query):
        condition |= Q(first_name__icontains=variant) | Q(last_name__icontains=variant)
    if "@" in query[1:]:
        condition |= Q(email=query.lower())
    return (
        await User.filter(condition)
        .exclude(id=acting_user.id)
        .order_by("username", "id")
        .limit(SEARCH_LIMIT)
    )


async def do_set_language(user: User, language: str) -> User:
    if language not in SUPPORTED_LANGUAGES:
        raise ValidationError(
            N_("This language is not supported. Choose Russian or English."),
            field="language",
            reason="must be one of ru, en",
        )
    user.language = language
    await user.save(update_fields=["language", "updated_at"])
    return user


def user_payload(user: User, *, private: bool = False) -> dict[str, Any]:
    """The wire shape of a user. ``private`` adds what only the user themself may see."""
    data: dict[str, Any] = {
        "id": user.id,
        "username": user.username,
        "displayName": user.display_name,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "photoUrl": user.photo_url,
        "telegramUsername": user.telegram_username,
        "isTelegramPremium": user.is_telegram_premium,
        "isPremium": user.has_premium(datetime.now(UTC)),
    }
    if private:
        data["email"] = user.email
        data["telegramId"] = user.telegram_id
        data["language"] = pick_language(user)
        # Chosen by the user, or known from Telegram; otherwise only the default.
        data["languageChosen"] = user.language is not None or user.telegram_id is not None
        data["createdAt"] = user.created_at.isoformat() if user.created_at else None
        data["avatarUrl"] = user.photo_url
        data["lastSeenAt"] = user.last_seen_at.isoformat() if user.last_seen_at else None
    return data
