"""Validation of Telegram Mini App ``initData``.

Implements https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app
ourselves instead of using ``aiogram.utils.web_app.check_webapp_signature``, because that helper

* parses with ``keep_blank_values=False``, so a genuinely signed string carrying an empty field
  (``start_param=``, ``signature=``, ...) is rejected: the empty field silently drops out of its
  data-check-string;
* collapses duplicate keys with ``dict()`` (last one wins) instead of refusing them;
* never looks at ``auth_date``, so a leaked initData string would stay valid forever.

The module is transport-agnostic: callers map :class:`InitDataError.reason` to HTTP status codes
or Socket.IO errors themselves. Neither the bot token nor the received hash is ever put into an
exception message, so errors can be logged as they are.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal
from urllib.parse import parse_qsl, quote, urlencode

__all__ = [
    "MAX_INIT_DATA_LENGTH",
    "InitDataError",
    "InitDataErrorReason",
    "TelegramWebAppUser",
    "WebAppInitData",
    "parse_init_data",
    "sign_init_data",
]

#: Real initData (user with photo URL, chat_instance, signature, hash) is well under 1 KiB;
#: anything much larger is refused before parsing, so a huge body costs us nothing.
MAX_INIT_DATA_LENGTH: Final[int] = 4096
#: Telegram sends about ten fields; a cap keeps ``parse_qsl`` from building huge lists.
_MAX_FIELDS: Final[int] = 64
_WEB_APP_DATA_KEY: Final[bytes] = b"WebAppData"
_HASH_RE: Final[re.Pattern[str]] = re.compile(r"[0-9a-f]{64}")
#: ASCII digits only: ``int()`` would also accept " 1", "+1", "1_0" and non-ASCII digits.
_AUTH_DATE_RE: Final[re.Pattern[str]] = re.compile(r"[0-9]{1,16}")

InitDataErrorReason = Literal[
    "malformed",
    "duplicate_key",
    "missing_hash",
    "bad_signature",
    "expired",
    "from_future",
    "missing_auth_date",
    "bad_user",
]


class InitDataError(Exception):
    """initData was refused; ``reason`` is a stable machine-readable code for callers and logs."""

    def __init__(self, reason: InitDataErrorReason, detail: str | None = None) -> None:
        self.reason: InitDataErrorReason = reason
        message = reason if detail is None else f"{reason}: {detail}"
        super().__init__(message)


@dataclass(frozen=True)
class TelegramWebAppUser:
    """The ``user`` object of initData, reduced to the fields Vmeste uses.

    Optional strings that Telegram sends as ``""`` (typically ``last_name``) become ``None`` so
    callers only have one "absent" value to check.
    """

    id: int
    first_name: str
    last_name: str | None
    username: str | None
    language_code: str | None
    is_premium: bool
    photo_url: str | None
    allows_write_to_pm: bool


@dataclass(frozen=True)
class WebAppInitData:
    """initData whose signature and freshness have been verified.

    ``raw`` holds every signed field exactly as received (decoded, ``hash`` excluded), for fields
    this class does not model (``chat``, ``receiver``, ``can_send_after``, ``signature``, ...).
    """

    user: TelegramWebAppUser | None
    auth_date: datetime
    query_id: str | None
    start_param: str | None
    chat_type: str | None
    chat_instance: str | None
    raw: dict[str, str] = field(repr=False)


def _secret_key(bot_token: str) -> bytes:
    """Derive the Mini App secret: HMAC-SHA256 keyed with "WebAppData" over the bot token."""
    return hmac.new(_WEB_APP_DATA_KEY, bot_token.encode("utf-8"), hashlib.sha256).digest()


def _compute_hash(data_check_string: str, bot_token: str) -> str:
    """Hex HMAC-SHA256 of the data-check-string under the derived secret (Telegram's hash)."""
    return hmac.new(
        _secret_key(bot_token), data_check_string.encode("utf-8"), hashlib.sha256
    ).hexdigest()


def _data_check_string(fields: Mapping[str, str]) -> str:
    """All fields but ``hash`` (``signature`` included) as sorted ``key=value`` lines."""
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def _require_token(bot_token: str) -> None:
    """An empty token would make every signature forgeable, so treat it as a programming error."""
    if not bot_token:
        raise ValueError("bot_token must be a non-empty string")


def _parse_fields(init_data: str) -> dict[str, str]:
    """Split the query string strictly, keeping blank values and refusing duplicate keys.

    ``strict_parsing=True`` raises on segments without "=" and on empty segments ("a=1&&b=2",
    a trailing "&"), but it returns ``[]`` for an empty string, so that case is checked first.
    ``errors="strict"`` refuses invalid percent-encoded UTF-8 instead of replacing it.
    """
    if not isinstance(init_data, str) or not init_data:
        raise InitDataError("malformed", "empty or not a string")
    if len(init_data) > MAX_INIT_DATA_LENGTH:
        raise InitDataError("malformed", f"longer than {MAX_INIT_DATA_LENGTH} characters")
    try:
        pairs = parse_qsl(
            init_data,
            keep_blank_values=True,
            strict_parsing=True,
            errors="strict",
            max_num_fields=_MAX_FIELDS,
        )
    except ValueError:  # includes UnicodeDecodeError
        raise InitDataError("malformed", "not a valid query string") from None
    fields: dict[str, str] = {}
    for key, value in pairs:
        if not key:
            raise InitDataError("malformed", "empty field name")
        if key in fields:
            raise InitDataError("duplicate_key", f"field {key!r} occurs more than once")
        fields[key] = value
    return fields


def _verify_hash(fields: Mapping[str, str], bot_token: str) -> None:
    """Recompute the hash and compare in constant time; never echo either hash."""
    received = fields.get("hash")
    if not received:
        raise InitDataError("missing_hash")
    # Checking the shape first keeps compare_digest on ASCII strings (it raises TypeError on
    # non-ASCII str, see aiogram issue #1903).
    if _HASH_RE.fullmatch(received) is None:
        raise InitDataError("bad_signature", "hash is not 64 lowercase hex digits")
    try:
        expected = _compute_hash(_data_check_string(fields), bot_token)
    except UnicodeEncodeError:  # lone surrogates in a str that did not come off the wire
        raise InitDataError("malformed", "field values are not encodable as UTF-8") from None
    if not hmac.compare_digest(expected, received):
        raise InitDataError("bad_signature", "hash does not match the data")


def _check_auth_date(
    value: str | None, *, now: datetime, max_age: timedelta, future_skew: timedelta
) -> datetime:
    """Refuse stale (replayed) and future-dated initData; return ``auth_date`` as aware UTC."""
    if value is None or _AUTH_DATE_RE.fullmatch(value) is None:
        raise InitDataError("missing_auth_date", "auth_date is missing or not an integer")
    auth_ts = int(value)
    # Compare as numbers first: a far-future timestamp would overflow datetime.
    if auth_ts > now.timestamp() + future_skew.total_seconds():
        raise InitDataError("from_future", "auth_date is ahead of the server clock")
    auth_date = datetime.fromtimestamp(auth_ts, tz=UTC)
    if now - auth_date > max_age:
        raise InitDataError("expired", f"auth_date is older than {max_age}")
    return auth_date


def _reject_duplicate_json_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads`` hook: a user object with repeated keys is ambiguous, so refuse it."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate JSON key {key!r}")
        result[key] = value
    return result


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    """A string field that may be absent, null or ""; anything else means a broken user object."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InitDataError("bad_user", f"user.{key} is not a string")
    return value or None


def _flag(data: Mapping[str, Any], key: str) -> bool:
    """A boolean that Telegram omits when false; strings such as "true" are refused."""
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise InitDataError("bad_user", f"user.{key} is not a boolean")
    return value


def _parse_user(value: str) -> TelegramWebAppUser:
    """Decode the ``user`` JSON; the id must be a real JSON integer (not a bool or a string)."""
    try:
        data = json.loads(value, object_pairs_hook=_reject_duplicate_json_keys)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise InitDataError("bad_user", "user is not valid JSON") from None
    if not isinstance(data, dict):
        raise InitDataError("bad_user", "user is not a JSON object")
    user_id = data.get("id")
    if isinstance(user_id, bool) or not isinstance(user_id, int) or user_id <= 0:
        raise InitDataError("bad_user", "user.id is missing or not a positive integer")
    first_name = data.get("first_name")
    if not isinstance(first_name, str):
        raise InitDataError("bad_user", "user.first_name is missing or not a string")
    return TelegramWebAppUser(
        id=user_id,
        first_name=first_name,
        last_name=_optional_str(data, "last_name"),
        username=_optional_str(data, "username"),
        language_code=_optional_str(data, "language_code"),
        is_premium=_flag(data, "is_premium"),
        photo_url=_optional_str(data, "photo_url"),
        allows_write_to_pm=_flag(data, "allows_write_to_pm"),
    )


def parse_init_data(
    init_data: str,
    *,
    bot_token: str,
    max_age: timedelta = timedelta(days=1),
    now: datetime | None = None,
    future_skew: timedelta = timedelta(seconds=60),
) -> WebAppInitData:
    """Verify ``Telegram.WebApp.initData`` and return its contents.

    Order matters: nothing but ``hash`` is interpreted before the signature checks out, then
    ``auth_date`` bounds replay of a leaked string, and only then is ``user`` decoded.
    ``now`` (timezone-aware) exists for tests; it defaults to the current UTC time.

    Raises :class:`InitDataError` for any client-side problem, ``ValueError`` for caller bugs
    (empty ``bot_token``, naive ``now``).
    """
    _require_token(bot_token)
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")

    fields = _parse_fields(init_data)
    _verify_hash(fields, bot_token)
    auth_date = _check_auth_date(
        fields.get("auth_date"), now=now, max_age=max_age, future_skew=future_skew
    )
    user_json = fields.get("user")
    user = None if user_json is None else _parse_user(user_json)
    raw = {key: value for key, value in fields.items() if key != "hash"}
    return WebAppInitData(
        user=user,
        auth_date=auth_date,
        query_id=raw.get("query_id") or None,
        start_param=raw.get("start_param") or None,
        chat_type=raw.get("chat_type") or None,
        chat_instance=raw.get("chat_instance") or None,
        raw=raw,
    )


def sign_init_data(fields: Mapping[str, str], *, bot_token: str) -> str:
    """Build a correctly signed initData query string (tests and local development only).

    Fields keep their given order and empty values, percent-encoded the way Telegram clients do
    (``%20``, not ``+``); the computed ``hash`` is appended last.
    """
    _require_token(bot_token)
    if "hash" in fields:
        raise ValueError("fields must not contain 'hash'; it is computed here")
    digest = _compute_hash(_data_check_string(fields), bot_token)
    return urlencode([*fields.items(), ("hash", digest)], quote_via=quote)
