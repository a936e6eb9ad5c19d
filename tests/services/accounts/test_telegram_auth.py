"""services.accounts.telegram_auth: published vectors must pass, every tampering must fail."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from services.accounts.telegram_auth import (
    MAX_INIT_DATA_LENGTH,
    InitDataError,
    TelegramWebAppUser,
    WebAppInitData,
    _compute_hash,
    _secret_key,
    parse_init_data,
    sign_init_data,
)

# --- Published vector 1 -------------------------------------------------------------------
# aiogram, tests/test_utils/test_web_app.py (github.com/aiogram/aiogram), the first case of
# TestWebApp.test_check_webapp_signature: token "42:TEST", expected to validate.
AIOGRAM_TOKEN = "42:TEST"
AIOGRAM_AUTH_DATE = 1650385342
AIOGRAM_HASH = "46d2ea5e32911ec8d30999b56247654460c0d20949b6277af519e76271182803"
AIOGRAM_VECTOR = (
    "auth_date=1650385342"
    "&user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D"
    "&query_id=test"
    f"&hash={AIOGRAM_HASH}"
)
# Same file, second case: correctly signed, but the user JSON has "id": "123456789" (a string)
# and "is_premium": "true" (a string). The signature checks out; our user parsing refuses it.
AIOGRAM_VECTOR_STRING_ID = (
    "auth_date=1650385342"
    "&user=%7B%22id%22%3A+%22123456789%22%2C+%22first_name%22%3A+%22PlaceholderFirstName%22%2C"
    "+%22last_name%22%3A+%22PlaceholderLastName+%5Cud83c%5Cuddfa%5Cud83c%5Cudde6%22%2C"
    "+%22username%22%3A+%22Latand%22%2C+%22language_code%22%3A+%22en%22%2C"
    "+%22is_premium%22%3A+%22true%22%2C+%22allows_write_to_pm%22%3A+%22true%22%7D"
    "&query_id=test"
    "&hash=b3c8b293f14ad0f7f0abcf769aea1209a72295d30a87eb0e74df855d32e53bfe"
)

# --- Published vector 2 -------------------------------------------------------------------
# Telegram-Mini-Apps/telegram-apps, packages/init-data-node/src/entries/node.test.ts (also
# src/validate.test.ts): `sp` with `secretToken`, validated there with expiresIn: 0 because
# auth_date is 1 (1970-01-01T00:00:01Z). Fields are in alphabetical order, hash in the middle.
TMA_TOKEN = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8"
TMA_AUTH_DATE = 1
TMA_VECTOR = (
    "auth_date=1&can_send_after=10000"
    "&chat=%7B%22id%22%3A1%2C%22type%22%3A%22group%22%2C%22title%22%3A%22chat-title%22%2C"
    "%22photo_url%22%3A%22group%22%2C%22username%22%3A%22my-chat%22%7D"
    "&chat_instance=888&chat_type=sender"
    "&hash=47cfa22e72b887cba90c9cb833c5ea0f599975b6ce7193741844b5c4a4228b40"
    "&query_id=QUERY"
    "&receiver=%7B%22added_to_attachment_menu%22%3Afalse%2C%22allows_write_to_pm%22%3Atrue%2C"
    "%22first_name%22%3A%22receiver-first-name%22%2C%22id%22%3A991%2C%22is_bot%22%3Afalse%2C"
    "%22is_premium%22%3Atrue%2C%22language_code%22%3A%22ru%22%2C%22last_name%22%3A"
    "%22receiver-last-name%22%2C%22photo_url%22%3A%22receiver-photo%22%2C%22username%22%3A"
    "%22receiver-username%22%7D"
    "&start_param=debug"
    "&user=%7B%22added_to_attachment_menu%22%3Afalse%2C%22allows_write_to_pm%22%3Afalse%2C"
    "%22first_name%22%3A%22user-first-name%22%2C%22id%22%3A222%2C%22is_bot%22%3Atrue%2C"
    "%22is_premium%22%3Afalse%2C%22language_code%22%3A%22en%22%2C%22last_name%22%3A"
    "%22user-last-name%22%2C%22photo_url%22%3A%22user-photo%22%2C%22username%22%3A"
    "%22user-username%22%7D"
)
# Same package: node.test.ts `secretTokenHashed` (the derived secret key of TMA_TOKEN) and the
# signData test (HMAC of "abc" under the secret derived from "my-secret-token").
TMA_SECRET_KEY_HEX = "a5c609aa52f63cb5e6d8ceb6e4138726ea82bbc36bb786d64482d445ea38ee5f"
TMA_SIGN_DATA_HEX = "6ecc2e9b51f30dde6877ce374ede54eb626c84e78a5d9a9dcac54d2d248f6bde"

# --- Our own signed fixtures (via sign_init_data) -----------------------------------------
TOKEN = "123456:TEST-TOKEN-for-unit-tests"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
USER = {
    "id": 279058397,
    "first_name": "Vladislav + - ? /",
    "last_name": "",
    "username": "vdkfrost",
    "language_code": "ru",
    "is_premium": True,
    "allows_write_to_pm": True,
    "photo_url": "https://t.me/i/userpic/320/x.svg",
}


def _at(ts: int, delta: timedelta = timedelta(seconds=30)) -> datetime:
    """A `now` shortly after a vector's auth_date, so its age is well inside max_age."""
    return datetime.fromtimestamp(ts, tz=UTC) + delta


