"""Device tokens: a browser or Mini App that signed in to an account before is "trusted" for
that account (OWASP, "Slow Down Online Guessing Attacks with Device Cookies").

Without them, five failed sign-ins for an email from anywhere locked the right password out
from everywhere: anyone who knew the email could keep its owner out. Now:

* a successful password sign-in returns a new device token, bound to the account
  and a random nonce and signed with a key derived from the JWT secret;
* a sign-in presenting a valid device token *of that account* is counted against that device's
  own budget (``AUTH_RATE_DEVICE``, per account and nonce), not against the account's
  untrusted budget (``AUTH_RATE_ACCOUNT``) nor the address's (``AUTH_RATE_IP``): someone
  else's failures cannot lock it out, and its own failures lock out only that device;
* anything else (no token, a bad, expired or forged one, another account's) is an untrusted
  client: the address's and the account's untrusted budgets, as before.

Format: ``d1.<user id>.<nonce>.<issued at, unix s>.<signature>``, the signature being
base64url HMAC-SHA256 of everything before it, keyed by HMAC-SHA256(JWT secret,
:data:`KEY_LABEL`) so a device token is never a valid access token or the reverse. Nothing is
stored on the server: a token is valid while its signature checks and it is younger than
``AUTH_DEVICE_TTL``; the budget of a device lives in the rate limiter under its nonce.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass

VERSION = "d1"
KEY_LABEL = b"vmeste device token v1"
#: Longer strings are not looked at (a real token is about 90 characters).
MAX_LENGTH = 256
_TOKEN_RE = re.compile(
    r"d1\.([1-9][0-9]{0,17})\.([A-Za-z0-9_-]{22})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})"
)
#: Clocks of several processes may differ a little: a token "issued" this far ahead still counts.
CLOCK_SKEW = 300


@dataclass(frozen=True)
class Device:
    user_id: int
    nonce: str
    issued_at: int


def _key(jwt_key: str) -> bytes:
    return hmac.new(jwt_key.encode(), KEY_LABEL, hashlib.sha256).digest()


def _sign(jwt_key: str, payload: str) -> str:
    mac = hmac.new(_key(jwt_key), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def issue_device_token(jwt_key: str, user_id: int, *, now: float | None = None) -> str:
    """A new device token for ``user_id`` (a fresh nonce: a fresh budget)."""
    issued = int(now if now is not None else time.time())
    nonce = secrets.token_urlsafe(16)
    payload = f"{VERSION}.{user_id}.{nonce}.{issued}"
    return f"{payload}.{_sign(jwt_key, payload)}"


def read_device_token(
    jwt_key: str, token: object, *, ttl: int, now: float | None = None
) -> Device | None:
    """The device a token names, or None for anything not issued by us, or expired."""
    if not isinstance(token, str) or len(token) > MAX_LENGTH:
        return None
    match = _TOKEN_RE.fullmatch(token)
    if match is None:
        return None
    user_id, nonce, issued, signature = match.groups()
    expected = _sign(jwt_key, token[: -len(signature) - 1])
    if not hmac.compare_digest(expected, signature):
        return None
    at = int(now if now is not None else time.time())
    if not at - ttl < int(issued) <= at + CLOCK_SKEW:
        return None
    return Device(user_id=int(user_id), nonce=nonce, issued_at=int(issued))


def read_device_tokens(jwt_key: str, tokens: Iterable[object], *, ttl: int) -> list[Device]:
    """The devices of those ``tokens`` that are valid (whichever account they belong to)."""
    devices = (read_device_token(jwt_key, token, ttl=ttl) for token in tokens)
    return [device for device in devices if device is not None]
