"""Telegram Stars through the bot: the :class:`StarsPayments` port the services use, the
thank-you message, and the reconciliation that makes sure no payment is ever lost.

Telegram delivers a paid purchase once, as a ``successful_payment`` message; if that update is
lost (the process died, the database was away longer than the handler's retries), the payment
still shows in ``getStarTransactions``. :func:`reconcile` reads those at start and every
:data:`RECONCILE_INTERVAL` seconds and credits each incoming one through the same
``do_credit`` (keyed by the charge id, so a credited one is a no-op).
"""

from __future__ import annotations

import asyncio
import html
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.types import (
    InlineKeyboardMarkup,
    LabeledPrice,
    StarTransaction,
    TransactionPartnerUser,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.keyboards import open_app_button
from bot.middlewares import profile_of
from models.users import User
from models.wallet import Payment, Product, Provider
from services.accounts.users import do_upsert_telegram_user, pick_language
from services.core.config import Settings
from services.core.context import Services
from services.core.errors import ValidationError
from services.core.events import Event
from services.wallet import events as ev
from services.wallet.credit import Credit, Item, do_credit, parse_payload
from services.wallet.ledger import get_balance
from services.wallet.payments import STARS

log = logging.getLogger(__name__)

#: Seconds between two reconciliations (the first runs at start).
RECONCILE_INTERVAL = 600.0
#: Transactions per getStarTransactions page (Telegram's maximum).
PAGE_SIZE = 100
#: Transactions read again before the first one not yet seen, in case an earlier pass failed
#: half-way (credited ones are no-ops).
RECONCILE_OVERLAP = PAGE_SIZE
RECONCILED_KEY = "stars:reconciled-count"
RECONCILE_JOB = "stars:reconcile"
#: Delays before the successful_payment handler tries ``do_credit`` again (about 30 s in all).
CREDIT_RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0)
WALLET_PATH = "/app/wallet"


