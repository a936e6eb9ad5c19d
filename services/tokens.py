"""JWT access tokens: HS256 only, ``sub`` is the user id as a string, ``exp`` and ``iat`` required."""

from __future__ import annotations

import time

import jwt

from services.errors import Unauthorized

ALGORITHM = "HS256"


def issue_access_token(key: str, user_id: int, *, ttl: int, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims = {"sub": str(user_id), "iat": issued, "exp": issued + ttl, "typ": "access"}
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def decode_access_token(key: str, token: str) -> int:
    """Return the user id, or raise :class:`Unauthorized` for any bad, expired or foreign token."""
    if not token or len(token) > 4096:
        raise Unauthorized()
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Your session has expired. Sign in again.") from None
    except jwt.PyJWTError:
        raise Unauthorized() from None
    if claims.get("typ") != "access" or not str(claims["sub"]).isdigit():
        raise Unauthorized()
    return int(claims["sub"])
