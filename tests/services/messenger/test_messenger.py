"""The messenger's rules without a transport: statuses from read and delivered marks, direct
chat keys, content, encryption and public key checks, presence bookkeeping in the store."""

from __future__ import annotations

import base64

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from composition import Server
from models.users import User
from services.core.errors import ValidationError
from services.messenger.chats import direct_key, do_create_chat
from services.messenger.keys import check_public_key
from services.messenger.messages import (
    MAX_ENCRYPTION_BYTES,
    MAX_TEXT_LENGTH,
    check_content,
    check_encryption,
)
from services.messenger.payloads import Marks, message_status
from services.messenger.presence import (
    do_connect,
    do_disconnect,
    do_go_offline_if_away,
    is_online,
)
from tests.conftest import REDIS_URL, ServerFactory, register
from tests.webapp.helpers import in_server


def test_status_is_read_when_someone_read_delivered_when_someone_has_it() -> None:
    sender = Marks(1, 10, 10)
    assert message_status(5, 1, [sender, Marks(2, 0, 0)], group=False) == ("sent", None)
    assert message_status(5, 1, [sender, Marks(2, 5, 0)], group=False) == ("delivered", None)
    assert message_status(5, 1, [sender, Marks(2, 9, 7)], group=False) == ("read", None)
    assert message_status(8, 1, [sender, Marks(2, 9, 7)], group=False) == ("delivered", None)
    group = [sender, Marks(2, 9, 9), Marks(3, 9, 4), Marks(4, 0, 0)]
    assert message_status(5, 1, group, group=True) == ("read", 1)
    assert message_status(4, 1, group, group=True) == ("read", 2)
    assert message_status(9, 1, group, group=True) == ("read", 1)
    assert message_status(10, 1, group, group=True) == ("sent", 0)
    # The sender's own marks never count.
    assert message_status(10, 1, [sender], group=True) == ("sent", 0)


def test_a_pair_has_one_direct_key_whoever_starts() -> None:
    assert direct_key(7, 3) == direct_key(3, 7) == "3:7"
    assert direct_key(1, 12) != direct_key(11, 2)


def test_content_plain_and_encrypted() -> None:
    assert check_content(" hi\r\nthere ", encrypted=False) == "hi\nthere"
    assert check_content("x" * MAX_TEXT_LENGTH, encrypted=False)
    for bad in ("", " \n ", "x" * (MAX_TEXT_LENGTH + 1), "a\x00", "a\ud800", 5):
        with pytest.raises(ValidationError):
            check_content(bad, encrypted=False)
    # Ciphertext is kept byte for byte (no trimming), base64's alphabet only.
    assert check_content("QUJD+/==", encrypted=True) == "QUJD+/=="
    for bad in ("", "не base64", "a b", "x" * 65537):
        with pytest.raises(ValidationError):
            check_content(bad, encrypted=True)


def test_encryption_is_opaque_but_bounded() -> None:
    envelope = {"iv": "x", "keys": {"d": "k"}, "anything": [1, {"nested": True}]}
    assert check_encryption(envelope, encrypted=True) is envelope
    assert check_encryption(None, encrypted=False) is None
    for bad in (None, {}, [], "keys", {"k": "x" * MAX_ENCRYPTION_BYTES}):
        with pytest.raises(ValidationError):
            check_encryption(bad, encrypted=True)
    with pytest.raises(ValidationError):
        check_encryption(envelope, encrypted=False)


def test_public_keys_are_rsa_spki() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert check_public_key(base64.b64encode(der).decode()) == der
    pkcs1 = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    for bad in (base64.b64encode(pkcs1).decode(), base64.b64encode(der).decode()[4:], "", "@@@"):
        with pytest.raises(ValidationError):
            check_public_key(bad)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def presence_server(request: pytest.FixtureRequest, make_server: ServerFactory) -> Server:
    extra = {"redis_url": REDIS_URL} if request.param == "redis" else {}
    return await make_server(member_grace_seconds=60, **extra)


async def test_presence_counts_a_user_once_and_waits_for_the_last_connection(
    presence_server: Server,
) -> None:
    server = presence_server
    services = server.services
    assert services is not None
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
        boris = await register(http, "boris")

    async def go() -> None:
        await do_create_chat(services, acting_user=await User.get(id=anna.id), user_id=boris.id)
        assert await do_connect(services, user_id=anna.id, conn_id="a") is True
        assert await do_connect(services, user_id=anna.id, conn_id="b") is False
        assert await is_online(services, anna.id)
        await do_disconnect(services, user_id=anna.id, conn_id="a")
        assert not services.scheduler.pending(f"msg-away:{anna.id}")
        await do_disconnect(services, user_id=anna.id, conn_id="b")
        assert services.scheduler.pending(f"msg-away:{anna.id}")
        assert await is_online(services, anna.id)  # inside the grace
        # Back inside the grace: the timer is off, nobody hears anything.
        assert await do_connect(services, user_id=anna.id, conn_id="c") is False
        assert not services.scheduler.pending(f"msg-away:{anna.id}")
        assert await do_go_offline_if_away(services, anna.id) is False  # still connected
        assert await is_online(services, anna.id)
        await do_disconnect(services, user_id=anna.id, conn_id="c")
        assert await do_go_offline_if_away(services, anna.id) is True
        assert not await is_online(services, anna.id)
        assert (await User.get(id=anna.id)).last_seen_at is not None
        assert await do_connect(services, user_id=anna.id, conn_id="d") is True

    await in_server(server, go)
