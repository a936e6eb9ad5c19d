"""services.accounts.devices: signed device tokens bound to an account and a nonce."""

from __future__ import annotations

import time

import pytest

from services.accounts.devices import issue_device_token, read_device_token, read_device_tokens
from services.accounts.tokens import decode_access_token, issue_access_token
from services.core.errors import Unauthorized

KEY = "test-secret-that-is-long-enough-for-hs256-0123456789"
TTL = 3600


def test_a_token_names_its_account_and_a_fresh_nonce() -> None:
    first, second = issue_device_token(KEY, 42), issue_device_token(KEY, 42)
    one, two = read_device_token(KEY, first, ttl=TTL), read_device_token(KEY, second, ttl=TTL)
    assert one is not None
    assert two is not None
    assert (one.user_id, two.user_id) == (42, 42)
    assert one.nonce != two.nonce
    assert abs(one.issued_at - time.time()) < 5


def test_tampered_foreign_expired_and_malformed_tokens_are_refused() -> None:
    token = issue_device_token(KEY, 42)
    head, _, signature = token.rpartition(".")
    _, uid, nonce, issued = head.split(".")
    refused = [
        f"d1.43.{nonce}.{issued}.{signature}",  # another account
        f"d1.{uid}.{nonce}.{int(issued) + 1}.{signature}",  # another date
        issue_device_token("another-secret-that-is-long-enough-0123456789", 42),
        issue_device_token(KEY, 42, now=time.time() - TTL - 1),  # expired
        issue_device_token(KEY, 42, now=time.time() + 3600),  # from the future
        token + "x",
        token.replace("d1.", "d2.", 1),
        "",
        "x" * 10_000,
        None,
        42,
    ]
    for bad in refused:
        assert read_device_token(KEY, bad, ttl=TTL) is None, bad
    assert read_device_tokens(KEY, [*refused, token], ttl=TTL) == [
        read_device_token(KEY, token, ttl=TTL)
    ]


def test_a_device_token_is_not_an_access_token() -> None:
    """Different keys (derived for devices), different formats: neither passes for the other."""
    access = issue_access_token(KEY, 42, ttl=TTL)
    assert read_device_token(KEY, access, ttl=TTL) is None
    with pytest.raises(Unauthorized):
        decode_access_token(KEY, issue_device_token(KEY, 42))
