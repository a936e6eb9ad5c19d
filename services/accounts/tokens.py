"""JWT access tokens: HS256 only; ``exp``, ``iat`` and ``sub`` (the user id, a string) required.

``ver`` is the user's token version when the token was issued (``User.token_version``): signing
out everywhere bumps the version, and every token carrying an older one is refused. A token
without ``ver`` (issued before it existed) counts as version 0.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import jwt

from services.core import text
from services.core.contract import MAX_ID
from services.core.errors import Unauthorized

ALGORITHM = "HS256"
#: ASCII digits only: str.isdigit() also accepts "²", which int() then refuses.
_SUB_RE = re.compile(r"[1-9][0-9]{0,17}")


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    #: The user's token version the token was issued at.
    version: int
    #: When the token expires, seconds since the epoch.
    expires_at: int


def issue_access_token(
    key: str, user_id: int, *, ttl: int, version: int = 0, now: float | None = None
) -> str:
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": str(user_id),
        "iat": issued,
        "exp": issued + ttl,
        "typ": "access",
        "ver": version,
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def decode_access_claims(key: str, token: str) -> AccessClaims:
    """The token's claims, or :class:`Unauthorized` for any bad, expired or foreign token."""
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
    version, exp = claims.get("ver", 0), claims["exp"]
    # bool is an int: refuse it (and floats, strings) as a version.
    if type(version) is not int or version < 0 or not isinstance(exp, int | float):
        raise Unauthorized()
    return AccessClaims(user_id=int(sub), version=version, expires_at=int(exp))


def decode_access_token(key: str, token: str) -> int:
    """Return the user id, or raise :class:`Unauthorized` for any bad, expired or foreign token."""
    return decode_access_claims(key, token).user_id
