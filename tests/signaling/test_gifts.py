"""``gift:send`` over Socket.IO with real clients in a room: the ack with the sender's balance,
``gift:sent`` to every socket in the room, ``wallet:updated`` to the two people, one chat line
per combo, and every refusal leaving the books as they were (docs/wallet.md)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from composition import Server
from models.users import User
from models.wallet import Gift, Provider
from services.rooms.membership import do_join_room
from services.wallet import ledger
from services.wallet.credit import do_credit, item_for
from tests.conftest import Account, SioFactory, register
from tests.signaling.test_rooms import Recorder, connect, create_room, eventually, in_server, join

_charges = itertools.count(1)


async def buy(server: Server, account: Account, pack_id: str = "coins_100") -> None:
    item = item_for(pack_id)
    credit = await server.run(
        do_credit(
            server.services,
            provider=Provider.STARS,
            charge_id=f"sio-charge-{next(_charges)}",
            user_id=account.id,
            item=item,
            amount=item.stars,
            currency="XTR",
        )
    )
    assert credit.credited


async def balance(server: Server, account: Account) -> dict[str, int]:
    return await server.run(ledger.get_balance(account.id))


def gift_lines(rec: Recorder) -> list[dict[str, Any]]:
    return [m for m in rec.of("chat:message") if m["kind"] == "gift"]


@pytest.fixture
async def vera(http: aiohttp.ClientSession) -> Account:
    return await register(http, "vera")


@pytest.fixture
async def dora(http: aiohttp.ClientSession) -> Account:
    return await register(http, "dora")


async def test_a_gift_reaches_the_room_the_two_wallets_and_the_chat(
    server: Server, sio_client: SioFactory, anna: Account, boris: Account, vera: Account
) -> None:
    room = await create_room(server, anna)
    await buy(server, anna)
    host = await connect(sio_client, anna)
    await join(host, room)
    guest = await connect(sio_client, boris)
    await join(guest, room)
    other = await connect(sio_client, vera)
    await join(other, room)

    ack = await host.call(
        "gift:send",
        {"roomId": room.id, "giftId": "rose", "toUserId": boris.id, "key": "sio-gift-0001"},
    )
    assert ack["ok"] is True, ack
    assert ack["balance"] == {"coins": 90, "beans": 0}
    gift = ack["gift"]
    assert (gift["roomId"], gift["gift"]["id"], gift["combo"]) == (room.id, "rose", 1)
    assert (gift["from"]["id"], gift["to"]["id"]) == (anna.id, boris.id)
    assert (gift["gift"]["coins"], gift["gift"]["beans"], gift["gift"]["emoji"]) == (10, 5, "🌹")

    everyone = (host, guest, other)
    await eventually(lambda: all(len(r.of("gift:sent")) == 1 for r in everyone))
    for rec in everyone:
        assert rec.of("gift:sent") == [gift]
    await eventually(lambda: len(guest.of("wallet:updated")) == 1)
    assert guest.of("wallet:updated") == [{"coins": 0, "beans": 5}]
    await eventually(lambda: len(host.of("wallet:updated")) == 1)
    assert host.of("wallet:updated") == [{"coins": 90, "beans": 0}]

    await eventually(lambda: all(len(gift_lines(r)) == 1 for r in everyone))
    [line] = gift_lines(other)
    assert line["roomId"] == room.id
    assert line["user"] is None  # a system line
    data = line["data"]
    assert (data["userId"], data["name"]) == (anna.id, "anna")
    assert (data["toUserId"], data["toName"]) == (boris.id, "boris")
    assert (data["gift"], data["emoji"]) == ("rose", "🌹")
    assert line["text"] == "anna sent boris 🌹"

    # Again within 5 s: the animation counts up, the chat keeps its one line.
    again = await host.call(
        "gift:send",
        {"roomId": room.id, "giftId": "rose", "toUserId": boris.id, "key": "sio-gift-0002"},
    )
    assert again["ok"] is True, again
    assert again["gift"]["combo"] == 2
    assert again["gift"]["id"] != gift["id"]
    assert again["balance"] == {"coins": 80, "beans": 0}
    await eventually(lambda: all(len(r.of("gift:sent")) == 2 for r in everyone))
    assert [g["combo"] for g in other.of("gift:sent")] == [1, 2]
    await eventually(lambda: len(guest.of("wallet:updated")) == 2)
    assert guest.of("wallet:updated")[-1] == {"coins": 0, "beans": 10}
    await asyncio.sleep(0.3)
    assert [len(gift_lines(r)) for r in everyone] == [1, 1, 1]
    # Vera's wallet did not move and she was told nothing about one.
    assert other.of("wallet:updated") == []
    assert await balance(server, boris) == {"coins": 0, "beans": 10}
    assert await balance(server, vera) == {"coins": 0, "beans": 0}


async def test_a_retried_gift_send_is_answered_again_and_charged_once(
    server: Server, sio_client: SioFactory, anna: Account, boris: Account
) -> None:
    room = await create_room(server, anna)
    await buy(server, anna)
    host = await connect(sio_client, anna)
    await join(host, room)
    guest = await connect(sio_client, boris)
    await join(guest, room)
    send = {"roomId": room.id, "giftId": "heart", "toUserId": boris.id, "key": "sio-retry-001"}
    first = await host.call("gift:send", send)
    second = await host.call("gift:send", send)
    assert first["ok"] is True, first
    assert second["ok"] is True, second
    assert second["gift"]["id"] == first["gift"]["id"]
    assert second["balance"] == first["balance"] == {"coins": 80, "beans": 0}
    await asyncio.sleep(0.3)
    assert len(guest.of("gift:sent")) == 1
    other = await host.call("gift:send", {**send, "giftId": "rose"})
    assert other["ok"] is False, other
    assert other["error"]["code"] == "conflict", other
    assert await balance(server, anna) == {"coins": 80, "beans": 0}


async def _refused(rec: Recorder, data: dict[str, Any], code: str) -> dict[str, Any]:
    ack = await rec.call("gift:send", data)
    assert ack["ok"] is False, ack
    assert ack["error"]["code"] == code, ack
    return ack["error"]


async def test_gifts_that_are_refused_change_nothing(
    server: Server, sio_client: SioFactory, anna: Account, boris: Account, dora: Account
) -> None:
    room = await create_room(server, anna)
    await buy(server, anna)
    host = await connect(sio_client, anna)
    await join(host, room)
    guest = await connect(sio_client, boris)
    await join(guest, room)
    outsider = await connect(sio_client, dora)  # connected, never joined

    base = {"roomId": room.id, "giftId": "rose", "toUserId": boris.id}
    error = await _refused(host, {**base, "toUserId": anna.id}, "validation_error")
    assert error["details"]["field"] == "toUserId"
    error = await _refused(host, {**base, "toUserId": dora.id}, "validation_error")
    assert error["details"]["field"] == "toUserId"
    error = await _refused(host, {**base, "giftId": "tulip"}, "validation_error")
    assert error["details"]["field"] == "giftId"
    await _refused(host, {**base, "giftId": "crown"}, "insufficient_funds")  # 200 > 100
    await _refused(outsider, base, "forbidden")
    # Boris has no coins at all.
    await _refused(guest, {**base, "toUserId": anna.id}, "insufficient_funds")

    async def ban() -> None:
        await User.filter(id=anna.id).update(banned_at=datetime.now(UTC))

    await in_server(server, ban)
    await _refused(host, base, "forbidden")

    await asyncio.sleep(0.3)
    for rec in (host, guest, outsider):
        assert rec.of("gift:sent") == []
        assert rec.of("wallet:updated") == []
        assert gift_lines(rec) == []
    assert await balance(server, anna) == {"coins": 100, "beans": 0}
    assert await balance(server, boris) == {"coins": 0, "beans": 0}
    assert await in_server(server, lambda: Gift.all().count()) == 0
    assert await server.run(ledger.check_ledger()) == []


async def test_a_member_who_left_cannot_be_given_a_gift(
    server: Server, sio_client: SioFactory, anna: Account, boris: Account
) -> None:
    room = await create_room(server, anna)
    await buy(server, anna)
    host = await connect(sio_client, anna)
    await join(host, room)
    guest = await connect(sio_client, boris)
    await join(guest, room)
    left = await guest.call("room:leave", {"roomId": room.id})
    assert left["ok"] is True, left
    await _refused(
        host, {"roomId": room.id, "giftId": "rose", "toUserId": boris.id}, "validation_error"
    )
    assert await balance(server, anna) == {"coins": 100, "beans": 0}

    async def rejoin() -> None:
        await do_join_room(server.services, room=room, acting_user=await User.get(id=boris.id))

    await in_server(server, rejoin)
    ack = await host.call("gift:send", {"roomId": room.id, "giftId": "rose", "toUserId": boris.id})
    assert ack["ok"] is True, ack
