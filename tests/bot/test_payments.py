"""Telegram Stars end to end: /buy → invoice → pre-checkout → successful_payment → coins, once;
refunds, premium subscriptions and the reconciliation against getStarTransactions.

The real app runs against the fake Bot API; assertions are on what the user sees (the Bot API
calls the bot made) and on the database, read inside the server's ORM context.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from tortoise.transactions import in_transaction

from bot.payments import RECONCILED_KEY, reconcile
from composition import Server
from models.users import User
from models.wallet import Currency, EntryKind, Payment, PaymentStatus, Subscription
from services.wallet import ledger
from services.wallet.catalogue import PACKS, PACKS_BY_ID, PREMIUM_STARS, SUBSCRIPTION_PERIOD
from services.wallet.ledger import Move
from tests.bot.conftest import (
    APP_URL,
    buttons,
    only_send,
    sends,
    shown_text,
    start_bot_server,
    telegram_users,
)
from tests.conftest import (
    POSTGRES_ADMIN_URL,
    WORKER,
    ServerFactory,
    asyncpg_dsn,
    ensure_postgres_database,
)
from tests.fakes.botapi import Call, FakeBotAPI

ADMIN = 999
BUYER = 111
SECRET = "s3cret"
PACK = PACKS_BY_ID["coins_500"]  # 500 + 50 bonus for 250 Stars
WALLET_URL = APP_URL + "/wallet"

EN_UNKNOWN = "This item is no longer sold. Open /buy again."
RU_UNKNOWN = "Этот товар больше не продаётся. Откройте /buy ещё раз."
EN_PRICE = "The price has changed. Open /buy again for the new one."
RU_PRICE = "Цена изменилась. Откройте /buy ещё раз, чтобы увидеть новую."
EN_BANNED = "Purchases are not available for your account."
RU_BANNED = "Покупки недоступны для вашего аккаунта."
EN_THANKS = "Thank you! {coins} coins added. Balance: {balance} coins."
RU_THANKS = "Спасибо! Начислено монет: {coins}. Баланс: {balance} монет."
EN_FORBIDDEN = "You are not allowed to do that."


@pytest.fixture
async def shop(fake_api: FakeBotAPI, make_server: ServerFactory) -> Server:
    """Polling mode, with ADMIN as the one admin."""
    return await start_bot_server(make_server, fake_api, admin_ids=str(ADMIN))


# --------------------------------------------------------------------------- helpers


async def eventually(condition: Callable[[], Any], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def our_user(server: Server, telegram_id: int = BUYER) -> User:
    (user,) = await telegram_users(server, telegram_id)
    return user


async def coins_of(server: Server, telegram_id: int = BUYER) -> int:
    user = await our_user(server, telegram_id)
    return (await server.run(ledger.get_balance(user.id)))["coins"]


async def books_balance(server: Server) -> None:
    assert await server.run(ledger.check_ledger()) == []


async def payments(server: Server) -> list[Payment]:
    async def query() -> list[Payment]:
        return await Payment.all().order_by("id")

    return await server.run(query())


def thanks(fake_api: FakeBotAPI, chat_id: int = BUYER) -> list[Call]:
    return [
        c
        for c in sends(fake_api.calls)
        if c.params.get("chat_id") == chat_id and shown_text(c).startswith(("Thank", "Спасибо"))
    ]


def credited_before(caplog: pytest.LogCaptureFixture) -> int:
    return sum("was credited before" in r.getMessage() for r in caplog.records)


def pay_update(
    fake_api: FakeBotAPI,
    charge_id: str,
    *,
    payload: str = f"coins:{PACK.id}",
    amount: int = PACK.stars,
    user_id: int = BUYER,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return fake_api.successful_payment_update(
        payload, amount, charge_id, user_id=user_id, extra=extra
    )


async def checkout(
    fake_api: FakeBotAPI, payload: str, total: int, currency: str = "XTR", **kw: Any
) -> Call:
    update = fake_api.pre_checkout_update(payload, total, currency, **kw)
    query_id = update["pre_checkout_query"]["id"]
    start = len(fake_api.calls)
    fake_api.push_update(update)
    return await fake_api.wait_for(
        "answerPreCheckoutQuery",
        lambda c: str(c.params.get("pre_checkout_query_id")) == query_id,
        since=start,
    )


async def buy(server: Server, fake_api: FakeBotAPI, charge_id: str, **kw: Any) -> None:
    """A delivered purchase of PACK, thanked."""
    before = len(thanks(fake_api, kw.get("user_id", BUYER)))
    fake_api.push_update(pay_update(fake_api, charge_id, **kw))
    await eventually(lambda: len(thanks(fake_api, kw.get("user_id", BUYER))) > before)


async def spend(server: Server, telegram_id: int, coins: int) -> None:
    user = await our_user(server, telegram_id)

    async def debit() -> None:
        async with in_transaction():
            await ledger.apply(
                [Move(user.id, Currency.COINS, -coins, EntryKind.GIFT_SENT, f"test-spend:{coins}")]
            )

    await server.run(debit())


# --------------------------------------------------------------------------- /buy and invoices


async def test_buy_lists_packs_and_sends_a_stars_invoice(
    shop: Server, fake_api: FakeBotAPI
) -> None:
    reply = only_send(await fake_api.say("/buy"))

    text = shown_text(reply)
    assert "500 coins + 50 bonus — 250 ⭐" in text
    assert "100 coins — 50 ⭐" in text
    assert [b["callback_data"] for b in buttons(reply)] == [f"buy:{p.id}" for p in PACKS]

    calls = await fake_api.press(f"buy:{PACK.id}")

    (invoice,) = [c for c in calls if c.method == "sendInvoice"]
    assert invoice.ok, str(invoice)
    params = invoice.params
    assert params["chat_id"] == BUYER
    assert params["currency"] == "XTR"
    assert not params.get("provider_token")
    assert params["payload"] == "coins:coins_500"
    assert params["prices"] == [{"label": "500 coins + 50 bonus", "amount": PACK.stars}]
    assert params["title"] == "500 coins + 50 bonus"
    assert params["description"] == "Coins for gifts in Vmeste watch rooms and streams."


async def test_buy_in_russian(shop: Server, fake_api: FakeBotAPI) -> None:
    reply = only_send(await fake_api.say("/buy", user_id=222, language_code="ru"))
    assert shown_text(reply).startswith("Монеты для подарков")
    assert "500 монет + 50 бонусом — 250 ⭐" in shown_text(reply)

    calls = await fake_api.press(f"buy:{PACK.id}", user_id=222)
    (invoice,) = [c for c in calls if c.method == "sendInvoice"]
    assert invoice.params["title"] == "500 монет + 50 бонусом"
    assert invoice.params["description"] == "Монеты для подарков в комнатах и трансляциях Vmeste."


async def test_unknown_pack_button_is_an_alert_and_no_invoice(
    shop: Server, fake_api: FakeBotAPI
) -> None:
    calls = await fake_api.press("buy:coins_999")
    assert not [c for c in calls if c.method == "sendInvoice"]
    (answer,) = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answer.params["show_alert"] is True
    assert answer.params["text"] == "There is no such coin pack."


# --------------------------------------------------------------------------- pre-checkout


async def test_valid_checkout_is_accepted(shop: Server, fake_api: FakeBotAPI) -> None:
    answer = await checkout(fake_api, f"coins:{PACK.id}", PACK.stars)
    assert answer.params["ok"] is True
    assert "error_message" not in answer.params


@pytest.mark.parametrize(
    ("payload", "total", "currency", "en", "ru"),
    [
        ("coins:coins_999", 250, "XTR", EN_UNKNOWN, RU_UNKNOWN),
        ("something-else", 250, "XTR", EN_UNKNOWN, RU_UNKNOWN),
        (f"coins:{PACK.id}", PACK.stars - 1, "XTR", EN_PRICE, RU_PRICE),
        (f"coins:{PACK.id}", PACK.stars, "USD", EN_PRICE, RU_PRICE),
    ],
    ids=["unknown-pack", "not-our-payload", "wrong-price", "wrong-currency"],
)
async def test_bad_checkout_is_refused_with_a_reason(
    shop: Server, fake_api: FakeBotAPI, payload: str, total: int, currency: str, en: str, ru: str
) -> None:
    answer = await checkout(fake_api, payload, total, currency)
    assert answer.params["ok"] is False
    assert answer.params["error_message"] == en

    fake_api.push_update(fake_api.message_update("/start", user_id=222, language_code="ru"))
    await fake_api.wait_for("sendMessage", lambda c: c.params.get("chat_id") == 222)
    answer = await checkout(fake_api, payload, total, currency, user_id=222)
    assert answer.params["ok"] is False
    assert answer.params["error_message"] == ru


async def test_checkout_failing_unexpectedly_is_still_answered(
    shop: Server,
    fake_api: FakeBotAPI,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Telegram waits 10 s for the answer: a bug or a dead database still gets a refusal."""
    import bot.routers.payments as router

    async def broken(*args: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(router, "check_checkout", broken)
    answer = await checkout(fake_api, f"coins:{PACK.id}", PACK.stars)
    assert answer.params["ok"] is False
    assert answer.params["error_message"] == (
        "Payments are not available right now. Please try again in a few minutes."
    )
    assert any("pre-checkout" in r.getMessage() for r in caplog.records)

    await fake_api.say("/start", user_id=222, language_code="ru")
    answer = await checkout(fake_api, f"coins:{PACK.id}", PACK.stars, user_id=222)
    assert answer.params["error_message"] == (
        "Платежи сейчас недоступны. Попробуйте через несколько минут."
    )


async def test_banned_user_cannot_check_out(shop: Server, fake_api: FakeBotAPI) -> None:
    await fake_api.say("/start", user_id=222, language_code="ru")
    await fake_api.say("/start", user_id=333)
    banned_ru, banned_en = await our_user(shop, 222), await our_user(shop, 333)

    for target in (banned_ru, banned_en):
        reply = only_send(await fake_api.say(f"/ban {target.id}", user_id=ADMIN))
        assert shown_text(reply) == f"User {target.id} can no longer buy, give gifts or withdraw."

    ru = await checkout(fake_api, f"coins:{PACK.id}", PACK.stars, user_id=222)
    en = await checkout(fake_api, f"coins:{PACK.id}", PACK.stars, user_id=333)
    assert (ru.params["ok"], ru.params["error_message"]) == (False, RU_BANNED)
    assert (en.params["ok"], en.params["error_message"]) == (False, EN_BANNED)

    await fake_api.say(f"/unban {banned_en.id}", user_id=ADMIN)
    again = await checkout(fake_api, f"coins:{PACK.id}", PACK.stars, user_id=333)
    assert again.params["ok"] is True


async def test_non_admin_cannot_ban(shop: Server, fake_api: FakeBotAPI) -> None:
    await fake_api.say("/start", user_id=333)
    target = await our_user(shop, 333)
    reply = only_send(await fake_api.say(f"/ban {target.id}"))
    assert shown_text(reply) == EN_FORBIDDEN
    assert (await our_user(shop, 333)).banned_at is None


# --------------------------------------------------------------------------- crediting


async def test_payment_delivered_ten_times_in_polling_mode_credits_once(
    shop: Server, fake_api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="services.wallet.credit")
    for _ in range(10):  # ten update_ids, one charge
        fake_api.push_update(pay_update(fake_api, "charge-poll"))

    await eventually(lambda: credited_before(caplog) == 9)
    await asyncio.sleep(0.2)  # a second thank-you would have been sent by now

    (thank_you,) = thanks(fake_api)
    assert shown_text(thank_you) == EN_THANKS.format(coins=550, balance=550)
    (wallet_button,) = buttons(thank_you)
    assert wallet_button["web_app"] == {"url": WALLET_URL}
    assert await coins_of(shop) == PACK.total
    (payment,) = await payments(shop)
    assert payment.charge_id == "charge-poll"
    assert (payment.status, payment.amount, payment.currency) == (
        PaymentStatus.SUCCEEDED,
        PACK.stars,
        "XTR",
    )
    await books_balance(shop)


async def test_thanks_in_russian(shop: Server, fake_api: FakeBotAPI) -> None:
    await fake_api.say("/start", user_id=222, language_code="ru")
    await buy(shop, fake_api, "charge-ru", user_id=222)
    (thank_you,) = thanks(fake_api, 222)
    assert shown_text(thank_you) == RU_THANKS.format(coins=550, balance=550)
    assert buttons(thank_you)[0]["text"] == "Открыть кошелёк"


async def test_a_failing_credit_is_retried(
    shop: Server, fake_api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database away for a moment: the handler tries again and the coins arrive."""
    import bot.payments as bot_payments

    real = bot_payments.do_credit
    failures = [ConnectionError("database gone"), ConnectionError("still gone")]

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop(0)
        return await real(*args, **kwargs)

    monkeypatch.setattr(bot_payments, "do_credit", flaky)
    monkeypatch.setattr(bot_payments, "CREDIT_RETRY_DELAYS", (0.05, 0.05, 0.05))
    await buy(shop, fake_api, "charge-flaky")
    assert not failures
    assert await coins_of(shop) == PACK.total
    await books_balance(shop)


async def test_a_credit_failing_for_good_is_told_and_reconciled(
    shop: Server, fake_api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every retry failed: the buyer is told the coins are coming, and the reconciliation
    credits the payment from getStarTransactions once the database is back."""
    import bot.payments as bot_payments

    await fake_api.wait_for("getStarTransactions")  # the start-up pass saw nothing yet
    real = bot_payments.do_credit
    failures = [ConnectionError("database gone")] * 3

    async def down(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return await real(*args, **kwargs)

    monkeypatch.setattr(bot_payments, "do_credit", down)
    monkeypatch.setattr(bot_payments, "CREDIT_RETRY_DELAYS", (0.05, 0.05))
    fake_api.add_star_transaction("charge-lost", PACK.stars, f"coins:{PACK.id}")
    fake_api.push_update(pay_update(fake_api, "charge-lost"))

    told = await fake_api.wait_for("sendMessage", lambda c: c.params.get("chat_id") == BUYER)
    assert shown_text(told) == "Your payment went through; the coins will arrive in a few minutes."
    assert not failures
    assert not await payments(shop)

    assert await shop.run(reconcile(shop.bot, shop.services)) == 1
    await eventually(lambda: thanks(fake_api))
    assert await coins_of(shop) == PACK.total
    await books_balance(shop)


async def test_a_payment_for_something_we_do_not_sell_is_not_credited(
    shop: Server, fake_api: FakeBotAPI
) -> None:
    fake_api.push_update(pay_update(fake_api, "charge-odd", payload="coins:coins_999"))
    told = await fake_api.wait_for("sendMessage", lambda c: c.params.get("chat_id") == BUYER)
    assert shown_text(told) == (
        "We could not deliver this purchase. Write to /paysupport and we will refund it."
    )
    assert not await payments(shop)


@pytest.fixture
async def webhook_shop(fake_api: FakeBotAPI, make_server: ServerFactory) -> Server:
    return await start_bot_server(
        make_server, fake_api, bot_mode="webhook", webhook_secret=SECRET, admin_ids=str(ADMIN)
    )


@pytest.fixture
async def telegram(webhook_shop: Server) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=webhook_shop.url) as session:
        yield session


async def post_update(session: aiohttp.ClientSession, update: dict[str, Any]) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    async with session.post(
        "/telegram/webhook", data=json.dumps(update).encode(), headers=headers
    ) as response:
        return response.status


async def test_payment_delivered_ten_times_by_webhook_credits_once(
    webhook_shop: Server,
    fake_api: FakeBotAPI,
    telegram: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="services.wallet.credit")
    for update_id in range(100, 110):
        update = {"update_id": update_id, **pay_update(fake_api, "charge-hook")}
        assert await post_update(telegram, update) == 200
    await eventually(lambda: credited_before(caplog) == 9)

    # And ten at once, another charge.
    updates = [
        {"update_id": update_id, **pay_update(fake_api, "charge-hook-2")}
        for update_id in range(200, 210)
    ]
    statuses = await asyncio.gather(*(post_update(telegram, u) for u in updates))
    assert statuses == [200] * 10
    await eventually(lambda: credited_before(caplog) == 18)
    await asyncio.sleep(0.2)

    assert [shown_text(c) for c in thanks(fake_api)] == [
        EN_THANKS.format(coins=550, balance=550),
        EN_THANKS.format(coins=550, balance=1100),
    ]
    assert await coins_of(webhook_shop) == 2 * PACK.total
    assert [p.charge_id for p in await payments(webhook_shop)] == ["charge-hook", "charge-hook-2"]
    await books_balance(webhook_shop)


#: A database of these tests' own on the shared server (emptied here, nobody else's).
PAYMENTS_POSTGRES_URL = f"{POSTGRES_ADMIN_URL}_bot_payments_{WORKER or 'main'}"


@pytest.mark.postgres
async def test_concurrent_deliveries_credit_once_on_postgres(
    fake_api: FakeBotAPI, make_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Ten processes' worth of concurrent deliveries race on PostgreSQL's unique keys."""
    import asyncpg

    await ensure_postgres_database(PAYMENTS_POSTGRES_URL)
    conn = await asyncpg.connect(asyncpg_dsn(PAYMENTS_POSTGRES_URL))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()
    caplog.set_level(logging.INFO, logger="services.wallet.credit")
    server = await start_bot_server(
        make_server,
        fake_api,
        bot_mode="webhook",
        webhook_secret=SECRET,
        database_url=PAYMENTS_POSTGRES_URL,
    )
    updates = [
        {"update_id": update_id, **pay_update(fake_api, "charge-pg")}
        for update_id in range(300, 310)
    ]
    async with aiohttp.ClientSession(base_url=server.url) as session:
        statuses = await asyncio.gather(*(post_update(session, u) for u in updates))
    assert statuses == [200] * 10
    await eventually(lambda: credited_before(caplog) == 9)
    await asyncio.sleep(0.2)

    assert [shown_text(c) for c in thanks(fake_api)] == [EN_THANKS.format(coins=550, balance=550)]
    assert await coins_of(server) == PACK.total
    assert [p.charge_id for p in await payments(server)] == ["charge-pg"]
    await books_balance(server)


# --------------------------------------------------------------------------- /balance


async def test_balance_shows_coins_beans_and_premium(shop: Server, fake_api: FakeBotAPI) -> None:
    reply = only_send(await fake_api.say("/balance"))
    assert shown_text(reply) == (
        "Your wallet\nCoins: 0\nBeans: 0\nPremium: not active. /premium\n\nBuy coins: /buy"
    )
    (button,) = buttons(reply)
    assert button["web_app"] == {"url": WALLET_URL}

    await buy(shop, fake_api, "charge-balance")
    reply = only_send(await fake_api.say("/balance"))
    assert "Coins: 550\n" in shown_text(reply)


async def test_balance_in_russian(shop: Server, fake_api: FakeBotAPI) -> None:
    reply = only_send(await fake_api.say("/balance", user_id=222, language_code="ru"))
    assert shown_text(reply) == (
        "Ваш кошелёк\nМонеты: 0\nБобы: 0\nПремиум: не активен. /premium\n\nКупить монеты: /buy"
    )


# --------------------------------------------------------------------------- premium


def premium_extra(until: int, *, first: bool) -> dict[str, Any]:
    extra: dict[str, Any] = {"subscription_expiration_date": until, "is_recurring": True}
    if first:
        extra["is_first_recurring"] = True
    return extra


async def subscription_of(server: Server, user: User) -> Subscription:
    async def query() -> Subscription:
        return await Subscription.get(user_id=user.id)

    return await server.run(query())


async def test_premium_subscription_renewal_and_cancel(shop: Server, fake_api: FakeBotAPI) -> None:
    calls = await fake_api.say("/premium")
    (link,) = [c for c in calls if c.method == "createInvoiceLink"]
    assert link.ok, str(link)
    assert link.params["subscription_period"] == SUBSCRIPTION_PERIOD == 2592000
    assert link.params["currency"] == "XTR"
    assert link.params["payload"] == "premium"
    assert link.params["prices"] == [{"label": "Vmeste Premium", "amount": PREMIUM_STARS}]
    reply = only_send(calls)
    assert buttons(reply)[0] == {"text": "Subscribe", "url": link.result}

    first_until = int(time.time()) + SUBSCRIPTION_PERIOD
    fake_api.push_update(
        pay_update(
            fake_api,
            "charge-premium-1",
            payload="premium",
            amount=PREMIUM_STARS,
            extra=premium_extra(first_until, first=True),
        )
    )
    await eventually(lambda: thanks(fake_api))
    until_text = datetime.fromtimestamp(first_until, UTC).strftime("%Y-%m-%d")
    assert shown_text(thanks(fake_api)[0]) == f"Thank you! Premium is active until {until_text}."
    user = await our_user(shop)
    assert user.premium_until is not None
    assert int(user.premium_until.timestamp()) == first_until
    assert (await coins_of(shop)) == 0

    # The renewal: a new charge, a later date, recurring but not the first.
    renewed_until = first_until + SUBSCRIPTION_PERIOD
    fake_api.push_update(
        pay_update(
            fake_api,
            "charge-premium-2",
            payload="premium",
            amount=PREMIUM_STARS,
            extra=premium_extra(renewed_until, first=False),
        )
    )
    await eventually(lambda: len(thanks(fake_api)) == 2)
    user = await our_user(shop)
    assert user.premium_until is not None
    assert int(user.premium_until.timestamp()) == renewed_until
    subscription = await subscription_of(shop, user)
    assert subscription.charge_id == "charge-premium-1"  # the subscription keeps its first charge
    assert int(subscription.until.timestamp()) == renewed_until

    # Active and renewing: /premium offers to cancel.
    calls = await fake_api.say("/premium")
    assert not [c for c in calls if c.method == "createInvoiceLink"]
    reply = only_send(calls)
    assert "renews every month" in shown_text(reply)
    assert buttons(reply) == [{"text": "Cancel renewal", "callback_data": "premium:cancel"}]

    await fake_api.press("premium:cancel")
    assert fake_api.subscription_edits[-1] == {
        "user_id": BUYER,
        "telegram_payment_charge_id": "charge-premium-1",
        "is_canceled": True,
    }
    assert (await subscription_of(shop, user)).canceled is True
    edited = await fake_api.wait_for("editMessageText")
    assert buttons(edited) == [{"text": "Turn renewal back on", "callback_data": "premium:renew"}]

    await fake_api.press("premium:renew")
    assert fake_api.subscription_edits[-1]["is_canceled"] is False
    assert len(fake_api.subscription_edits) == 2
    assert (await subscription_of(shop, user)).canceled is False


async def test_fake_refuses_other_subscription_periods(fake_api: FakeBotAPI) -> None:
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.exceptions import TelegramBadRequest
    from aiogram.types import LabeledPrice

    session = AiohttpSession(api=TelegramAPIServer.from_base(fake_api.base_url))
    bot = Bot(fake_api.token, session=session)
    try:
        for period, currency in ((86400, "XTR"), (SUBSCRIPTION_PERIOD, "USD")):
            with pytest.raises(TelegramBadRequest, match="SUBSCRIPTION_PERIOD_INVALID"):
                await bot.create_invoice_link(
                    title="t",
                    description="d",
                    payload="premium",
                    currency=currency,
                    prices=[LabeledPrice(label="t", amount=10)],
                    subscription_period=period,
                )
    finally:
        await session.close()


# --------------------------------------------------------------------------- refunds


async def test_admin_refunds_an_unspent_purchase(shop: Server, fake_api: FakeBotAPI) -> None:
    await buy(shop, fake_api, "charge-refund")
    await fake_api.say("/start", user_id=ADMIN)

    reply = only_send(await fake_api.say("/refund charge-refund", user_id=ADMIN))

    assert shown_text(reply) == "Refunded 250 ⭐; 550 coins were taken back."
    (refund,) = fake_api.calls_of("refundStarPayment")
    assert refund.ok
    assert refund.params == {"user_id": BUYER, "telegram_payment_charge_id": "charge-refund"}
    assert await coins_of(shop) == 0
    (payment,) = await payments(shop)
    assert payment.status == PaymentStatus.REFUNDED
    await books_balance(shop)

    # Telegram tells the buyer's chat about the refund: nothing more is taken, told once.
    for _ in range(2):
        fake_api.push_update(
            fake_api.refunded_payment_update(f"coins:{PACK.id}", PACK.stars, "charge-refund")
        )
    told = await fake_api.wait_for(
        "sendMessage", lambda c: shown_text(c).startswith("Your payment was refunded")
    )
    assert told.params["chat_id"] == BUYER
    await asyncio.sleep(0.3)
    assert await coins_of(shop) == 0
    await books_balance(shop)

    again = only_send(await fake_api.say("/refund charge-refund", user_id=ADMIN))
    assert shown_text(again) == "This payment was refunded already."
    assert len(fake_api.calls_of("refundStarPayment")) == 1


async def test_refund_of_spent_coins_refunds_nothing(shop: Server, fake_api: FakeBotAPI) -> None:
    await buy(shop, fake_api, "charge-spent")
    await spend(shop, BUYER, 100)

    reply = only_send(await fake_api.say("/refund charge-spent", user_id=ADMIN))

    assert shown_text(reply) == (
        "The buyer has spent the coins already (450 of 550 left); nothing was refunded."
    )
    assert not fake_api.calls_of("refundStarPayment")
    assert await coins_of(shop) == 450
    (payment,) = await payments(shop)
    assert payment.status == PaymentStatus.SUCCEEDED
    await books_balance(shop)


async def test_refund_spent_message_in_russian(shop: Server, fake_api: FakeBotAPI) -> None:
    await buy(shop, fake_api, "charge-spent-ru")
    await spend(shop, BUYER, 100)
    reply = only_send(
        await fake_api.say("/refund charge-spent-ru", user_id=ADMIN, language_code="ru")
    )
    assert shown_text(reply) == (
        "Покупатель уже потратил монеты (осталось 450 из 550); ничего не возвращено."
    )


async def test_non_admin_cannot_refund(shop: Server, fake_api: FakeBotAPI) -> None:
    await buy(shop, fake_api, "charge-mine")

    for text in ("/refund charge-mine", "/refund"):
        reply = only_send(await fake_api.say(text))
        assert shown_text(reply) == EN_FORBIDDEN
    assert not fake_api.calls_of("refundStarPayment")
    assert await coins_of(shop) == PACK.total


async def test_telegram_refusing_a_refund_gives_the_coins_back(
    shop: Server, fake_api: FakeBotAPI
) -> None:
    await buy(shop, fake_api, "charge-flaky-refund")
    fake_api.fail_next("refundStarPayment", 400, "Bad Request: CHARGE_NOT_FOUND")

    reply = only_send(await fake_api.say("/refund charge-flaky-refund", user_id=ADMIN))

    assert shown_text(reply) == (
        "Telegram refused the refund (Bad Request: CHARGE_NOT_FOUND); the buyer keeps the coins."
    )
    assert await coins_of(shop) == PACK.total
    (payment,) = await payments(shop)
    assert payment.status == PaymentStatus.SUCCEEDED
    await books_balance(shop)

    # Still refundable.
    reply = only_send(await fake_api.say("/refund charge-flaky-refund", user_id=ADMIN))
    assert shown_text(reply) == "Refunded 250 ⭐; 550 coins were taken back."
    assert await coins_of(shop) == 0
    await books_balance(shop)


async def test_refund_by_telegram_takes_the_coins_back_once(
    shop: Server, fake_api: FakeBotAPI
) -> None:
    await buy(shop, fake_api, "charge-tg-refund")
    await spend(shop, BUYER, 50)
    for _ in range(2):
        fake_api.push_update(
            fake_api.refunded_payment_update(f"coins:{PACK.id}", PACK.stars, "charge-tg-refund")
        )

    told = await fake_api.wait_for(
        "sendMessage", lambda c: shown_text(c).startswith("Your payment was refunded")
    )
    assert shown_text(told) == (
        "Your payment was refunded: 500 coins were taken back. Balance: 0 coins."
    )
    await asyncio.sleep(0.3)
    assert len([c for c in sends(fake_api.calls) if shown_text(c).startswith("Your payment")]) == 1
    assert await coins_of(shop) == 0
    (payment,) = await payments(shop)
    assert (payment.status, payment.refund_shortfall) == (PaymentStatus.REFUNDED, 50)
    await books_balance(shop)


# --------------------------------------------------------------------------- reconciliation


async def test_a_missed_payment_is_credited_by_the_reconciliation(
    fake_api: FakeBotAPI, make_server: ServerFactory
) -> None:
    """Telegram charged it, the update never came: getStarTransactions shows it at start."""
    fake_api.add_star_transaction("charge-missed", PACK.stars, f"coins:{PACK.id}", user_id=333)
    # Not ours to credit: an outgoing refund and a payload we never sold.
    fake_api.star_transactions.append(
        {
            "id": "refund-1",
            "amount": 10,
            "date": int(time.time()),
            "receiver": {
                "type": "user",
                "transaction_type": "invoice_payment",
                "user": fake_api.user(444),
                "invoice_payload": f"coins:{PACK.id}",
            },
        }
    )
    fake_api.add_star_transaction("charge-alien", 77, "alien-payload", user_id=444)

    server = await start_bot_server(make_server, fake_api)
    await eventually(lambda: thanks(fake_api, 333))

    assert shown_text(thanks(fake_api, 333)[0]) == EN_THANKS.format(coins=550, balance=550)
    assert await coins_of(server, 333) == PACK.total
    assert not await telegram_users(server, 444)
    (payment,) = await payments(server)
    assert payment.charge_id == "charge-missed"

    # The update arrives late after all, and the reconciliation runs again from the start.
    fake_api.push_update(pay_update(fake_api, "charge-missed", user_id=333))
    await server.run(server.services.state.set(RECONCILED_KEY, "0"))
    assert await server.run(reconcile(server.bot, server.services)) == 0
    await asyncio.sleep(0.3)
    assert len(thanks(fake_api, 333)) == 1
    assert await coins_of(server, 333) == PACK.total
    await books_balance(server)


async def test_reconciliation_after_a_restart_credits_nothing_twice(
    fake_api: FakeBotAPI, make_server: ServerFactory
) -> None:
    fake_api.add_star_transaction("charge-r1", PACK.stars, f"coins:{PACK.id}", user_id=333)
    first = await start_bot_server(make_server, fake_api)
    await eventually(lambda: thanks(fake_api, 333))
    await first.stop()

    polls = len(fake_api.calls_of("getStarTransactions"))
    fake_api.add_star_transaction("charge-r2", 50, "coins:coins_100", user_id=333)
    second = await start_bot_server(make_server, fake_api)
    await eventually(lambda: len(fake_api.calls_of("getStarTransactions")) > polls)
    await eventually(lambda: len(thanks(fake_api, 333)) == 2)
    await asyncio.sleep(0.3)

    assert [shown_text(c) for c in thanks(fake_api, 333)] == [
        EN_THANKS.format(coins=550, balance=550),
        EN_THANKS.format(coins=100, balance=650),
    ]
    assert await coins_of(second, 333) == 650
    await books_balance(second)


async def test_star_transactions_are_paged(
    fake_api: FakeBotAPI, make_server: ServerFactory
) -> None:
    for n in range(150):
        fake_api.add_star_transaction(f"charge-page-{n}", 50, "coins:coins_100", user_id=333)
    server = await start_bot_server(make_server, fake_api)
    await eventually(lambda: len(thanks(fake_api, 333)) == 150, timeout=30)
    offsets = [c.params.get("offset") for c in fake_api.calls_of("getStarTransactions")]
    assert offsets[:2] == [0, 100]
    assert await coins_of(server, 333) == 150 * 100
    await books_balance(server)


async def _premium_bought(shop: Server, fake_api: FakeBotAPI, charge_id: str) -> int:
    until = int(time.time()) + SUBSCRIPTION_PERIOD
    before = len(thanks(fake_api))
    fake_api.push_update(
        pay_update(
            fake_api,
            charge_id,
            payload="premium",
            amount=PREMIUM_STARS,
            extra=premium_extra(until, first=True),
        )
    )
    await eventually(lambda: len(thanks(fake_api)) > before)
    return until


async def test_admin_refunds_premium_and_it_ends(shop: Server, fake_api: FakeBotAPI) -> None:
    until = await _premium_bought(shop, fake_api, "charge-premium-refund")

    # Telegram refuses first: the buyer keeps premium, renewal and all.
    fake_api.fail_next("refundStarPayment", 400, "Bad Request: CHARGE_NOT_FOUND")
    reply = only_send(await fake_api.say("/refund charge-premium-refund", user_id=ADMIN))
    assert "Telegram refused the refund" in shown_text(reply)
    user = await our_user(shop)
    assert user.premium_until is not None
    assert int(user.premium_until.timestamp()) == until
    subscription = await subscription_of(shop, user)
    assert (int(subscription.until.timestamp()), subscription.canceled) == (until, False)

    reply = only_send(await fake_api.say("/refund charge-premium-refund", user_id=ADMIN))
    assert shown_text(reply) == "Refunded 250 ⭐; the buyer's premium has ended."
    user = await our_user(shop)
    assert user.premium_until is not None
    assert user.premium_until.timestamp() <= time.time()
    reply = only_send(await fake_api.say("/balance"))
    assert "Premium: not active." in shown_text(reply)


async def test_a_failed_reconciliation_is_a_warning_and_the_next_pass_credits(
    fake_api: FakeBotAPI, make_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    fake_api.add_star_transaction("charge-later", PACK.stars, f"coins:{PACK.id}", user_id=333)
    fake_api.fail_next("getStarTransactions", 500)
    server = await start_bot_server(make_server, fake_api)
    await eventually(
        lambda: any("Stars reconciliation failed" in r.getMessage() for r in caplog.records)
    )
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not await payments(server)

    assert await server.run(reconcile(server.bot, server.services)) == 1
    await eventually(lambda: thanks(fake_api, 333))
    assert await coins_of(server, 333) == PACK.total
