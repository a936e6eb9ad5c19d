"""Buying coins and premium: invoices, the pre-checkout answer, the one credit entry point,
refunds and the premium subscription.

Money comes in through ``services.wallet.credit.do_credit`` only; this module decides what to
sell and takes it back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from models.users import User
from models.wallet import (
    Currency,
    EntryKind,
    LedgerEntry,
    Payment,
    PaymentStatus,
    Product,
    Provider,
    Subscription,
)
from services.core.context import Services
from services.core.errors import (
    N_,
    AppError,
    Conflict,
    Forbidden,
    InsufficientFunds,
    NotFound,
    Unavailable,
    ValidationError,
)
from services.core.events import Event
from services.core.i18n import translate
from services.wallet import events as ev
from services.wallet import ledger, yookassa
from services.wallet.catalogue import (
    PREMIUM_DAYS,
    PREMIUM_STARS,
    SUBSCRIPTION_PERIOD,
    pack_title,
)
from services.wallet.credit import Item, item_for, now, parse_payload, payload_for
from services.wallet.ledger import AlreadyApplied, Move

log = logging.getLogger(__name__)

STARS = "XTR"


class PaymentRefused(AppError):
    """A checkout we will not take (answered to ``pre_checkout_query`` as its error message)."""

    code = "payment_refused"
    http_status = 400
    template = N_("This purchase is not available.")


# --- what an invoice sells ----------------------------------------------------------------------


@dataclass(frozen=True)
class Invoice:
    """One invoice: the bot's ``sendInvoice`` and ``createInvoiceLink`` both send this."""

    title: str
    description: str
    payload: str
    stars: int
    subscription_period: int | None = None


def invoice_for(item: Item, language: str) -> Invoice:
    if item.product == Product.PREMIUM:
        return Invoice(
            title=translate(N_("Vmeste Premium"), language),
            description=translate(
                N_(
                    "Rooms for up to {limit} people, no ads and a badge, for {days} days; "
                    "renews every month until you cancel."
                ),
                language,
            ).format(limit=1000, days=PREMIUM_DAYS),
            payload=payload_for(item),
            stars=PREMIUM_STARS,
            subscription_period=SUBSCRIPTION_PERIOD,
        )
    assert item.pack is not None
    return Invoice(
        title=pack_title(item.pack, language),
        description=translate(N_("Coins for gifts in Vmeste watch rooms and streams."), language),
        payload=payload_for(item),
        stars=item.pack.stars,
    )


# --- the checkout -------------------------------------------------------------------------------


async def check_checkout(user: User, payload: Any, currency: Any, total: Any) -> Item:
    """Whether to take this Stars payment (``pre_checkout_query``); :class:`PaymentRefused`
    with a reason the buyer can read, in the user's language through the catalogue."""
    item = parse_payload(payload)
    if item is None:
        raise PaymentRefused(N_("This item is no longer sold. Open /buy again."))
    if currency != STARS or total != item.stars:
        raise PaymentRefused(N_("The price has changed. Open /buy again for the new one."))
    if user.banned_at is not None:
        raise PaymentRefused(N_("Purchases are not available for your account."))
    if item.product == Product.PREMIUM:
        subscription = await Subscription.get_or_none(user_id=user.id)
        if subscription is not None and subscription.until > now() and not subscription.canceled:
            raise PaymentRefused(N_("Your premium is already active and renews by itself."))
    return item


async def do_create_intent(
    services: Services, *, user: User, product_id: Any, provider: str, language: str
) -> dict[str, Any]:
    """A way to pay for ``product_id``: a Stars invoice link for ``WebApp.openInvoice``, or a
    YooKassa confirmation URL (``services.wallet.yookassa``)."""
    item = item_for(product_id)
    if user.banned_at is not None:
        raise Forbidden(N_("Purchases are not available for your account."), reason="banned")
    # Each intent is a Bot API call or a payment at YooKassa and an order row.
    await services.limiter.hit_many(services.settings.payment_intent_rate, "intent", str(user.id))
    if provider == "yookassa":
        return await yookassa.do_create_payment(services, user=user, item=item, language=language)
    if provider != "stars":
        raise ValidationError(field="provider", reason="stars or yookassa")
    if services.stars is None:
        raise Unavailable(N_("Telegram payments are not available right now."), reason="no bot")
    if item.product == Product.PREMIUM:
        await check_checkout(user, payload_for(item), STARS, item.stars)
    invoice = invoice_for(item, language)
    link = await services.stars.create_invoice_link(
        title=invoice.title,
        description=invoice.description,
        payload=invoice.payload,
        stars=invoice.stars,
        subscription_period=invoice.subscription_period,
    )
    return {"provider": "stars", "invoiceLink": link}