def _fields(**overrides: str) -> dict[str, str]:
    """A realistic field set (with `signature`, as Telegram sends since Bot API 8.0)."""
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(USER, separators=(",", ":")),
        "chat_instance": "8134722200314281151",
        "chat_type": "private",
        "auth_date": str(int(NOW.timestamp()) - 60),
        "signature": "zL-ucjNyREiHDE8aihFwpfR9aggP2xiAo3NSpfe-p7IbCisNlDKlo7Kb6G4D0Ao2mBrSgEk4",
    }
    fields.update(overrides)
    return fields


def _reason(init_data: str, **kwargs: object) -> str:
    """Parse expecting a refusal and return its reason code."""
    kwargs.setdefault("bot_token", TOKEN)
    kwargs.setdefault("now", NOW)
    with pytest.raises(InitDataError) as excinfo:
        parse_init_data(init_data, **kwargs)  # type: ignore[arg-type]
    return excinfo.value.reason


def _replace_field(init_data: str, key: str, new_value: str) -> str:
    """Swap one encoded field value and keep the original hash (simulates tampering)."""
    parts = []
    for part in init_data.split("&"):
        name, _, _ = part.partition("=")
        parts.append(f"{name}={quote(new_value, safe='')}" if name == key else part)
    assert parts != init_data.split("&"), f"field {key} not found"
    return "&".join(parts)


# ------------------------------------------------------------------ published vectors pass


def test_aiogram_vector_validates() -> None:
    result = parse_init_data(AIOGRAM_VECTOR, bot_token=AIOGRAM_TOKEN, now=_at(AIOGRAM_AUTH_DATE))
    assert isinstance(result, WebAppInitData)
    assert result.auth_date == datetime(2022, 4, 19, 16, 22, 22, tzinfo=UTC)
    assert result.auth_date.tzinfo is UTC
    assert result.query_id == "test"
    assert result.user == TelegramWebAppUser(
        id=42,
        first_name="Test",
        last_name=None,
        username=None,
        language_code=None,
        is_premium=False,
        photo_url=None,
        allows_write_to_pm=False,
    )
    assert result.start_param is None
    assert result.chat_type is None
    assert "hash" not in result.raw
    assert result.raw["auth_date"] == "1650385342"


def test_telegram_apps_vector_validates() -> None:
    result = parse_init_data(TMA_VECTOR, bot_token=TMA_TOKEN, now=_at(TMA_AUTH_DATE))
    assert result.auth_date == datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert result.query_id == "QUERY"
    assert result.start_param == "debug"
    assert result.chat_type == "sender"
    assert result.chat_instance == "888"
    assert result.user == TelegramWebAppUser(
        id=222,
        first_name="user-first-name",
        last_name="user-last-name",
        username="user-username",
        language_code="en",
        is_premium=False,
        photo_url="user-photo",
        allows_write_to_pm=False,
    )
    # Fields we do not model stay available, decoded, in raw.
    assert json.loads(result.raw["receiver"])["id"] == 991
    assert result.raw["can_send_after"] == "10000"


