"""The one way money comes in: :func:`do_credit`, keyed by the provider's charge id.

Every payment path (the bot's ``successful_payment`` in polling or webhook mode, the Stars
reconciliation, the YooKassa webhook and order check) ends here: the payment row's unique
``charge_id`` and the ledger entry's unique key make a second delivery a no-op, whatever the
concurrency.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.users import User
from models.wallet import (
    Currency,
    EntryKind,
    Payment,
    PaymentStatus,
    Product,
    Provider,
    Subscription,
)
from services.core.context import Services
from services.core.errors import ValidationError
from services.core.events import Event
from services.wallet import events as ev
from services.wallet import ledger
from services.wallet.catalogue import (
    PACKS_BY_ID,
    PREMIUM_DAYS,
    PREMIUM_ID,
    PREMIUM_STARS,
    Pack,
    get_pack,
)
from services.wallet.ledger import AlreadyApplied, Move

log = logging.getLogger(__name__)


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Item:
    """What an invoice payload names: a coin pack or premium."""

    product: Product
    pack: Pack | None

    @property
    def stars(self) -> int:
        return self.pack.stars if self.pack is not None else PREMIUM_STARS

    @property
    def coins(self) -> int:
        return self.pack.total if self.pack is not None else 0

    @property
    def pack_id(self) -> str:
        return self.pack.id if self.pack is not None else PREMIUM_ID


def item_for(product_id: Any) -> Item:
    if product_id == PREMIUM_ID:
        return Item(Product.PREMIUM, None)
    return Item(Product.COINS, get_pack(product_id))


def payload_for(item: Item) -> str:
    return "premium" if item.product == Product.PREMIUM else f"coins:{item.pack_id}"


def parse_payload(payload: Any) -> Item | None:
    """The item an invoice payload names, or None (not ours, or no longer sold)."""
    if payload == "premium":
        return Item(Product.PREMIUM, None)
    if isinstance(payload, str) and payload.startswith("coins:"):
        pack = PACKS_BY_ID.get(payload.removeprefix("coins:"))
        return Item(Product.COINS, pack) if pack is not None else None
    return None


@dataclass(frozen=True)
class Credit:
    payment: Payment
    #: False: this charge was credited before (a replay); nothing changed now.
    credited: bool


def _credit_key(provider: Provider, charge_id: str) -> str:
    return f"credit:{provider.value}:{charge_id}"


async def _extend_premium(user_id: int, until: datetime, charge_id: str, first: bool) -> None:
    user = await User.get(id=user_id)
    if user.premium_until is None or user.premium_until < until:
        await User.filter(id=user_id).update(premium_until=until)
    subscription = await Subscription.get_or_none(user_id=user_id)
    if subscription is None:
        await Subscription.create(user_id=user_id, charge_id=charge_id, until=until)
    else:
        changes: dict[str, Any] = {"until": max(subscription.until, until), "canceled": False}
        if first:
            changes["charge_id"] = charge_id
        await Subscription.filter(user_id=user_id).update(**changes)


async def do_credit(
    services: Services,
    *,
    provider: Provider,
    charge_id: str,
    user_id: int,
    item: Item,
    amount: int,
    currency: str,
    provider_charge_id: str | None = None,
    subscription_until: datetime | None = None,
    first_recurring: bool = True,
    order: Payment | None = None,
) -> Credit:
    """Credit one successful payment exactly once: coins to the wallet (a ledger entry keyed
    by the charge), or premium until ``subscription_until``. ``order``: the pending YooKassa
    payment row this charge settles. A second call for the same charge changes nothing
    (``credited=False``)."""
    if not charge_id or len(charge_id) > 128:
        raise ValidationError(field="chargeId", reason="1-128 characters")
    if item.product == Product.PREMIUM and subscription_until is None:
        subscription_until = now() + timedelta(days=PREMIUM_DAYS)
    try:
        async with in_transaction():
            if order is not None:
                settled = await Payment.filter(id=order.id, status=PaymentStatus.PENDING).update(
                    status=PaymentStatus.SUCCEEDED, charge_id=charge_id, paid_at=now()
                )
                if not settled:
                    raise AlreadyApplied(charge_id)
                payment = await Payment.get(id=order.id)
            else:
                payment = await Payment.create(
                    order_id=uuid.uuid4().hex,
                    user_id=user_id,
                    provider=provider,
                    product=item.product,
                    pack_id=item.pack_id,
                    coins=item.coins,
                    amount=amount,
                    currency=currency,
                    status=PaymentStatus.SUCCEEDED,
                    charge_id=charge_id,
                    provider_charge_id=provider_charge_id or None,
                    subscription_until=subscription_until,
                    paid_at=now(),
                )
            if item.product == Product.COINS:
                await ledger.apply(
                    [
                        Move(
                            user_id,
                            Currency.COINS,
                            item.coins,
                            EntryKind.PURCHASE,
                            _credit_key(provider, charge_id),
                            payment_id=payment.id,
                        )
                    ]
                )
            else:
                assert subscription_until is not None
                await _extend_premium(user_id, subscription_until, charge_id, first_recurring)
    except (IntegrityError, AlreadyApplied):
        existing = await Payment.get_or_none(charge_id=charge_id)
        if existing is None:
            raise
        log.info("payment %s (%s) was credited before; nothing to do", charge_id, provider.value)
        return Credit(existing, credited=False)
    log.info(
        "credited %s payment %s: user %s, %s", provider.value, payment.id, user_id, item.pack_id
    )
    user = await User.get(id=user_id)
    await services.events.publish(Event(ev.PAYMENT_CREDITED, {"payment": payment, "user": user}))
    await services.events.publish(
        Event(ev.WALLET_UPDATED, await ledger.get_balance(user_id), scope=f"user:{user_id}")
    )
    return Credit(payment, credited=True)