# --- refunds ------------------------------------------------------------------------------------


def is_admin(services: Services, user: User) -> bool:
    return user.telegram_id is not None and user.telegram_id in services.settings.admin_ids


async def _take_back(payment: Payment, key: str, *, partial: bool) -> int:
    """Debit what ``payment`` credited (inside a transaction). ``partial``: take what is left
    when some was spent and return the shortfall; otherwise :class:`InsufficientFunds`."""
    if payment.product == Product.PREMIUM:
        await User.filter(id=payment.user_id).update(premium_until=now())
        await Subscription.filter(user_id=payment.user_id).update(until=now(), canceled=True)
        return 0
    wanted = int(payment.coins)
    if not partial:
        await ledger.apply(
            [
                Move(
                    payment.user_id,
                    Currency.COINS,
                    -wanted,
                    EntryKind.REFUND,
                    key,
                    payment_id=payment.id,
                )
            ]
        )
        return 0
    balance = (await ledger.get_balance(payment.user_id))["coins"]
    take = min(wanted, balance)
    if take:
        await ledger.apply(
            [
                Move(
                    payment.user_id,
                    Currency.COINS,
                    -take,
                    EntryKind.REFUND,
                    key,
                    payment_id=payment.id,
                )
            ]
        )
    return wanted - take


async def _refund_count(payment: Payment) -> int:
    return await LedgerEntry.filter(payment_id=payment.id, kind=EntryKind.REFUND).count()


async def do_refund(services: Services, *, acting_user: User, charge_id: str) -> Payment:
    """An admin refunds a Stars payment: the coins come back first (all of them, or nothing
    changes: "already spent"), then Telegram returns the Stars; if Telegram refuses, the coins
    go back to the buyer."""
    if not is_admin(services, acting_user):
        raise Forbidden()
    if services.stars is None:
        raise Unavailable(N_("Telegram payments are not available right now."), reason="no bot")
    payment = await Payment.get_or_none(charge_id=charge_id, provider=Provider.STARS)
    if payment is None:
        raise NotFound(N_("No payment with this charge id."))
    if payment.status == PaymentStatus.REFUNDED:
        raise Conflict(N_("This payment was refunded already."), reason="refunded")
    attempt = await _refund_count(payment)
    key = f"refund:{payment.provider.value}:{charge_id}:{attempt}"
    # Premium as it was, to give back if Telegram refuses the refund.
    premium_before = (await User.get(id=payment.user_id)).premium_until
    subscription_before = await Subscription.get_or_none(user_id=payment.user_id)
    try:
        async with in_transaction():
            taken = await Payment.filter(id=payment.id, status=PaymentStatus.SUCCEEDED).update(
                status=PaymentStatus.REFUNDED, refunded_at=now()
            )
            if not taken:
                raise Conflict(N_("This payment was refunded already."), reason="refunded")
            await _take_back(payment, key, partial=False)
    except InsufficientFunds:
        balance = (await ledger.get_balance(payment.user_id))["coins"]
        raise Conflict(
            N_(
                "The buyer has spent the coins already ({balance} of {coins} left); "
                "nothing was refunded."
            ),
            reason="spent",
            balance=balance,
            coins=payment.coins,
        ) from None
    except AlreadyApplied:
        raise Conflict(N_("This payment was refunded already."), reason="refunded") from None
    buyer = await User.get(id=payment.user_id)
    try:
        assert buyer.telegram_id is not None
        await services.stars.refund(buyer.telegram_id, charge_id)
    except Exception:
        log.exception("refundStarPayment failed for %s; giving the coins back", charge_id)
        async with in_transaction():
            await Payment.filter(id=payment.id).update(
                status=PaymentStatus.SUCCEEDED, refunded_at=None
            )
            if payment.product == Product.COINS:
                await ledger.apply(
                    [
                        Move(
                            payment.user_id,
                            Currency.COINS,
                            int(payment.coins),
                            EntryKind.REFUND,
                            f"{key}:undone",
                            payment_id=payment.id,
                        )
                    ]
                )
            else:
                await User.filter(id=payment.user_id).update(premium_until=premium_before)
                if subscription_before is not None:
                    await Subscription.filter(user_id=payment.user_id).update(
                        until=subscription_before.until, canceled=subscription_before.canceled
                    )
        raise
    await services.events.publish(
        Event(
            ev.WALLET_UPDATED,
            await ledger.get_balance(payment.user_id),
            scope=f"user:{payment.user_id}",
        )
    )
    return await Payment.get(id=payment.id)


