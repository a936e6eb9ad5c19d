"""Sign-up, sign-in (email or Telegram) and turning a bearer token into a user."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from models.users import User
from services.accounts.devices import issue_device_token, read_device_tokens
from services.accounts.telegram_auth import InitDataError, parse_init_data
from services.accounts.tokens import AccessClaims, decode_access_claims, issue_access_token
from services.accounts.users import USERNAME_RE, TelegramProfile, do_upsert_telegram_user
from services.core import text
from services.core.context import Services
from services.core.contract import MAX_TELEGRAM_ID, SESSION_REVOKED
from services.core.errors import N_, Conflict, Unauthorized, ValidationError
from services.core.events import Event
from services.core.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    dummy_hash,
    hash_password,
    verify_password,
)

# No whitespace or control characters (PostgreSQL refuses NUL in text).
EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]{2,}$")


#: A trusted device over its own budget (``AUTH_RATE_DEVICE``).
DEVICE_LIMITED = N_("Too many sign-in attempts on this device. Try again in {retry_after} s.")


@dataclass(frozen=True)
class Session:
    user: User
    access_token: str
    #: After a password sign-in: a new device token (services.accounts.devices).
    device_token: str | None = None


REVOKED_MESSAGE = N_("You signed out on all devices. Sign in again.")


def _issue(services: Services, user: User, *, device: bool = False) -> Session:
    token = issue_access_token(
        services.jwt_key, user.id, ttl=services.settings.jwt_ttl, version=user.token_version
    )
    device_token = issue_device_token(services.jwt_key, user.id) if device else None
    return Session(user=user, access_token=token, device_token=device_token)


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


async def do_login(
    services: Services,
    *,
    email: str,
    password: str,
    client_ip: str,
    device_tokens: Iterable[str | None] = (),
) -> Session:
    """Sign in with a password. ``device_tokens`` (body, header, cookie: any order) may hold a
    device token of this account from an earlier sign-in: then this attempt counts against that
    device's budget only, so nobody else's failures can lock this device out
    (services.accounts.devices). Without one, the address's and the account's budgets."""
    # Text no account can have (lone surrogates, controls) fails like a wrong password: it is
    # neither looked up, nor hashed, nor a rate-limit key (each would raise on it).
    valid = text.problem(email) is None and text.problem(password, text.SECRET) is None
    email = email.strip().lower() if valid else ""
    settings = services.settings
    valid_email = valid and bool(EMAIL_RE.match(email))
    devices = read_device_tokens(services.jwt_key, device_tokens, ttl=settings.auth_device_ttl)
    user: User | None = None
    looked_up = False
    device = None
    if devices and valid_email:
        # Only signed tokens of ours get here: a look-up to learn whether one is this account's.
        user, looked_up = await User.get_or_none(email=email), True
        if user is not None:
            device = next((d for d in devices if d.user_id == user.id), None)
    if device is not None:
        await services.limiter.hit_many(
            settings.auth_rate_device,
            "auth-device",
            "login",
            str(device.user_id),
            device.nonce,
            message=DEVICE_LIMITED,
        )
    else:
        await _check_rate(services, "login", client_ip, email if valid else None)
    # Make the dummy hash (first call only) before looking anyone up, so even the first miss
    # costs the same as a hit.
    await dummy_hash(services.hasher)
    if not valid:
        password = ""
    if not looked_up:
        user = await User.get_or_none(email=email) if valid_email else None
    # Without a user (or a password) this verifies against the dummy hash: the same argon2 work,
    # so response time does not reveal which emails exist.
    stored = user.password_hash if user is not None else None
    if not await verify_password(services.hasher, stored, password) or user is None:
        raise Unauthorized("Wrong email or password.")
    # A new nonce each time: the device's budget starts afresh after the right password.
    return _issue(services, user, device=True)


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


async def authenticate(services: Services, token: str) -> tuple[User, AccessClaims]:
    """The token's user and claims, or :class:`Unauthorized` (bad, expired, revoked token).

    The version check rides on the one indexed read of the user every request makes anyway:
    nothing is cached, so signing out everywhere takes effect at the next request."""
    claims = decode_access_claims(services.jwt_key, token)
    user = await User.get_or_none(id=claims.user_id)
    if user is None:
        raise Unauthorized()
    if claims.version < user.token_version:
        raise Unauthorized(REVOKED_MESSAGE)
    return user, claims


async def access_user_by_token(services: Services, token: str) -> User:
    user, _ = await authenticate(services, token)
    return user


async def do_refresh(services: Services, token: str) -> Session:
    """A new token for a valid, unrevoked one (same user, same version, a fresh ``exp``)."""
    user, _ = await authenticate(services, token)
    return _issue(services, user)


async def do_logout_all(services: Services, user: User) -> None:
    """Sign ``user`` out everywhere: every token issued so far stops working (HTTP and
    Socket.IO connect), and their live sockets, on every process, are disconnected."""
    await User.filter(id=user.id).update(token_version=F("token_version") + 1)
    await user.refresh_from_db(fields=["token_version"])
    # To user:<id>: every process disconnects that user's sockets after delivering it (hub).
    await services.events.publish(
        Event(SESSION_REVOKED, {"reason": "revoked"}, scope=f"user:{user.id}")
    )
