"""services.accounts.tokens: HS256 only, exp/iat/sub required, sub a string of the user id."""

from __future__ import annotations

import time
import warnings
from typing import Any

import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning

from services.accounts.tokens import decode_access_token, issue_access_token
from services.core.errors import Unauthorized

KEY = "k" * 48


def _forge(claims: dict[str, Any], *, key: str | None = KEY, algorithm: str = "HS256") -> str:
    now = int(time.time())
    payload = {"sub": "7", "iat": now, "exp": now + 60, "typ": "access", **claims}
    payload = {name: value for name, value in payload.items() if value is not None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(payload, key, algorithm=algorithm)  # type: ignore[arg-type]


def test_issued_token_round_trips_with_string_sub_and_ttl() -> None:
    token = issue_access_token(KEY, 7, ttl=3600, now=1_900_000_000.7)
    claims = jwt.decode(
        token, KEY, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False}
    )
    assert claims["sub"] == "7"
    assert claims["iat"] == 1_900_000_000
    assert claims["exp"] - claims["iat"] == 3600
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert decode_access_token(KEY, issue_access_token(KEY, 7, ttl=60)) == 7


def test_expired_token_says_so() -> None:
    token = issue_access_token(KEY, 7, ttl=60, now=time.time() - 3600)
    with pytest.raises(Unauthorized) as caught:
        decode_access_token(KEY, token)
    assert "expired" in caught.value.message


@pytest.mark.parametrize(
    "token",
    [
        _forge({}, key="another-key-" + "x" * 40),
        _forge({}, key=None, algorithm="none"),
        _forge({}, algorithm="HS512"),
        _forge({}, algorithm="HS384"),
        _forge({"exp": None}),
        _forge({"iat": None}),
        _forge({"sub": None}),
        _forge({"typ": None}),
        _forge({"typ": "refresh"}),
        _forge({"sub": 7}),
        _forge({"sub": "seven"}),
        _forge({"sub": "²"}),
        _forge({"sub": "0"}),
        _forge({"sub": "-7"}),
        _forge({"sub": " 7"}),
        _forge({"sub": "9" * 40}),
        _forge({"iat": int(time.time()) + 3600}),
        _forge({"iat": "yesterday"}),
        _forge({"exp": "tomorrow"}),
        "",
        "garbage",
        "a.b.c",
        _forge({}) + "x",
        _forge({})[:-3],
        "x" * 5000,
    ],
    ids=[
        "other-key",
        "alg-none",
        "HS512",
        "HS384",
        "no-exp",
        "no-iat",
        "no-sub",
        "no-typ",
        "refresh-typ",
        "int-sub",
        "word-sub",
        "superscript-sub",
        "zero-sub",
        "negative-sub",
        "padded-sub",
        "huge-sub",
        "future-iat",
        "text-iat",
        "text-exp",
        "empty",
        "garbage",
        "abc",
        "extra-char",
        "cut-signature",
        "huge",
    ],
)
def test_bad_tokens_are_unauthorized(token: str) -> None:
    with pytest.raises(Unauthorized):
        decode_access_token(KEY, token)


def test_forged_baseline_is_accepted() -> None:
    """The forging helper makes valid tokens; each case above differs in one way only."""
    assert decode_access_token(KEY, _forge({})) == 7