def test_telegram_apps_key_derivation_vectors() -> None:
    assert _secret_key(TMA_TOKEN).hex() == TMA_SECRET_KEY_HEX
    assert _compute_hash("abc", "my-secret-token") == TMA_SIGN_DATA_HEX


def test_sign_init_data_reproduces_published_hash() -> None:
    signed = sign_init_data(
        {
            "auth_date": "1650385342",
            "user": '{"id":42,"first_name":"Test"}',
            "query_id": "test",
        },
        bot_token=AIOGRAM_TOKEN,
    )
    assert signed.endswith(f"&hash={AIOGRAM_HASH}")


def test_published_vectors_are_bound_to_their_tokens() -> None:
    assert _reason(AIOGRAM_VECTOR, bot_token=TMA_TOKEN, now=_at(AIOGRAM_AUTH_DATE)) == (
        "bad_signature"
    )
    assert _reason(TMA_VECTOR, bot_token=AIOGRAM_TOKEN, now=_at(TMA_AUTH_DATE)) == ("bad_signature")


def test_published_vectors_expire_with_default_max_age() -> None:
    assert _reason(AIOGRAM_VECTOR, bot_token=AIOGRAM_TOKEN, now=NOW) == "expired"
    assert _reason(TMA_VECTOR, bot_token=TMA_TOKEN, now=NOW) == "expired"


def test_signed_vector_with_string_user_id_is_bad_user() -> None:
    # The signature is valid (aiogram accepts it); the payload is not what Telegram sends.
    from aiogram.utils.web_app import check_webapp_signature

    assert check_webapp_signature(AIOGRAM_TOKEN, AIOGRAM_VECTOR_STRING_ID) is True
    assert (
        _reason(AIOGRAM_VECTOR_STRING_ID, bot_token=AIOGRAM_TOKEN, now=_at(AIOGRAM_AUTH_DATE))
        == "bad_user"
    )


# ------------------------------------------------------------------ our own signed data


def test_signed_round_trip_with_signature_field() -> None:
    result = parse_init_data(sign_init_data(_fields(), bot_token=TOKEN), bot_token=TOKEN, now=NOW)
    assert result.user is not None
    assert result.user.id == 279058397
    assert result.user.first_name == "Vladislav + - ? /"
    assert result.user.last_name is None  # "" normalised to None
    assert result.user.is_premium is True
    assert result.user.allows_write_to_pm is True
    assert result.chat_type == "private"
    assert result.raw["signature"] == _fields()["signature"]
    assert result.auth_date == NOW - timedelta(seconds=60)


def test_field_order_does_not_matter() -> None:
    signed = sign_init_data(_fields(), bot_token=TOKEN)
    body, hash_part = signed.rsplit("&", 1)
    reordered = "&".join([hash_part, *reversed(body.split("&"))])
    assert parse_init_data(reordered, bot_token=TOKEN, now=NOW).raw == _fields()


def test_init_data_without_user_is_accepted() -> None:
    fields = _fields()
    del fields["user"]
    result = parse_init_data(sign_init_data(fields, bot_token=TOKEN), bot_token=TOKEN, now=NOW)
    assert result.user is None


@pytest.mark.parametrize("empty_field", ["signature", "start_param"])
def test_empty_field_is_signed_and_accepted_but_aiogram_rejects_it(empty_field: str) -> None:
    from aiogram.utils.web_app import check_webapp_signature

    signed = sign_init_data(_fields(**{empty_field: ""}), bot_token=TOKEN)
    assert f"{empty_field}=&" in signed

    result = parse_init_data(signed, bot_token=TOKEN, now=NOW)
    assert result.raw[empty_field] == ""
    assert result.start_param is None
    # aiogram drops blank values before building the data-check-string, so the same, correctly
    # signed string fails there. This is why we do not use check_webapp_signature.
    assert check_webapp_signature(TOKEN, signed) is False


def test_signature_field_is_part_of_the_data_check_string() -> None:
    fields = _fields()
    without_signature = {k: v for k, v in fields.items() if k != "signature"}
    # A hash computed the pre-Bot-API-8.0 way (signature excluded) must not validate.
    hash_excluding_signature = sign_init_data(without_signature, bot_token=TOKEN).rsplit("=", 1)[1]
    body = sign_init_data(fields, bot_token=TOKEN).rsplit("=", 1)[0]
    forged = f"{body}={hash_excluding_signature}"
    assert forged != sign_init_data(fields, bot_token=TOKEN)
    assert _reason(forged) == "bad_signature"