async def do_refunded_by_telegram(services: Services, *, charge_id: str) -> Payment | None:
    """Telegram refunded a payment (``refunded_payment``; our own refunds come back this way
    too): take back what is left of it once; spent coins are recorded as the shortfall."""
    payment = await Payment.get_or_none(charge_id=charge_id, provider=Provider.STARS)
    if payment is None:
        log.warning("refunded_payment for unknown charge %s", charge_id)
        return None
    if payment.status == PaymentStatus.REFUNDED:
        return payment
    attempt = await _refund_count(payment)
    key = f"refund:{payment.provider.value}:{charge_id}:{attempt}"
    try:
        async with in_transaction():
            taken = await Payment.filter(id=payment.id, status=PaymentStatus.SUCCEEDED).update(
                status=PaymentStatus.REFUNDED, refunded_at=now()
            )
            if not taken:
                return await Payment.get(id=payment.id)
            shortfall = await _take_back(payment, key, partial=True)
            if shortfall:
                await Payment.filter(id=payment.id).update(refund_shortfall=shortfall)
    except AlreadyApplied:
        return await Payment.get(id=payment.id)
    if shortfall:
        log.warning("refund of %s: %s coins were spent already", charge_id, shortfall)
    await services.events.publish(
        Event(
            ev.WALLET_UPDATED,
            await ledger.get_balance(payment.user_id),
            scope=f"user:{payment.user_id}",
        )
    )
    return await Payment.get(id=payment.id)


# --- premium ------------------------------------------------------------------------------------


async def get_premium(user: User) -> dict[str, Any]:
    subscription = await Subscription.get_or_none(user_id=user.id)
    until = user.premium_until
    active = until is not None and until > now()
    return {
        "active": active,
        "until": until.isoformat() if until is not None else None,
        "autoRenew": bool(active and subscription is not None and not subscription.canceled),
    }


async def do_set_renewal(services: Services, *, acting_user: User, renew: bool) -> dict[str, Any]:
    """Cancel (``renew=False``) or re-enable the monthly renewal of the user's premium
    (``editUserStarSubscription``); the paid period runs out either way."""
    subscription = await Subscription.get_or_none(user_id=acting_user.id)
    if subscription is None or subscription.until <= now():
        raise NotFound(N_("You have no premium subscription."))
    if services.stars is None or acting_user.telegram_id is None:
        raise Unavailable(N_("Telegram payments are not available right now."), reason="no bot")
    if subscription.canceled != (not renew):
        await services.stars.set_subscription_canceled(
            acting_user.telegram_id, subscription.charge_id, not renew
        )
        await Subscription.filter(user_id=acting_user.id).update(canceled=not renew)
    user = await User.get(id=acting_user.id)
    return await get_premium(user)


# --- bans ---------------------------------------------------------------------------------------


async def do_set_banned(
    services: Services, *, acting_user: User, user_id: int, banned: bool
) -> User:
    """An admin bars (or lets again) a user from purchases, gifts and withdrawals."""
    if not is_admin(services, acting_user):
        raise Forbidden()
    changed = await User.filter(id=user_id).update(banned_at=now() if banned else None)
    if not changed:
        raise NotFound()
    return await User.get(id=user_id)


__all__ = [
    "STARS",
    "Invoice",
    "Item",
    "PaymentRefused",
    "check_checkout",
    "do_create_intent",
    "do_refund",
    "do_refunded_by_telegram",
    "do_set_renewal",
    "get_premium",
    "invoice_for",
    "item_for",
    "parse_payload",
]
