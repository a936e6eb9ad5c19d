"""The wallet over HTTP: a purchase credited, a gift from one member to another, balances and
history as each of them sees them, on SQLite and PostgreSQL."""

from __future__ import annotations

import aiohttp

from composition import Server
from models.rooms import Room
from models.users import User
from models.wallet import Provider
from services.rooms.membership import do_create_room, do_join_room
from services.wallet.credit import do_credit, item_for
from tests.conftest import Account, register
from tests.webapp.helpers import assert_json_error, in_server


async def buy(server: Server, account: Account, pack_id: str, charge_id: str) -> bool:
    async def go() -> bool:
        item = item_for(pack_id)
        credit = await do_credit(
            server.services,
            provider=Provider.STARS,
            charge_id=charge_id,
            user_id=account.id,
            item=item,
            amount=item.stars,
            currency="XTR",
        )
        return credit.credited

    return await in_server(server, go)


async def room_with(server: Server, host: Account, *guests: Account) -> Room:
    async def go() -> Room:
        room = await do_create_room(server.services, acting_user=await User.get(id=host.id))
        for guest in guests:
            await do_join_room(server.services, room=room, acting_user=await User.get(id=guest.id))
        return room

    return await in_server(server, go)


async def test_gift_moves_coins_to_beans(db_server: Server) -> None:
    async with aiohttp.ClientSession(base_url=db_server.url) as http:
        anna = await register(http, "anna")
        boris = await register(http, "boris")
        room = await room_with(db_server, anna, boris)
        assert await buy(db_server, anna, "coins_100", "charge-1") is True
        assert await buy(db_server, anna, "coins_100", "charge-1") is False
        async with http.post(
            f"/api/rooms/{room.id}/gifts",
            json={"giftId": "diamond", "toUserId": boris.id, "key": "gift-key-0001"},
            headers=anna.headers,
        ) as response:
            body = await response.json()
            assert response.status == 201, body
        assert body["balance"] == {"coins": 50, "beans": 0}
        assert body["gift"]["gift"]["id"] == "diamond"
        # The same key again: the same gift, charged once.
        async with http.post(
            f"/api/rooms/{room.id}/gifts",
            json={"giftId": "diamond", "toUserId": boris.id, "key": "gift-key-0001"},
            headers=anna.headers,
        ) as response:
            again = await response.json()
            assert response.status == 201, again
        assert again["gift"]["id"] == body["gift"]["id"]
        assert again["balance"] == {"coins": 50, "beans": 0}
        async with http.post(
            f"/api/rooms/{room.id}/gifts",
            json={"giftId": "rocket", "toUserId": boris.id},
            headers=anna.headers,
        ) as response:
            await assert_json_error(response, 402, "insufficient_funds")
        async with http.get("/api/wallet", headers=boris.headers) as response:
            wallet = (await response.json())["wallet"]
            assert response.status == 200, wallet
        assert (wallet["coins"], wallet["beans"]) == (0, 25)
        assert wallet["history"][0]["kind"] == "gift_received"
        assert wallet["history"][0]["counterpart"]["id"] == anna.id
        assert wallet["received"] == [
            {"user": wallet["received"][0]["user"], "gift": "diamond", "count": 1, "beans": 25}
        ]
        async with http.get("/api/wallet", headers=anna.headers) as response:
            mine = (await response.json())["wallet"]
        assert [e["kind"] for e in mine["history"]] == ["gift_sent", "purchase"]
        assert [e["amount"] for e in mine["history"]] == [-50, 100]


async def test_payment_intents_are_rate_limited(make_server) -> None:
    """Each intent costs a Bot API call or a YooKassa payment: a user gets a few a minute."""
    server = await make_server(payment_intent_rate="2/minute")
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
        for _ in range(2):
            async with http.post(
                "/api/payments/create-intent",
                json={"packId": "coins_100", "provider": "yookassa"},
                headers=anna.headers,
            ) as response:
                # No YooKassa here: refused, but counted.
                await assert_json_error(response, 400, "validation_error", field="provider")
        async with http.post(
            "/api/payments/create-intent",
            json={"packId": "coins_100", "provider": "yookassa"},
            headers=anna.headers,
        ) as response:
            await assert_json_error(response, 429, "rate_limited")
            assert int(response.headers["Retry-After"]) >= 1