# ------------------------------------------------------------------ must fail


def test_tampered_value() -> None:
    signed = sign_init_data(_fields(), bot_token=TOKEN)
    tampered_user = json.dumps({**USER, "id": 1}, separators=(",", ":"))
    assert _reason(_replace_field(signed, "user", tampered_user)) == "bad_signature"
    assert _reason(_replace_field(signed, "signature", "x")) == "bad_signature"
    assert _reason(_replace_field(signed, "chat_type", "group")) == "bad_signature"


def test_added_field() -> None:
    signed = sign_init_data(_fields(), bot_token=TOKEN)
    assert _reason(signed + "&start_param=evil") == "bad_signature"
    assert _reason(signed + "&start_param=") == "bad_signature"


def test_tampered_published_vector() -> None:
    tampered = AIOGRAM_VECTOR.replace("query_id=test", "query_id=tesT")
    assert _reason(tampered, bot_token=AIOGRAM_TOKEN, now=_at(AIOGRAM_AUTH_DATE)) == (
        "bad_signature"
    )


@pytest.mark.parametrize(
    "bad_hash",
    [
        "0" * 64,
        AIOGRAM_HASH[:-1] + "4",  # one hex digit changed
        AIOGRAM_HASH.upper(),
        AIOGRAM_HASH[:-1],  # too short
        AIOGRAM_HASH + "0",  # too long
        "%C3%A9" * 32,  # non-ASCII (aiogram issue #1903)
    ],
)
def test_tampered_hash(bad_hash: str) -> None:
    init_data = AIOGRAM_VECTOR.replace(AIOGRAM_HASH, bad_hash)
    assert _reason(init_data, bot_token=AIOGRAM_TOKEN, now=_at(AIOGRAM_AUTH_DATE)) == (
        "bad_signature"
    )


def test_wrong_bot_token() -> None:
    signed = sign_init_data(_fields(), bot_token=TOKEN)
    assert _reason(signed, bot_token=TOKEN + "x") == "bad_signature"
    assert _reason(signed, bot_token="654321:TEST-TOKEN-for-unit-tests") == "bad_signature"


def test_errors_never_contain_token_or_hash() -> None:
    signed = sign_init_data(_fields(), bot_token=TOKEN)
    received_hash = signed.rsplit("=", 1)[1]
    with pytest.raises(InitDataError) as excinfo:
        parse_init_data(signed, bot_token="999:OTHER-TOKEN", now=NOW)
    err = excinfo.value
    assert err.reason == "bad_signature"
    for text in (str(err), repr(err)):
        assert "999:OTHER-TOKEN" not in text
        assert TOKEN not in text
        assert received_hash not in text


def test_expired() -> None:
    auth_ts = int(NOW.timestamp()) - int(timedelta(days=1).total_seconds()) - 1
    signed = sign_init_data(_fields(auth_date=str(auth_ts)), bot_token=TOKEN)
    assert _reason(signed) == "expired"
    # Exactly at the limit is still fine, and a custom max_age is honoured.
    assert parse_init_data(signed, bot_token=TOKEN, now=NOW - timedelta(seconds=1)).user
    assert _reason(sign_init_data(_fields(), bot_token=TOKEN), max_age=timedelta(seconds=59)) == (
        "expired"
    )


def test_from_the_future() -> None:
    ahead = sign_init_data(_fields(auth_date=str(int(NOW.timestamp()) + 61)), bot_token=TOKEN)
    assert _reason(ahead) == "from_future"
    at_skew = str(int(NOW.timestamp()) + 60)
    within_skew = sign_init_data(_fields(auth_date=at_skew), bot_token=TOKEN)
    assert parse_init_data(within_skew, bot_token=TOKEN, now=NOW).user is not None
    assert _reason(within_skew, future_skew=timedelta(0)) == "from_future"
    # Far beyond datetime's range: refused, not an OverflowError.
    absurd = sign_init_data(_fields(auth_date="9" * 16), bot_token=TOKEN)
    assert _reason(absurd) == "from_future"


