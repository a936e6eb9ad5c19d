"""Device public keys for end-to-end encryption (seed 003: RSA-OAEP 2048 + AES-256-GCM).

Each device registers its RSA public key (SPKI, base64); registering again replaces it. The
keys of a user are shown to the people who share a chat with them, with a fingerprint (SHA-256
of the DER key) for safety numbers. The server never sees a private key and never looks into
an encrypted message (``services.messenger.messages`` stores it as sent).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
)

from models.messenger import DeviceKey
from models.users import User
from services.core import text
from services.core.context import Services
from services.core.errors import N_, Forbidden, NotFound, ValidationError
from services.messenger.access import USER_NOT_FOUND, check_id, shares_chat

#: RSA key sizes accepted (seed 003 uses 2048).
KEY_SIZES = frozenset({2048, 3072, 4096})
MAX_KEY_CHARS = 2048
#: A user's devices with a key at most; registering one more replaces the oldest.
MAX_DEVICES = 10
KEY_RATE = "10/minute;100/day"
BAD_KEY = N_("The public key must be an RSA key (2048-4096 bits) in SPKI, base64.")


def check_public_key(public_key: object) -> bytes:
    """The DER bytes of an RSA SPKI public key given in base64."""
    value = text.check(public_key, text.TOKEN, field="publicKey").strip()
    if not value or len(value) > MAX_KEY_CHARS:
        raise ValidationError(BAD_KEY, field="publicKey", reason="size")
    try:
        der = base64.b64decode(value, validate=True)
        key = load_der_public_key(der)
    except (binascii.Error, ValueError, TypeError):
        raise ValidationError(BAD_KEY, field="publicKey", reason="not SPKI base64") from None
    if not isinstance(key, RSAPublicKey) or key.key_size not in KEY_SIZES:
        raise ValidationError(BAD_KEY, field="publicKey", reason="not an RSA 2048-4096 key")
    # load_der_public_key also takes PKCS#1 and trailing bytes: only exact SPKI passes.
    if key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo) != der:
        raise ValidationError(BAD_KEY, field="publicKey", reason="not SPKI")
    return der


def check_device_id(device_id: object) -> str:
    value = text.check(device_id, text.TOKEN, field="deviceId")
    if not 1 <= len(value) <= 64:
        raise ValidationError(field="deviceId", reason="1-64 characters")
    return value


def key_payload(key: DeviceKey) -> dict[str, Any]:
    return {
        "deviceId": key.device_id,
        "publicKey": key.public_key,
        "fingerprint": key.fingerprint,
        "updatedAt": key.updated_at.isoformat(),
    }


async def do_register_key(
    services: Services, *, acting_user: User, device_id: object, public_key: object
) -> DeviceKey:
    """Store (or replace) this device's public key."""
    device = check_device_id(device_id)
    der = check_public_key(public_key)
    await services.limiter.hit_many(KEY_RATE, "device-key", str(acting_user.id))
    encoded = base64.b64encode(der).decode()
    fingerprint = hashlib.sha256(der).hexdigest()
    key = await DeviceKey.get_or_none(user_id=acting_user.id, device_id=device)
    if key is not None:
        key.public_key, key.fingerprint = encoded, fingerprint
        await key.save(update_fields=["public_key", "fingerprint", "updated_at"])
        return key
    others = await DeviceKey.filter(user_id=acting_user.id).order_by("-updated_at", "-id")
    stale = [k.id for k in others[MAX_DEVICES - 1 :]]
    if stale:
        await DeviceKey.filter(id__in=stale).delete()
    return await DeviceKey.create(
        user_id=acting_user.id, device_id=device, public_key=encoded, fingerprint=fingerprint
    )


async def get_keys(user: User, *, user_id: object) -> list[dict[str, Any]]:
    """Every device key of ``user_id``, for someone who shares a chat with them (or themself)."""
    check_id(user_id, field="userId")
    assert isinstance(user_id, int)
    if not await User.filter(id=user_id).exists():
        raise NotFound(USER_NOT_FOUND)
    if not await shares_chat(user.id, user_id):
        raise Forbidden(N_("You can see the keys of people you share a chat with."))
    keys = await DeviceKey.filter(user_id=user_id).order_by("-updated_at", "-id")
    return [key_payload(k) for k in keys]