class BotStarsPayments:
    """:class:`services.core.context.StarsPayments` with the aiogram Bot."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def create_invoice_link(
        self,
        *,
        title: str,
        description: str,
        payload: str,
        stars: int,
        subscription_period: int | None = None,
    ) -> str:
        return await self.bot.create_invoice_link(
            title=title,
            description=description,
            payload=payload,
            provider_token="",
            currency=STARS,
            prices=[LabeledPrice(label=title, amount=stars)],
            subscription_period=subscription_period,
        )

    async def refund(self, telegram_user_id: int, charge_id: str) -> None:
        await self.bot.refund_star_payment(
            user_id=telegram_user_id, telegram_payment_charge_id=charge_id
        )

    async def set_subscription_canceled(
        self, telegram_user_id: int, charge_id: str, canceled: bool
    ) -> None:
        await self.bot.edit_user_star_subscription(
            user_id=telegram_user_id, telegram_payment_charge_id=charge_id, is_canceled=canceled
        )


# --------------------------------------------------------------------------- crediting


async def credit_with_retry(
    services: Services,
    *,
    delays: tuple[float, ...] | None = None,
    **credit: Any,
) -> Credit | None:
    """``do_credit``, tried again with back-off when it fails (the database away); None when
    every attempt failed (logged as an error: the reconciliation credits it later)."""
    if delays is None:
        delays = CREDIT_RETRY_DELAYS
    attempt = 0
    while True:
        try:
            return await do_credit(services, **credit)
        except ValidationError:
            raise
        except Exception:
            if attempt >= len(delays):
                log.error(
                    "could not credit Stars payment %s after %s attempts; the reconciliation "
                    "will credit it",
                    credit.get("charge_id"),
                    attempt + 1,
                    exc_info=True,
                )
                return None
            log.warning(
                "crediting Stars payment %s failed (attempt %s); retrying in %.0f s",
                credit.get("charge_id"),
                attempt + 1,
                delays[attempt],
                exc_info=True,
            )
            await asyncio.sleep(delays[attempt])
            attempt += 1


def from_timestamp(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


# --------------------------------------------------------------------------- reconciliation


def _incoming(transaction: StarTransaction) -> TransactionPartnerUser | None:
    source = transaction.source
    if not isinstance(source, TransactionPartnerUser) or source.invoice_payload is None:
        return None
    if source.transaction_type not in ("invoice_payment", None):
        return None
    return source


async def _credit_transaction(services: Services, transaction: StarTransaction) -> bool:
    """Credit one transaction of getStarTransactions if it is a payment for one of our
    invoices; True if it was credited now (it had been missed)."""
    source = _incoming(transaction)
    if source is None:
        return False
    item: Item | None = parse_payload(source.invoice_payload)
    if item is None:
        log.warning(
            "Stars transaction %s has a payload we do not sell: %r",
            transaction.id,
            source.invoice_payload,
        )
        return False
    tg = source.user
    user = await do_upsert_telegram_user(profile_of(tg))
    paid_at = transaction.date
    if isinstance(paid_at, int | float):  # aiogram gives a datetime; be safe
        paid_at = datetime.fromtimestamp(paid_at, UTC)
    until = None
    if item.product == Product.PREMIUM and source.subscription_period:
        until = paid_at + timedelta(seconds=source.subscription_period)
    result = await do_credit(
        services,
        provider=Provider.STARS,
        charge_id=transaction.id,
        user_id=user.id,
        item=item,
        amount=transaction.amount,
        currency=STARS,
        subscription_until=until,
        # A renewal found here must not rename the subscription (its first charge names it);
        # a first subscription without one still creates it (see do_credit).
        first_recurring=False,
    )
    if result.credited:
        log.warning("reconciliation credited a missed Stars payment %s", transaction.id)
    return result.credited


async def reconcile(bot: Bot, services: Services) -> int:
    """Credit every payment in getStarTransactions that was never credited; the number
    credited now. Transactions come oldest first; the count already read is remembered in the
    ephemeral store, so a pass reads only the new ones (and a page before them)."""
    state = services.state
    seen = await state.get(RECONCILED_KEY)
    offset = max(0, int(seen) - RECONCILE_OVERLAP) if seen and str(seen).isdigit() else 0
    credited = 0
    while True:
        page = await bot.get_star_transactions(offset=offset, limit=PAGE_SIZE)
        for transaction in page.transactions:
            try:
                if await _credit_transaction(services, transaction):
                    credited += 1
            except ValidationError:  # not ours to credit (a malformed charge id): never will be
                log.error("Stars transaction %r cannot be credited", transaction.id, exc_info=True)
        offset += len(page.transactions)
        await state.set(RECONCILED_KEY, str(offset))
        if len(page.transactions) < PAGE_SIZE:
            break
    if credited:
        log.warning("reconciliation credited %s missed Stars payment(s)", credited)
    return credited


def start_reconciler(bot: Bot, services: Services, *, interval: float = RECONCILE_INTERVAL) -> None:
    """Reconcile now and every ``interval`` seconds (in the process that receives updates)."""

    async def job() -> None:
        try:
            await reconcile(bot, services)
        except Exception:  # Telegram or the database away: the next pass catches up
            log.warning(
                "Stars reconciliation failed; the next pass is in %.0f s", interval, exc_info=True
            )

    services.scheduler.call_later(RECONCILE_JOB + ":start", 0, job)
    services.scheduler.call_every(RECONCILE_JOB, interval, job)


def stop_reconciler(services: Services) -> None:
    services.scheduler.cancel(RECONCILE_JOB + ":start")
    services.scheduler.cancel(RECONCILE_JOB)


# --------------------------------------------------------------------------- thanks


def wallet_keyboard(settings: Settings) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[open_app_button(settings, _("Open wallet"), WALLET_PATH)]]
    )


def format_date(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d")


class PaymentNotifier:
    """Thanks the buyer once per credited payment: ``do_credit`` publishes
    ``payment:credited`` only in the process (and the call) that credited it, whether the
    credit came from the update or from the reconciliation."""

    def __init__(self, services: Services, bot: Bot, i18n: I18n) -> None:
        self.services = services
        self.bot = bot
        self.i18n = i18n

    def subscribe(self) -> None:
        self.services.events.subscribe(ev.PAYMENT_CREDITED, self._on_credited)

    async def _on_credited(self, event: Event) -> None:
        payment: Payment = event.payload["payment"]
        user: User = event.payload["user"]
        if user.telegram_id is None:
            return
        # Never inside the publisher's await: Telegram is slow.
        self.services.scheduler.call_later(
            f"payment-thanks:{payment.id}", 0, lambda: self.thank(payment, user)
        )

    async def thank(self, payment: Payment, user: User) -> None:
        assert user.telegram_id is not None
        balance = await get_balance(user.id)
        with self.i18n.context(), self.i18n.use_locale(pick_language(user)):
            if payment.product == Product.PREMIUM:
                until = user.premium_until or payment.subscription_until
                text = _("Thank you! Premium is active until {date}.").format(
                    date=html.escape(format_date(until)) if until else "?"
                )
            else:
                text = _("Thank you! {coins} coins added. Balance: {balance} coins.").format(
                    coins=int(payment.coins), balance=balance["coins"]
                )
            markup = wallet_keyboard(self.services.settings)
        try:
            await self.bot.send_message(chat_id=user.telegram_id, text=text, reply_markup=markup)
        except (TelegramForbiddenError, TelegramBadRequest) as exc:
            log.info("payment thanks to %s not delivered: %s", user.telegram_id, exc.message)
        except TelegramAPIError as exc:
            log.warning("payment thanks to %s failed: %s", user.telegram_id, exc)