@pytest.mark.parametrize("auth_date", [None, "", "abc", "1.5", "-5", " 1740830340", "+1740830340"])
def test_missing_or_non_integer_auth_date(auth_date: str | None) -> None:
    fields = _fields()
    if auth_date is None:
        del fields["auth_date"]
    else:
        fields["auth_date"] = auth_date
    assert _reason(sign_init_data(fields, bot_token=TOKEN)) == "missing_auth_date"


def test_duplicate_key() -> None:
    signed = sign_init_data(_fields(), bot_token=TOKEN)
    assert _reason(signed + "&auth_date=1") == "duplicate_key"
    assert _reason(f"auth_date=1&{signed}") == "duplicate_key"
    assert _reason(signed + "&hash=" + "0" * 64) == "duplicate_key"


def test_duplicate_key_even_when_the_duplicate_is_signed() -> None:
    # dict()-based parsers (aiogram) keep only the last value; we refuse the ambiguity outright.
    fields = _fields()
    signed = sign_init_data(fields, bot_token=TOKEN)
    assert _reason(f"user={quote(fields['user'], safe='')}&{signed}") == "duplicate_key"


def test_missing_hash() -> None:
    signed = sign_init_data(_fields(), bot_token=TOKEN)
    without_hash = signed.rsplit("&", 1)[0]
    assert _reason(without_hash) == "missing_hash"
    assert _reason(without_hash + "&hash=") == "missing_hash"


@pytest.mark.parametrize(
    "user_json",
    [
        "{not json",
        "[1, 2]",
        '"string"',
        '{"first_name": "No Id"}',
        '{"id": "42", "first_name": "String Id"}',
        '{"id": true, "first_name": "Bool Id"}',
        '{"id": 0, "first_name": "Zero"}',
        '{"id": 42}',
        '{"id": 42, "first_name": "A", "is_premium": "true"}',
        '{"id": 42, "first_name": "A", "username": 5}',
        '{"id": 42, "first_name": "A", "id": 43}',
        "[" * 600 + "]" * 600,  # deep nesting, as deep as fits under the size cap
    ],
)
def test_bad_user(user_json: str) -> None:
    signed = sign_init_data(_fields(user=user_json), bot_token=TOKEN)
    assert len(signed) <= MAX_INIT_DATA_LENGTH  # otherwise we would be testing the size cap
    assert _reason(signed) == "bad_user"


@pytest.mark.parametrize(
    "init_data",
    [
        "",
        "test&foo=bar=baz",  # aiogram's own malformed case
        "auth_date=1&&hash=" + "0" * 64,  # empty segment
        "auth_date=1&hash=" + "0" * 64 + "&",  # trailing separator
        "=1&hash=" + "0" * 64,  # empty key
        "user=%FF&hash=" + "0" * 64,  # invalid UTF-8 after percent-decoding
        "&".join(f"f{i}=1" for i in range(100)),  # too many fields
    ],
)
def test_malformed(init_data: str) -> None:
    assert _reason(init_data) == "malformed"


def test_huge_input_is_refused_before_parsing() -> None:
    fields = _fields(start_param="x" * MAX_INIT_DATA_LENGTH)
    huge_but_signed = sign_init_data(fields, bot_token=TOKEN)
    assert _reason(huge_but_signed) == "malformed"
    assert _reason("a=" + "b" * 10_000_000) == "malformed"


def test_caller_errors_are_not_init_data_errors() -> None:
    signed = sign_init_data(_fields(), bot_token=TOKEN)
    with pytest.raises(ValueError, match="bot_token"):
        parse_init_data(signed, bot_token="", now=NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_init_data(signed, bot_token=TOKEN, now=NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="hash"):
        sign_init_data({"hash": "x"}, bot_token=TOKEN)
    with pytest.raises(ValueError, match="bot_token"):
        sign_init_data(_fields(), bot_token="")


def test_default_now_is_current_time() -> None:
    fresh = sign_init_data(
        _fields(auth_date=str(int(datetime.now(UTC).timestamp()))), bot_token=TOKEN
    )
    assert parse_init_data(fresh, bot_token=TOKEN).user is not None
    stale = sign_init_data(_fields(auth_date="1000"), bot_token=TOKEN)
    assert _reason(stale, now=None) == "expired"
