"""JWT access tokens: HS256 only; ``exp``, ``iat`` and ``sub`` (the user id, a string) required."""

from __future__ import annotations

import re
import time

import jwt

from services.core import text
from services.core.contract import MAX_ID
from services.core.errors import Unauthorized

ALGORITHM = "HS256"
#: ASCII digits only: str.isdigit() also accepts "²", which int() then refuses.
_SUB_RE = re.compile(r"[1-9][0-9]{0,17}")


def issue_access_token(key: str, user_id: int, *, ttl: int, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims = {"sub": str(user_id), "iat": issued, "exp": issued + ttl, "typ": "access"}
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def decode_access_token(key: str, token: str) -> int:
    """Return the user id, or raise :class:`Unauthorized` for any bad, expired or foreign token."""
    # Printable ASCII only (a JWT is base64url and dots): undecodable header bytes arrive as
    # lone surrogates, which PyJWT cannot even encode.
    if not token or text.problem(token, text.TOKEN) is not None:
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
    sub = claims["sub"]
    if claims.get("typ") != "access" or not isinstance(sub, str) or not _SUB_RE.fullmatch(sub):
        raise Unauthorized()
    if int(sub) > MAX_ID:  # signed by us but no user can have it: not a database error
        raise Unauthorized()
    return int(sub)
