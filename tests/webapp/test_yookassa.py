"""Coin packs for roubles through YooKassa, over HTTP against a real server and a fake YooKassa
API that the real SDK talks to (tests/fakes/yookassa.py): the payment created once per order,
webhooks that are only a hint (the API is asked again), credits exactly once, the order check
after the redirect back, an unconfigured server, an unreachable or slow API, and the secret key
kept out of logs and answers.

Tests taking ``yookassa_server`` / ``make_yookassa_server`` run on SQLite and PostgreSQL; the
others pin ``database_url`` to SQLite.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from typing import Any

import aiohttp
import pytest
from yookassa import Configuration

from composition import Server
from models.wallet import Payment, PaymentStatus
from services.wallet.ledger import check_ledger, get_balance
from tests.conftest import Account, ServerFactory, register
from tests.fakes.yookassa import FakeYooKassa
from tests.webapp.helpers import assert_json_error, in_server

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PACK = "coins_100"  # 100 coins, 99.00 RUB
PACK_COINS = 100


async def create_intent(
    http: aiohttp.ClientSession, account: Account, pack_id: str = PACK
) -> tuple[int, Any]:
    async with http.post(
        "/api/payments/create-intent",
        json={"packId": pack_id, "provider": "yookassa"},
        headers=account.headers,
    ) as response:
        return response.status, await response.json()


async def buy(http: aiohttp.ClientSession, account: Account, fake: FakeYooKassa) -> tuple[str, str]:
    """create-intent; returns (order id, YooKassa payment id)."""
    status, body = await create_intent(http, account)
    assert status == 200, body
    return body["orderId"], fake.payments_created[-1]["id"]


async def post_webhook(http: aiohttp.ClientSession, body: Any) -> tuple[int, Any]:
    async with http.post("/api/payments/yookassa/webhook", json=body) as response:
        text = await response.text()
        return response.status, json.loads(text) if text else None


async def get_order(
    http: aiohttp.ClientSession, account: Account, order_id: str
) -> tuple[int, Any]:
    async with http.get(f"/api/payments/orders/{order_id}", headers=account.headers) as response:
        return response.status, await response.json()


async def coins(server: Server, account: Account) -> int:
    return (await in_server(server, lambda: get_balance(account.id)))["coins"]


async def order_row(server: Server, order_id: str) -> Payment:
    return await in_server(server, lambda: Payment.get(order_id=order_id))


async def books_balance(server: Server) -> None:
    assert await in_server(server, check_ledger) == []


# --- creating a payment ---------------------------------------------------------------------


async def test_create_intent_makes_one_payment_at_yookassa(
    yookassa_server: Server, fake_yookassa: FakeYooKassa
) -> None:
    async with aiohttp.ClientSession(base_url=yookassa_server.url) as http:
        anna = await register(http, "anna")
        status, body = await create_intent(http, anna)
        assert status == 200, body
        assert body["provider"] == "yookassa"
        order_id = body["orderId"]
        assert len(order_id) == 32

        assert len(fake_yookassa.payments_created) == 1
        payment = fake_yookassa.payments_created[0]
        assert body["confirmationUrl"] == payment["confirmation"]["confirmation_url"]
        assert body["confirmationUrl"].startswith("https://yoomoney.ru/checkout/")
        posts = fake_yookassa.api_calls("POST", "/v3/payments")
        assert len(posts) == 1
        assert posts[0].headers["Idempotence-Key"] == order_id
        sent = posts[0].body
        assert sent["amount"] == {"value": "99.00", "currency": "RUB"}
        assert sent["capture"] is True
        assert sent["confirmation"]["type"] == "redirect"
        assert sent["confirmation"]["return_url"] == (
            f"https://vmeste.test/app/wallet?order={order_id}"
        )
        assert sent["metadata"]["order_id"] == order_id
        assert sent["metadata"]["user_id"] == str(anna.id)
        assert payment["metadata"]["order_id"] == order_id

        row = await order_row(yookassa_server, order_id)
        assert row.status == PaymentStatus.PENDING
        assert row.charge_id == payment["id"]
        assert row.amount == 9900
        assert row.currency == "RUB"
        assert row.coins == PACK_COINS
        assert await coins(yookassa_server, anna) == 0

        # The order, as its buyer sees it before paying: pending (the API was asked).
        status, seen = await get_order(http, anna, order_id)
        assert status == 200, seen
        assert seen["order"]["status"] == "pending"
        assert seen["order"]["coins"] == PACK_COINS
        assert fake_yookassa.api_calls("GET", f"/v3/payments/{payment['id']}")

        # A second intent is a second order and a second payment.
        status, other = await create_intent(http, anna, "coins_500")
        assert status == 200, other
        assert other["orderId"] != order_id
        assert len(fake_yookassa.payments_created) == 2
        assert fake_yookassa.payments_created[1]["amount"] == {"value": "449.00", "currency": "RUB"}


@sqlite_only
async def test_packs_show_roubles_when_configured(yookassa_server: Server) -> None:
    async with (
        aiohttp.ClientSession(base_url=yookassa_server.url) as http,
        http.get("/api/payments/packs") as response,
    ):
        body = await response.json()
        assert response.status == 200, body
    assert body["providers"] == ["stars", "yookassa"]
    assert {p["id"]: p["rub"] for p in body["packs"]}[PACK] == "99.00"


# --- webhooks -------------------------------------------------------------------------------


async def test_succeeded_webhook_credits_once(
    yookassa_server: Server, fake_yookassa: FakeYooKassa
) -> None:
    async with aiohttp.ClientSession(base_url=yookassa_server.url) as http:
        anna = await register(http, "anna")
        order_id, payment_id = await buy(http, anna, fake_yookassa)
        fake_yookassa.succeed(payment_id)
        notification = fake_yookassa.notification(payment_id, "payment.succeeded")

        status, body = await post_webhook(http, notification)
        assert status == 200, body
        assert await coins(yookassa_server, anna) == PACK_COINS
        row = await order_row(yookassa_server, order_id)
        assert row.status == PaymentStatus.SUCCEEDED
        assert row.paid_at is not None

        # YooKassa delivers again (and again): 200 every time, credited once.
        for _ in range(10):
            status, body = await post_webhook(http, notification)
            assert status == 200, body
        answers = await asyncio.gather(*(post_webhook(http, notification) for _ in range(10)))
        assert [a[0] for a in answers] == [200] * 10, answers
        assert await coins(yookassa_server, anna) == PACK_COINS

        status, seen = await get_order(http, anna, order_id)
        assert status == 200, seen
        assert seen["order"]["status"] == "succeeded"
        async with http.get("/api/wallet", headers=anna.headers) as response:
            wallet = (await response.json())["wallet"]
        assert [(e["kind"], e["amount"]) for e in wallet["history"]] == [("purchase", PACK_COINS)]
    await books_balance(yookassa_server)


async def test_concurrent_first_webhooks_credit_once(
    yookassa_server: Server, fake_yookassa: FakeYooKassa
) -> None:
    """Ten deliveries racing from the first: one credit (the order's conditional update)."""
    async with aiohttp.ClientSession(base_url=yookassa_server.url) as http:
        anna = await register(http, "anna")
        _, payment_id = await buy(http, anna, fake_yookassa)
        fake_yookassa.succeed(payment_id)
        notification = fake_yookassa.notification(payment_id)
        answers = await asyncio.gather(*(post_webhook(http, notification) for _ in range(10)))
        assert [a[0] for a in answers] == [200] * 10, answers
        assert await coins(yookassa_server, anna) == PACK_COINS
    await books_balance(yookassa_server)


async def test_forged_webhooks_credit_nothing(
    yookassa_server: Server, fake_yookassa: FakeYooKassa
) -> None:
    async with aiohttp.ClientSession(base_url=yookassa_server.url) as http:
        anna = await register(http, "anna")

        # The body says succeeded; the API says pending.
        order_id, payment_id = await buy(http, anna, fake_yookassa)
        forged = fake_yookassa.notification(
            payment_id, "payment.succeeded", status="succeeded", paid=True
        )
        status, body = await post_webhook(http, forged)
        assert status == 200, body
        assert await coins(yookassa_server, anna) == 0
        assert (await order_row(yookassa_server, order_id)).status == PaymentStatus.PENDING
        assert fake_yookassa.api_calls("GET", f"/v3/payments/{payment_id}")

        # A payment id nobody created: 200 (YooKassa should stop), nothing.
        status, body = await post_webhook(
            http,
            fake_yookassa.notification(
                "2419a771-000f-5000-9000-1edaf29243f2",
                "payment.succeeded",
                status="succeeded",
                paid=True,
                amount={"value": "99.00", "currency": "RUB"},
                metadata={"order_id": order_id},
            ),
        )
        assert status == 200, body
        assert await coins(yookassa_server, anna) == 0

        # Succeeded at the API, but for another amount: not credited.
        fake_yookassa.tamper(payment_id, amount={"value": "1.00", "currency": "RUB"})
        fake_yookassa.succeed(payment_id)
        status, body = await post_webhook(http, fake_yookassa.notification(payment_id))
        assert status == 200, body
        assert await coins(yookassa_server, anna) == 0
        assert (await order_row(yookassa_server, order_id)).status == PaymentStatus.PENDING

        # Succeeded with our amount, but another currency: not credited.
        fake_yookassa.tamper(payment_id, amount={"value": "99.00", "currency": "USD"})
        status, body = await post_webhook(http, fake_yookassa.notification(payment_id))
        assert status == 200, body
        assert await coins(yookassa_server, anna) == 0

        # Succeeded with our amount, but the API's metadata names another order.
        second_order, second_id = await buy(http, anna, fake_yookassa)
        fake_yookassa.succeed(second_id)
        fake_yookassa.tamper(second_id, metadata={"order_id": order_id})
        status, body = await post_webhook(http, fake_yookassa.notification(second_id))
        assert status == 200, body
        assert await coins(yookassa_server, anna) == 0
        assert (await order_row(yookassa_server, second_order)).status == PaymentStatus.PENDING

        # Paid but not captured (waiting_for_capture): not credited either.
        third_order, third_id = await buy(http, anna, fake_yookassa)
        fake_yookassa.wait_for_capture(third_id)
        status, body = await post_webhook(http, fake_yookassa.notification(third_id))
        assert status == 200, body
        assert await coins(yookassa_server, anna) == 0
        assert (await order_row(yookassa_server, third_order)).status == PaymentStatus.PENDING

        # Not a notification at all.
        async with http.post("/api/payments/yookassa/webhook", data=b"not json") as response:
            await assert_json_error(response, 400, "validation_error")
        for broken in (
            {"event": "payment.succeeded", "object": {}},
            {"event": "payment.succeeded", "object": "2419a771-000f-5000-9000-1edaf29243f2"},
            {"event": "payment.succeeded", "object": {"id": 12345}},
            [],
            "payment.succeeded",
        ):
            status, body = await post_webhook(http, broken)
            assert status == 400, (broken, body)
            assert body["error"]["code"] == "validation_error"
    await books_balance(yookassa_server)


async def test_canceled_payment_cancels_the_order(
    yookassa_server: Server, fake_yookassa: FakeYooKassa
) -> None:
    async with aiohttp.ClientSession(base_url=yookassa_server.url) as http:
        anna = await register(http, "anna")
        order_id, payment_id = await buy(http, anna, fake_yookassa)
        fake_yookassa.cancel(payment_id)
        status, body = await post_webhook(http, fake_yookassa.notification(payment_id))
        assert status == 200, body
        assert (await order_row(yookassa_server, order_id)).status == PaymentStatus.CANCELED
        status, seen = await get_order(http, anna, order_id)
        assert status == 200, seen
        assert seen["order"]["status"] == "canceled"
        # A forged success for the canceled order afterwards: still nothing.
        status, body = await post_webhook(
            http, fake_yookassa.notification(payment_id, status="succeeded", paid=True)
        )
        assert status == 200, body
        assert await coins(yookassa_server, anna) == 0
        assert (await order_row(yookassa_server, order_id)).status == PaymentStatus.CANCELED
    await books_balance(yookassa_server)


# --- the order check after the redirect back -------------------------------------------------


async def test_order_check_credits_a_paid_order_without_webhook(
    yookassa_server: Server, fake_yookassa: FakeYooKassa
) -> None:
    async with aiohttp.ClientSession(base_url=yookassa_server.url) as http:
        anna = await register(http, "anna")
        boris = await register(http, "boris")
        order_id, payment_id = await buy(http, anna, fake_yookassa)

        # Someone else's order does not exist for them (and is not settled by them).
        fake_yookassa.succeed(payment_id)
        status, body = await get_order(http, boris, order_id)
        assert status == 404, body
        assert body["error"]["code"] == "not_found"
        assert await coins(yookassa_server, anna) == 0
        status, body = await get_order(http, anna, "0" * 32)
        assert status == 404, body
        async with http.get("/api/payments/orders/not-an-order", headers=anna.headers) as response:
            await assert_json_error(response, 400, "validation_error", field="orderId")

        status, seen = await get_order(http, anna, order_id)
        assert status == 200, seen
        assert seen["order"]["status"] == "succeeded"
        assert seen["order"]["id"] == order_id
        assert await coins(yookassa_server, anna) == PACK_COINS

        # Asked again, and the late webhook arrives: still one credit, and no more API calls
        # for a settled order.
        gets = len(fake_yookassa.api_calls("GET"))
        status, seen = await get_order(http, anna, order_id)
        assert status == 200, seen
        assert seen["order"]["status"] == "succeeded"
        assert len(fake_yookassa.api_calls("GET")) == gets
        status, body = await post_webhook(http, fake_yookassa.notification(payment_id))
        assert status == 200, body
        assert await coins(yookassa_server, anna) == PACK_COINS

        # Racing order checks on a fresh paid order: one credit.
        second_order, second_id = await buy(http, anna, fake_yookassa)
        fake_yookassa.succeed(second_id)
        answers = await asyncio.gather(*(get_order(http, anna, second_order) for _ in range(6)))
        assert [a[0] for a in answers] == [200] * 6, answers
        assert {a[1]["order"]["status"] for a in answers} == {"succeeded"}
        assert await coins(yookassa_server, anna) == 2 * PACK_COINS
    await books_balance(yookassa_server)


# --- where webhooks may come from -------------------------------------------------------------


@sqlite_only
async def test_webhook_from_an_untrusted_address_is_refused(
    make_yookassa_server: ServerFactory, fake_yookassa: FakeYooKassa
) -> None:
    server = await make_yookassa_server(yookassa_check_ip=True)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
        order_id, payment_id = await buy(http, anna, fake_yookassa)
        fake_yookassa.succeed(payment_id)
        gets = len(fake_yookassa.api_calls("GET"))
        async with http.post(
            "/api/payments/yookassa/webhook", json=fake_yookassa.notification(payment_id)
        ) as response:
            await assert_json_error(response, 403, "forbidden")
        # A spoofed X-Forwarded-For does not help (no trusted proxies here).
        async with http.post(
            "/api/payments/yookassa/webhook",
            json=fake_yookassa.notification(payment_id),
            headers={"X-Forwarded-For": "185.71.76.1"},
        ) as response:
            await assert_json_error(response, 403, "forbidden")
        assert len(fake_yookassa.api_calls("GET")) == gets
        assert await coins(server, anna) == 0
        assert (await order_row(server, order_id)).status == PaymentStatus.PENDING


@sqlite_only
async def test_webhook_from_yookassa_behind_a_trusted_proxy_is_taken(
    make_yookassa_server: ServerFactory, fake_yookassa: FakeYooKassa
) -> None:
    server = await make_yookassa_server(yookassa_check_ip=True, trusted_proxies="127.0.0.1")
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
        _, payment_id = await buy(http, anna, fake_yookassa)
        fake_yookassa.succeed(payment_id)
        notification = fake_yookassa.notification(payment_id)
        async with http.post(
            "/api/payments/yookassa/webhook",
            json=notification,
            headers={"X-Forwarded-For": "203.0.113.7"},
        ) as response:
            await assert_json_error(response, 403, "forbidden")
        assert await coins(server, anna) == 0
        async with http.post(
            "/api/payments/yookassa/webhook",
            json=notification,
            headers={"X-Forwarded-For": "185.71.76.1"},
        ) as response:
            assert response.status == 200, await response.text()
        assert await coins(server, anna) == PACK_COINS
        # The same address as a dual-stack socket reports it; and IPv6 from YooKassa's range.
        for address in ("::ffff:185.71.76.1", "2a02:5180:0:1509::1"):
            async with http.post(
                "/api/payments/yookassa/webhook",
                json=notification,
                headers={"X-Forwarded-For": address},
            ) as response:
                assert response.status == 200, await response.text()
        assert await coins(server, anna) == PACK_COINS


# --- not configured -----------------------------------------------------------------------------


async def test_not_configured_offers_stars_only(
    make_server: ServerFactory, fake_yookassa: FakeYooKassa
) -> None:
    server = await make_server(yookassa_api_url=fake_yookassa.url)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
        async with http.get("/api/payments/packs") as response:
            packs = await response.json()
            assert response.status == 200, packs
        assert packs["providers"] == ["stars"]
        assert packs["packs"]
        assert all(p["rub"] is None for p in packs["packs"])

        async with http.post(
            "/api/payments/create-intent",
            json={"packId": PACK, "provider": "yookassa"},
            headers=anna.headers,
        ) as response:
            error = await assert_json_error(response, 400, "validation_error", field="provider")
        assert "Stars" in error["message"]

        async with http.post("/api/payments/yookassa/webhook", json={"object": {}}) as response:
            await assert_json_error(response, 404, "not_found")
        assert await in_server(server, lambda: Payment.all().count()) == 0
    assert fake_yookassa.calls == []


async def test_shop_id_without_secret_is_not_configured(make_server: ServerFactory) -> None:
    server = await make_server(yookassa_shop_id="123456")
    async with (
        aiohttp.ClientSession(base_url=server.url) as http,
        http.get("/api/payments/packs") as response,
    ):
        assert (await response.json())["providers"] == ["stars"]


# --- YooKassa down, slow or refusing ------------------------------------------------------------


@sqlite_only
async def test_slow_yookassa_is_a_503_within_the_timeout(
    make_yookassa_server: ServerFactory, fake_yookassa: FakeYooKassa
) -> None:
    timeout = 0.5
    server = await make_yookassa_server(yookassa_timeout=timeout)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
        fake_yookassa.delay = 4
        started = time.monotonic()
        async with http.post(
            "/api/payments/create-intent",
            json={"packId": PACK, "provider": "yookassa"},
            headers=anna.headers,
        ) as response:
            await assert_json_error(response, 503, "unavailable")
        # Well before the fake's answer (a margin for a busy machine: the order row is
        # written before the call).
        assert time.monotonic() - started < timeout + 2.0
        orders = await in_server(server, lambda: Payment.all())
        assert len(orders) == 1
        assert orders[0].status == PaymentStatus.PENDING
        assert orders[0].charge_id is None
        assert await coins(server, anna) == 0
        assert len(fake_yookassa.api_calls("POST", "/v3/payments")) == 1
        # The SDK's request was given up too (a real timeout, not a thread blocked for ever).
        await asyncio.sleep(fake_yookassa.delay + 0.3)
        assert len(fake_yookassa.abandoned) == 1


@sqlite_only
async def test_a_payment_made_after_the_timeout_is_credited_by_its_webhook(
    make_yookassa_server: ServerFactory, fake_yookassa: FakeYooKassa
) -> None:
    """The create timed out, but YooKassa made the payment and the buyer paid: the webhook
    finds the order by the metadata the API confirms."""
    # The timeout holds for every call of this server: long enough for a webhook's look-up on
    # a busy machine, short of the slow create.
    server = await make_yookassa_server(yookassa_timeout=1.5)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
        boris = await register(http, "boris")
        fake_yookassa.delay = 2.5
        status, body = await create_intent(http, anna)
        assert status == 503, body
        for _ in range(100):
            if fake_yookassa.payments_created:
                break
            await asyncio.sleep(0.05)
        fake_yookassa.delay = 0
        payment = fake_yookassa.payments_created[0]
        order_id = payment["metadata"]["order_id"]
        fake_yookassa.succeed(payment["id"])

        # Metadata is the body's claim: an order the API does not confirm is not touched.
        _, other_payment = await buy(http, boris, fake_yookassa)
        fake_yookassa.succeed(other_payment)
        forged = fake_yookassa.notification(other_payment, metadata={"order_id": order_id})
        # (the forged body names boris's payment, settled as boris's order, not anna's)
        status, body = await post_webhook(http, forged)
        assert status == 200, body
        assert await coins(server, anna) == 0
        assert await coins(server, boris) == PACK_COINS
        # A succeeded payment of the shop that is not this order's, claiming it in the body.
        stranger = fake_yookassa.add_payment(metadata={"order_id": "f" * 32})
        forged = fake_yookassa.notification(stranger["id"], metadata={"order_id": order_id})
        status, body = await post_webhook(http, forged)
        assert status == 200, body
        # A payment id YooKassa does not know, claiming it: 200 (nothing to retry), nothing.
        forged = fake_yookassa.notification(
            "2419a771-000f-5000-9000-1edaf29243f2",
            status="succeeded",
            paid=True,
            amount={"value": "99.00", "currency": "RUB"},
            metadata={"order_id": order_id},
        )
        status, body = await post_webhook(http, forged)
        assert status == 200, body
        assert await coins(server, anna) == 0
        row = await order_row(server, order_id)
        assert row.status == PaymentStatus.PENDING
        assert row.charge_id is None

        status, body = await post_webhook(http, fake_yookassa.notification(payment["id"]))
        assert status == 200, body
        assert await coins(server, anna) == PACK_COINS
        row = await order_row(server, order_id)
        assert row.status == PaymentStatus.SUCCEEDED
        assert row.charge_id == payment["id"]
        status, body = await post_webhook(http, fake_yookassa.notification(payment["id"]))
        assert status == 200, body
        assert await coins(server, anna) == PACK_COINS
    await books_balance(server)


@sqlite_only
async def test_two_shops_in_one_process_keep_their_own_credentials(
    make_yookassa_server: ServerFactory,
    fake_yookassa: FakeYooKassa,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The SDK's Configuration is one global of the process: servers configured differently
    and paying at the same time must each reach their own API with their own key."""
    monkeypatch.setattr(Configuration, "account_id", None)
    monkeypatch.setattr(Configuration, "secret_key", None)
    async with FakeYooKassa(shop_id="654321") as other_fake:
        first = await make_yookassa_server()
        second = await make_yookassa_server(
            database_url=f"sqlite://{tmp_path}/second.sqlite3",
            yookassa_shop_id=other_fake.shop_id,
            yookassa_secret_key=other_fake.secret_key,
            yookassa_api_url=other_fake.url,
        )
        async with (
            aiohttp.ClientSession(base_url=first.url) as one,
            aiohttp.ClientSession(base_url=second.url) as two,
        ):
            anna = await register(one, "anna")
            boris = await register(two, "boris")
            answers = await asyncio.gather(
                *(create_intent(one, anna) for _ in range(8)),
                *(create_intent(two, boris) for _ in range(8)),
            )
        assert [a[0] for a in answers] == [200] * 16, answers
        assert len(fake_yookassa.payments_created) == 8
        assert len(other_fake.payments_created) == 8
        assert {p["metadata"]["user_id"] for p in fake_yookassa.payments_created} == {str(anna.id)}
        assert {p["metadata"]["user_id"] for p in other_fake.payments_created} == {str(boris.id)}
    # Neither shop's key was left in the SDK's process-wide Configuration.
    assert Configuration.secret_key is None
    assert Configuration.account_id is None


@sqlite_only
async def test_unreachable_yookassa_is_a_503(make_yookassa_server: ServerFactory) -> None:
    server = await make_yookassa_server(yookassa_api_url="http://127.0.0.1:9/v3")
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
        status, body = await create_intent(http, anna)
        assert status == 503, body
        assert body["error"]["code"] == "unavailable"
        assert await coins(server, anna) == 0


async def test_webhook_with_the_api_down_is_a_503_so_yookassa_retries(
    yookassa_server: Server, fake_yookassa: FakeYooKassa
) -> None:
    async with aiohttp.ClientSession(base_url=yookassa_server.url) as http:
        anna = await register(http, "anna")
        order_id, payment_id = await buy(http, anna, fake_yookassa)
        fake_yookassa.succeed(payment_id)
        notification = fake_yookassa.notification(payment_id)
        fake_yookassa.fail_status = 500
        async with http.post("/api/payments/yookassa/webhook", json=notification) as response:
            await assert_json_error(response, 503, "unavailable")
        assert await coins(yookassa_server, anna) == 0
        assert (await order_row(yookassa_server, order_id)).status == PaymentStatus.PENDING
        # The buyer's order check meanwhile: still pending, not an error.
        status, seen = await get_order(http, anna, order_id)
        assert status == 200, seen
        assert seen["order"]["status"] == "pending"
        # YooKassa retries once the API is back: credited.
        fake_yookassa.fail_status = None
        status, body = await post_webhook(http, notification)
        assert status == 200, body
        assert await coins(yookassa_server, anna) == PACK_COINS
    await books_balance(yookassa_server)


# --- the secret key -----------------------------------------------------------------------------


@sqlite_only
async def test_the_secret_key_is_never_logged_or_answered(
    make_yookassa_server: ServerFactory,
    fake_yookassa: FakeYooKassa,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = fake_yookassa.secret_key
    answers: list[str] = []
    # Long enough for the calls that must succeed on a busy machine, short of the slow one.
    server = await make_yookassa_server(yookassa_timeout=1.5)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
        status, body = await create_intent(http, anna)
        answers.append(json.dumps(body))
        assert status == 200, body
        payment_id = fake_yookassa.payments_created[0]["id"]
        fake_yookassa.succeed(payment_id)
        status, body = await post_webhook(http, fake_yookassa.notification(payment_id))
        answers.append(json.dumps(body))
        assert status == 200, body
        assert await coins(server, anna) == PACK_COINS
        # Failures (where a careless log line would print the request) answer 503.
        for fail in ({"fail_status": 500}, {"delay": 3.0}):
            for name, value in fail.items():
                setattr(fake_yookassa, name, value)
            status, body = await create_intent(http, anna)
            answers.append(json.dumps(body))
            assert status == 503, body
            fake_yookassa.fail_status, fake_yookassa.delay = None, 0
        for path in ("/api/payments/packs", "/api/wallet", "/api/health"):
            async with http.get(path, headers=anna.headers) as response:
                answers.append(await response.text())

    # The secret was used: the fake checked it on every call.
    assert fake_yookassa.calls
    assert all(c.headers["Authorization"].startswith("Basic ") for c in fake_yookassa.calls)
    assert caplog.records
    assert secret not in caplog.text
    for record in caplog.records:
        assert secret not in record.getMessage()
        assert secret not in repr(record.args)
    for answer in answers:
        assert secret not in answer


@sqlite_only
async def test_wrong_credentials_are_a_503_without_the_key(
    make_yookassa_server: ServerFactory,
    fake_yookassa: FakeYooKassa,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "test_wrong-secret-key-0123456789"
    server = await make_yookassa_server(yookassa_secret_key=wrong)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
        status, body = await create_intent(http, anna)
        assert status == 503, body
        assert body["error"]["code"] == "unavailable"
        assert wrong not in json.dumps(body)
    assert wrong not in caplog.text


# --- the fake itself ------------------------------------------------------------------------------


def basic(login: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{login}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def test_fake_honours_idempotence_and_auth_like_yookassa(fake_yookassa: FakeYooKassa) -> None:
    request = {
        "amount": {"value": "99.00", "currency": "RUB"},
        "capture": True,
        "confirmation": {"type": "redirect", "return_url": "https://vmeste.test/app/wallet"},
        "metadata": {"order_id": "a" * 32},
    }
    auth = basic(fake_yookassa.shop_id, fake_yookassa.secret_key)
    async with aiohttp.ClientSession() as http:
        url = fake_yookassa.url + "/payments"
        async with http.post(url, json=request, headers={**auth, "Idempotence-Key": "k1"}) as r:
            first = await r.json()
            assert r.status == 200, first
        async with http.post(url, json=request, headers={**auth, "Idempotence-Key": "k1"}) as r:
            again = await r.json()
            assert r.status == 200, again
        assert again["id"] == first["id"]
        assert len(fake_yookassa.payments_created) == 1
        other = {**request, "amount": {"value": "1.00", "currency": "RUB"}}
        async with http.post(url, json=other, headers={**auth, "Idempotence-Key": "k1"}) as r:
            error = await r.json()
            assert r.status == 400, error
            assert error["type"] == "error"
            assert error["code"] == "invalid_request"
        async with http.post(url, json=request, headers=auth) as r:
            assert r.status == 400
            assert (await r.json())["parameter"] == "Idempotence-Key"
        bad = basic(fake_yookassa.shop_id, "wrong")
        async with http.post(url, json=request, headers={**bad, "Idempotence-Key": "k2"}) as r:
            error = await r.json()
            assert r.status == 401, error
            assert error["code"] == "invalid_credentials"
        for broken in (
            {**request, "amount": {"value": "99", "currency": "EUR"}},
            {**request, "amount": {"value": 99, "currency": "RUB"}},
            {**request, "confirmation": {"type": "redirect"}},
            {**request, "capture": "yes"},
        ):
            async with http.post(
                url, json=broken, headers={**auth, "Idempotence-Key": json.dumps(broken)[:60]}
            ) as r:
                assert r.status == 400, await r.text()
        async with http.get(f"{url}/{first['id']}", headers=auth) as r:
            assert (await r.json())["status"] == "pending"
        async with http.get(f"{url}/nope", headers=auth) as r:
            assert r.status == 404
            assert (await r.json())["code"] == "not_found"
    assert len(fake_yookassa.payments_created) == 1

    # The real SDK parses its answers.
    from yookassa.domain.response import PaymentResponse

    fake_yookassa.succeed(first["id"])
    parsed = PaymentResponse(fake_yookassa.payments[first["id"]])
    assert parsed.status == "succeeded"
    assert parsed.paid is True
    assert str(parsed.amount.value) == "99.00"
