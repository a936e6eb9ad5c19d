"""Sign-up, sign-in (email or Telegram) and turning a bearer token into a user."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from tortoise.exceptions import IntegrityError

from models.users import User
from services.accounts.telegram_auth import InitDataError, parse_init_data
from services.accounts.tokens import decode_access_token, issue_access_token
from services.accounts.users import USERNAME_RE, TelegramProfile, do_upsert_telegram_user
from services.core import text
from services.core.context import Services
from services.core.contract import MAX_TELEGRAM_ID
from services.core.errors import Conflict, Unauthorized, ValidationError
from services.core.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    dummy_hash,
    hash_password,
    verify_password,
)

# No whitespace or control characters (PostgreSQL refuses NUL in text).
EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]{2,}$")


@dataclass(frozen=True)
class Session:
    user: User
    access_token: str


def _issue(services: Services, user: User) -> Session:
    token = issue_access_token(services.jwt_key, user.id, ttl=services.settings.jwt_ttl)
    return Session(user=user, access_token=token)


def check_email(email: str) -> str:
    email = text.check(email, text.LINE, field="email").strip().lower()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise ValidationError(field="email", reason="not a valid email address")
    return email


def check_username(username: str) -> str:
    username = text.check(username, text.LINE, field="username").strip().lstrip("@").lower()
    if not USERNAME_RE.match(username):
        raise ValidationError(field="username", reason="3-32 letters, digits or _")
    return username


def check_password(password: str) -> str:
    text.check(password, text.SECRET, field="password")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(field="password", reason=f"at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(field="password", reason=f"at most {MAX_PASSWORD_LENGTH} characters")
    return password


async def _check_rate(services: Services, action: str, client_ip: str, account: str | None) -> None:
    settings = services.settings
    await services.limiter.hit(settings.auth_rate_ip, "auth-ip", action, client_ip)
    if account is not None:
        await services.limiter.hit(settings.auth_rate_account, "auth-account", action, account)


async def do_register(
    services: Services, *, email: str, username: str, password: str, client_ip: str
) -> Session:
    email, username = check_email(email), check_username(username)
    password = check_password(password)
    await _check_rate(services, "register", client_ip, email)
    for field, value in (("email", email), ("username", username)):
        if await User.filter(**{field: value}).exists():
            raise Conflict(field=field)
    password_hash = await hash_password(services.hasher, password)
    try:
        user = await User.create(
            email=email, username=username, password_hash=password_hash, first_name=username
        )
    except IntegrityError:
        # Lost a race with a concurrent sign-up: report the field that is now taken.
        field = "email" if await User.filter(email=email).exists() else "username"
        raise Conflict(field=field) from None
    return _issue(services, user)


async def do_login(services: Services, *, email: str, password: str, client_ip: str) -> Session:
    # Text no account can have (lone surrogates, controls) fails like a wrong password: it is
    # neither looked up, nor hashed, nor a rate-limit key (each would raise on it).
    valid = text.problem(email) is None and text.problem(password, text.SECRET) is None
    email = email.strip().lower() if valid else ""
    await _check_rate(services, "login", client_ip, email if valid else None)
    # Make the dummy hash (first call only) before looking anyone up, so even the first miss
    # costs the same as a hit.
    await dummy_hash(services.hasher)
    if not valid:
        password = ""
    user = await User.get_or_none(email=email) if valid and EMAIL_RE.match(email) else None
    # Without a user (or a password) this verifies against the dummy hash: the same argon2 work,
    # so response time does not reveal which emails exist.
    stored = user.password_hash if user is not None else None
    if not await verify_password(services.hasher, stored, password) or user is None:
        raise Unauthorized("Wrong email or password.")
    return _issue(services, user)


async def do_telegram_sign_in(services: Services, *, init_data: str, client_ip: str) -> Session:
    settings = services.settings
    if settings.bot_token is None:
        raise Unauthorized("Telegram sign-in is not configured on this server.")
    # initData is signed (nothing to guess), and every Mini App open signs in again, often from
    # shared carrier addresses: a looser per-address limit than for passwords.
    await services.limiter.hit(settings.auth_rate_telegram, "auth-ip", "telegram", client_ip)
    try:
        data = parse_init_data(
            init_data,
            bot_token=settings.bot_token.get_secret_value(),
            max_age=timedelta(seconds=settings.init_data_max_age),
        )
    except InitDataError as exc:
        raise Unauthorized("Telegram sign-in failed: {reason}.", reason=exc.reason) from None
    if data.user is None:
        raise Unauthorized("Telegram sign-in failed: {reason}.", reason="bad_user")
    tg = data.user
    if tg.id > MAX_TELEGRAM_ID:
        raise ValidationError(field="initData", reason="user.id is not a 64-bit Telegram id")
    user = await do_upsert_telegram_user(
        TelegramProfile(
            id=tg.id,
            first_name=tg.first_name,
            last_name=tg.last_name,
            username=tg.username,
            language_code=tg.language_code,
            is_premium=tg.is_premium,
            photo_url=tg.photo_url,
        )
    )
    return _issue(services, user)


async def access_user_by_token(services: Services, token: str) -> User:
    user_id = decode_access_token(services.jwt_key, token)
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise Unauthorized()
    return user
