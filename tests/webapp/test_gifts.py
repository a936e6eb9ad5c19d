"""Gifts, leaderboards, history and withdrawals over HTTP, on SQLite and PostgreSQL: who gave
the most in a room and everywhere (by period), the wallet's history page by page and who gave
you what, and bean withdrawals held by the ledger."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from composition import Server
from models.rooms import Room
from models.users import User
from models.wallet import Gift, Provider
from services.rooms.membership import do_create_room, do_join_room
from services.wallet.credit import do_credit, item_for
from services.wallet.ledger import check_ledger
from tests.conftest import Account, register
from tests.webapp.helpers import assert_json_error, in_server

_charges = itertools.count(1)
_keys = itertools.count(1)


async def buy(server: Server, account: Account, pack_id: str) -> None:
    item = item_for(pack_id)
    credit = await server.run(
        do_credit(
            server.services,
            provider=Provider.STARS,
            charge_id=f"http-charge-{next(_charges)}",
            user_id=account.id,
            item=item,
            amount=item.stars,
            currency="XTR",
        )
    )
    assert credit.credited


async def room_with(server: Server, host: Account, *guests: Account) -> Room:
    async def go() -> Room:
        room = await do_create_room(server.services, acting_user=await User.get(id=host.id))
        for guest in guests:
            await do_join_room(server.services, room=room, acting_user=await User.get(id=guest.id))
        return room

    return await in_server(server, go)


async def give(
    http: aiohttp.ClientSession, room: Room, sender: Account, gift_id: str, to: Account
) -> dict[str, Any]:
    async with http.post(
        f"/api/rooms/{room.id}/gifts",
        json={"giftId": gift_id, "toUserId": to.id, "key": f"http-gift-{next(_keys):06d}"},
        headers=sender.headers,
    ) as response:
        body = await response.json()
        assert response.status == 201, body
    return body


async def get(http: aiohttp.ClientSession, path: str, who: Account) -> dict[str, Any]:
    async with http.get(path, headers=who.headers) as response:
        body = await response.json()
        assert response.status == 200, body
    return body


def rows(board: list[dict[str, Any]]) -> list[tuple[int, int, int, int]]:
    return [(r["user"]["id"], r["coins"], r["beans"], r["gifts"]) for r in board]


async def test_leaderboards_history_and_received(db_server: Server) -> None:
    server = db_server
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna, boris, carl, dora = [
            await register(http, n) for n in ("anna", "boris", "carl", "dora")
        ]
        room = await room_with(server, anna, boris, carl)
        elsewhere = await room_with(server, anna, dora)
        await buy(server, anna, "coins_500")  # 550
        await buy(server, boris, "coins_100")  # 100
        await buy(server, carl, "coins_1000")  # 1200

        await give(http, room, anna, "rocket", boris)  # 100 coins, 50 beans
        await give(http, room, anna, "rose", boris)  # 10, 5
        await give(http, room, anna, "rose", boris)
        await give(http, room, carl, "crown", anna)  # 200, 100
        await give(http, room, carl, "diamond", anna)  # 50, 25
        await give(http, room, boris, "heart", carl)  # 20, 10
        old = await give(http, elsewhere, anna, "rose", dora)

        async def age() -> None:  # ten days ago: in this month, not this week
            await Gift.filter(id=old["gift"]["id"]).update(
                created_at=datetime.now(UTC) - timedelta(days=10)
            )

        await in_server(server, age)

        board = (await get(http, f"/api/rooms/{room.id}/gifts/top", boris))["leaderboard"]
        assert rows(board["gifters"]) == [
            (carl.id, 250, 125, 2),
            (anna.id, 120, 60, 3),
            (boris.id, 20, 10, 1),
        ]
        assert rows(board["earners"]) == [
            (anna.id, 250, 125, 2),
            (boris.id, 120, 60, 3),
            (carl.id, 20, 10, 1),
        ]
        async with http.get(f"/api/rooms/{room.id}/gifts/top", headers=dora.headers) as response:
            await assert_json_error(response, 403, "forbidden")

        everywhere = {}
        for period in ("day", "week", "month", "all", None):
            query = "" if period is None else f"?period={period}"
            found = await get(http, f"/api/payments/leaderboard{query}", dora)
            everywhere[period] = found["leaderboard"]
        for recent in ("day", "week"):
            assert everywhere[recent] == board
        for long in ("month", "all", None):
            assert rows(everywhere[long]["gifters"]) == [
                (carl.id, 250, 125, 2),
                (anna.id, 130, 65, 4),
                (boris.id, 20, 10, 1),
            ]
            assert rows(everywhere[long]["earners"])[-1] == (dora.id, 10, 5, 1)
        async with http.get("/api/payments/leaderboard?period=year", headers=anna.headers) as r:
            await assert_json_error(r, 400, "validation_error", field="period")
        async with http.get("/api/payments/leaderboard") as response:
            await assert_json_error(response, 401, "unauthorized")

        # Anna's history, three at a time, newest first, nothing twice, nothing missed.
        whole = (await get(http, "/api/wallet?limit=100", anna))["wallet"]
        assert (whole["coins"], whole["beans"]) == (550 - 130, 125)
        history = whole["history"]
        assert [e["kind"] for e in history] == [
            "gift_sent",  # the rose to Dora
            "gift_received",
            "gift_received",
            "gift_sent",
            "gift_sent",
            "gift_sent",
            "purchase",
        ]
        assert sum(e["amount"] for e in history if e["currency"] == "coins") == whole["coins"]
        assert sum(e["amount"] for e in history if e["currency"] == "beans") == whole["beans"]
        assert history[0]["counterpart"]["id"] == dora.id
        assert history[0]["roomId"] == elsewhere.id
        assert (history[1]["gift"], history[1]["counterpart"]["id"]) == ("diamond", carl.id)
        pages: list[list[dict[str, Any]]] = []
        before = None
        while True:
            query = "?limit=3" + (f"&before={before}" if before is not None else "")
            page = (await get(http, f"/api/wallet{query}", anna))["wallet"]["history"]
            if not page:
                break
            pages.append(page)
            before = page[-1]["id"]
        assert [len(p) for p in pages] == [3, 3, 1]
        assert [e for p in pages for e in p] == history
        ids = [e["id"] for e in history]
        assert ids == sorted(ids, reverse=True)
        for bad in ("limit=0", "limit=101", "limit=ten", "before=-1", "before=x"):
            async with http.get(f"/api/wallet?{bad}", headers=anna.headers) as response:
                await assert_json_error(response, 400, "validation_error")

        assert [
            (r["user"]["id"], r["gift"], r["count"], r["beans"]) for r in whole["received"]
        ] == [(carl.id, "crown", 1, 100), (carl.id, "diamond", 1, 25)]
        theirs = (await get(http, "/api/wallet", boris))["wallet"]["received"]
        assert [(r["user"]["id"], r["gift"], r["count"], r["beans"]) for r in theirs] == [
            (anna.id, "rocket", 1, 50),
            (anna.id, "rose", 2, 10),
        ]
        assert await server.run(check_ledger()) == []


async def test_gift_key_reused_for_another_gift_is_a_conflict(db_server: Server) -> None:
    async with aiohttp.ClientSession(base_url=db_server.url) as http:
        anna, boris = await register(http, "anna"), await register(http, "boris")
        room = await room_with(db_server, anna, boris)
        await buy(db_server, anna, "coins_100")
        send = {"giftId": "rose", "toUserId": boris.id, "key": "reused-key-01"}
        async with http.post(
            f"/api/rooms/{room.id}/gifts", json=send, headers=anna.headers
        ) as response:
            assert response.status == 201, await response.text()
        async with http.post(
            f"/api/rooms/{room.id}/gifts", json={**send, "giftId": "heart"}, headers=anna.headers
        ) as response:
            await assert_json_error(response, 409, "conflict", field="key")
        wallet = (await get(http, "/api/wallet", anna))["wallet"]
        assert (wallet["coins"], len(wallet["history"])) == (90, 2)


async def test_withdrawals(db_server: Server) -> None:
    server = db_server
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna, boris = await register(http, "anna"), await register(http, "boris")
        room = await room_with(server, anna, boris)
        await buy(server, anna, "coins_5000")  # 7000
        await give(http, room, anna, "rainbow", boris)  # 1000 beans
        await give(http, room, anna, "fire", boris)  # 500 beans

        async def withdraw(who: Account, beans: Any) -> aiohttp.ClientResponse:
            return await http.post(
                "/api/wallet/withdrawals", json={"beans": beans}, headers=who.headers
            )

        for bad in (999, 0, -5, "1000", True, 1000.0):
            async with await withdraw(boris, bad) as response:
                await assert_json_error(response, 400, "validation_error")
        async with await withdraw(boris, 1501) as response:
            await assert_json_error(response, 402, "insufficient_funds")
        async with await withdraw(anna, 1000) as response:  # coins are not beans
            await assert_json_error(response, 402, "insufficient_funds")
        async with await withdraw(boris, 1200) as response:
            body = await response.json()
            assert response.status == 201, body
        assert body["balance"] == {"coins": 0, "beans": 300}
        assert (body["withdrawal"]["beans"], body["withdrawal"]["status"]) == (1200, "pending")

        listed = await get(http, "/api/wallet/withdrawals", boris)
        assert listed["minimum"] == 1000
        assert [(w["id"], w["beans"], w["status"]) for w in listed["withdrawals"]] == [
            (body["withdrawal"]["id"], 1200, "pending")
        ]
        assert (await get(http, "/api/wallet/withdrawals", anna))["withdrawals"] == []
        wallet = (await get(http, "/api/wallet", boris))["wallet"]
        assert (wallet["coins"], wallet["beans"]) == (0, 300)
        assert (wallet["history"][0]["kind"], wallet["history"][0]["amount"]) == (
            "withdrawal",
            -1200,
        )
        assert await server.run(check_ledger()) == []

        await give(http, room, anna, "rainbow", boris)  # 1300 beans

        async def ban() -> None:
            await User.filter(id=boris.id).update(banned_at=datetime.now(UTC))

        await in_server(server, ban)
        async with await withdraw(boris, 1000) as response:
            await assert_json_error(response, 403, "forbidden")
        wallet = (await get(http, "/api/wallet", boris))["wallet"]
        assert wallet["beans"] == 1300
        assert len((await get(http, "/api/wallet/withdrawals", boris))["withdrawals"]) == 1
