"""Password hashing with argon2id, off the event loop (one hash costs ~100 ms here)."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import CHEAPEST, RFC_9106_LOW_MEMORY

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


def make_hasher(profile: str) -> PasswordHasher:
    """``fast`` is for tests only: the cheapest parameters argon2 accepts."""
    params = CHEAPEST if profile == "fast" else RFC_9106_LOW_MEMORY
    return PasswordHasher.from_parameters(params)


async def hash_password(hasher: PasswordHasher, password: str) -> str:
    return await asyncio.to_thread(hasher.hash, password)


async def verify_password(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    def check() -> bool:
        try:
            return hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


#: Verified against when the account does not exist, so a miss costs as much as a hit.
DUMMY_HASH_PASSWORD = "vmeste-dummy-password"
