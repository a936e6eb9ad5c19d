"""Password hashing with argon2id, off the event loop (one hash costs ~100 ms here)."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import CHEAPEST, RFC_9106_LOW_MEMORY

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256

#: Verified against when the account does not exist, so a miss costs as much as a hit.
DUMMY_HASH_PASSWORD = "vmeste-dummy-password"

#: One dummy hash per set of hasher parameters. A cache of a pure function's result (the
#: parameters decide the cost); PasswordHasher has ``__slots__``, so it cannot carry it itself.
_dummy_hashes: dict[tuple[object, ...], str] = {}


def make_hasher(profile: str) -> PasswordHasher:
    """``fast`` is for tests only: the cheapest parameters argon2 accepts."""
    params = CHEAPEST if profile == "fast" else RFC_9106_LOW_MEMORY
    return PasswordHasher.from_parameters(params)


async def hash_password(hasher: PasswordHasher, password: str) -> str:
    return await asyncio.to_thread(hasher.hash, password)


async def dummy_hash(hasher: PasswordHasher) -> str:
    """A hash made with ``hasher``'s parameters, for checking passwords of missing accounts."""
    key = (
        hasher.type,
        hasher.time_cost,
        hasher.memory_cost,
        hasher.parallelism,
        hasher.hash_len,
        hasher.salt_len,
    )
    cached = _dummy_hashes.get(key)
    if cached is None:
        cached = _dummy_hashes[key] = await hash_password(hasher, DUMMY_HASH_PASSWORD)
    return cached


async def verify_password(hasher: PasswordHasher, password_hash: str | None, password: str) -> bool:
    """Check ``password``; with no hash (no such account, or no password set) do the same argon2
    work against a dummy hash and return False, so timing does not tell the cases apart."""
    if password_hash is None:
        await verify_password(hasher, await dummy_hash(hasher), password)
        return False

    def check() -> bool:
        try:
            return hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)
