"""Accounts on the wire: sign-up and sign-in bodies, the session, users (public and one's own).

Filled by ``services.accounts.users.user_payload`` (``private=True`` gives :class:`Me`) and
the auth views; see ``services/core/contract.py`` for the conventions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from services.core.contract import Body, Model
from services.core.text import Line, Secret

Language = Literal["ru", "en"]


class User(Model):
    """Anyone, as others see them."""

    id: int
    username: str | None = Field(description="our handle, [a-z0-9_]{3,32}")
    display_name: str
    first_name: str
    last_name: str | None
    photo_url: str | None
    telegram_username: str | None
    is_telegram_premium: bool
    is_premium: bool = Field(description="Vmeste premium (a Stars subscription): the badge")


class Me(User):
    """The signed-in user's own record: what only they may see comes on top."""

    email: str | None
    telegram_id: int | None
    language: Language
    language_chosen: bool = Field(description="chosen, or known from Telegram")
    created_at: datetime | None
    avatar_url: str | None = Field(description="seed 003's name of photoUrl")
    last_seen_at: datetime | None = Field(description="when your last connection closed")
    is_online: bool = Field(description="a messenger connection of yours is open")


class Session(Model):
    access_token: str = Field(description="a JWT for Authorization: Bearer and the socket auth")
    device_token: str | None = Field(
        None,
        description="after a password sign-in: this device's token, also set as the "
        "HttpOnly cookie vmeste_device (path /api/auth); send it back with later sign-ins "
        "(deviceToken, or the X-Device-Token header) so others' failed attempts on the account "
        "do not lock this device out",
    )
    user: Me


class MeResponse(Model):
    user: Me


class UserList(Model):
    users: list[User]


# --- request bodies ----------------------------------------------------------------------------


class RegisterBody(Body):
    email: Line
    username: Line = Field(description="[a-z0-9_]{3,32}")
    password: Secret = Field(description="at least 8 characters")


class LoginBody(Body):
    # Not Line/Secret: a sign-in with text that cannot be an account's fails like every other
    # failed sign-in (401, the same message), checked by services.accounts.auth.do_login.
    email: str
    password: str
    device_token: str | None = Field(
        None, description="the deviceToken of an earlier sign-in on this device, if kept"
    )


class TelegramBody(Body):
    init_data: Line = Field(description="Telegram.WebApp.initData, checked by the server")


class UpdateMeBody(Body):
    language: Line = Field(description="ru or en (anything else: validation_error)")


class UserSearchQuery(Body):
    """``GET /api/users/search`` query string."""

    query: Line = Field(
        max_length=64, description="2-64 characters: username, name, or an exact email"
    )
