"""Coin packs for roubles through YooKassa, for the web version outside Telegram.

The SDK is synchronous (``requests``, no timeout of its own): every call runs in a thread under
``YOOKASSA_TIMEOUT``. A payment is created with the order id as its idempotency key (a retried
create is the same payment) and in its metadata. Webhooks are unsigned: the body only says
which payment to look at; the payment is fetched again from the API and credited only when it
succeeded with our amount and our order (:func:`do_settle`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from decimal import Decimal
from typing import Any

from tortoise.transactions import in_transaction

from models.users import User
from models.wallet import Payment, PaymentStatus, Product, Provider
from services.core.context import Services
from services.core.errors import N_, Forbidden, NotFound, Unavailable, ValidationError
from services.wallet.catalogue import get_pack, pack_title, rub
from services.wallet.credit import Item, do_credit, item_for

log = logging.getLogger(__name__)

CURRENCY = "RUB"


def _configure(services: Services) -> None:
    from yookassa import Configuration

    settings = services.settings
    assert settings.yookassa_secret_key is not None
    Configuration.configure(
        settings.yookassa_shop_id,
        settings.yookassa_secret_key.get_secret_value(),
        api_url=settings.yookassa_api_url,
        timeout=int(settings.yookassa_timeout * 1000),
        max_attempts=1,
    )


async def _call(services: Services, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run an SDK call off the loop, bounded by YOOKASSA_TIMEOUT; failures are 503s."""

    def run() -> Any:
        _configure(services)
        return fn(*args, **kwargs)

    try:
        async with asyncio.timeout(services.settings.yookassa_timeout):
            return await asyncio.to_thread(run)
    except TimeoutError:
        log.warning("YooKassa did not answer within %.0f s", services.settings.yookassa_timeout)
    except Exception as exc:  # noqa: BLE001 - the SDK's ApiError family and requests' errors
        log.warning("YooKassa call failed: %s", type(exc).__name__)
    raise Unavailable(N_("Card payments are not available right now. Try again later."))


def _require_configured(services: Services) -> None:
    if not services.settings.yookassa_enabled:
        raise ValidationError(
            N_("Card payments are not set up here: pay with Telegram Stars."),
            field="provider",
            reason="not configured",
        )


async def do_create_payment(
    services: Services, *, user: User, item: Item, language: str
) -> dict[str, Any]:
    """An order for a coin pack and its YooKassa payment; returns where to send the buyer."""
    from yookassa import Payment as YooPayment

    _require_configured(services)
    if item.product != Product.COINS:
        raise ValidationError(
            N_("Premium is sold for Telegram Stars only."), field="packId", reason="stars only"
        )
    pack = get_pack(item.pack_id)
    if pack.kopecks is None:
        raise ValidationError(
            N_("This pack is sold for Telegram Stars only."), field="packId", reason="stars only"
        )
    order_id = uuid.uuid4().hex
    order = await Payment.create(
        order_id=order_id,
        user_id=user.id,
        provider=Provider.YOOKASSA,
        product=Product.COINS,
        pack_id=pack.id,
        coins=pack.total,
        amount=pack.kopecks,
        currency=CURRENCY,
    )
    request = {
        "amount": {"value": rub(pack.kopecks), "currency": CURRENCY},
        "capture": True,
        "confirmation": {
            "type": "redirect",
            "return_url": f"{services.settings.public_url}/app/wallet?order={order_id}",
        },
        "description": f"Vmeste: {pack_title(pack, language)}"[:128],
        "metadata": {"order_id": order_id, "user_id": str(user.id)},
    }
    created = await _call(services, YooPayment.create, request, order_id)
    url = created.confirmation.confirmation_url if created.confirmation else None
    await Payment.filter(id=order.id).update(charge_id=str(created.id), confirmation_url=url)
    return {"provider": "yookassa", "confirmationUrl": url, "orderId": order_id}


def _matches(order: Payment, remote: Any) -> bool:
    amount = remote.amount
    metadata = remote.metadata or {}
    return (
        amount is not None
        and Decimal(str(amount.value)) == Decimal(rub(int(order.amount)))
        and amount.currency == order.currency
        and metadata.get("order_id") == order.order_id
    )


async def do_settle(services: Services, order: Payment) -> Payment:
    """Look the order's payment up at YooKassa and settle it: credit a succeeded payment whose
    amount and order match (once, through ``do_credit``), mark a canceled one."""
    from yookassa import Payment as YooPayment

    if order.status != PaymentStatus.PENDING or order.charge_id is None:
        return order
    remote = await _call(services, YooPayment.find_one, order.charge_id)
    if remote.status == "succeeded" and remote.paid and _matches(order, remote):
        await do_credit(
            services,
            provider=Provider.YOOKASSA,
            charge_id=order.charge_id,
            user_id=order.user_id,
            item=item_for(order.pack_id),
            amount=int(order.amount),
            currency=order.currency,
            order=order,
        )
    elif remote.status == "succeeded":
        log.error("YooKassa payment %s does not match order %s", remote.id, order.order_id)
    elif remote.status == "canceled":
        async with in_transaction():
            await Payment.filter(id=order.id, status=PaymentStatus.PENDING).update(
                status=PaymentStatus.CANCELED
            )
    return await Payment.get(id=order.id)


def _ip_trusted(ip: str | None) -> bool:
    from yookassa.domain.common import SecurityHelper

    try:
        return ip is not None and SecurityHelper().is_ip_trusted(ip)
    except Exception:  # noqa: BLE001 - not an address at all (netaddr's own errors)
        return False


async def do_handle_webhook(services: Services, body: Any, *, client_ip: str | None) -> None:
    """A YooKassa notification: find our order by the payment id it names, then settle it from
    the API's answer (never from the body). Unknown payments are ignored (200), so YooKassa
    stops retrying; an unreachable API is a 503, so it retries later."""
    if not services.settings.yookassa_enabled:
        raise NotFound()
    if services.settings.yookassa_check_ip and not _ip_trusted(client_ip):
        log.warning("YooKassa webhook from an untrusted address %s refused", client_ip)
        raise Forbidden()
    payment_id = body.get("object", {}).get("id") if isinstance(body, dict) else None
    if not isinstance(payment_id, str) or not 1 <= len(payment_id) <= 128:
        raise ValidationError(field="object.id", reason="a payment id")
    order = await Payment.get_or_none(charge_id=payment_id, provider=Provider.YOOKASSA)
    if order is None:
        log.warning("YooKassa webhook for an unknown payment %s", payment_id)
        return
    await do_settle(services, order)


def order_payload(order: Payment) -> dict[str, Any]:
    return {
        "id": order.order_id,
        "provider": order.provider.value,
        "packId": order.pack_id,
        "coins": int(order.coins),
        "status": order.status.value,
        "createdAt": order.created_at.isoformat(),
    }


async def get_order(services: Services, *, user: User, order_id: str) -> dict[str, Any]:
    """The buyer's order after the redirect back; a pending YooKassa order is checked at the
    API first, so a late or lost webhook does not keep the coins from the buyer."""
    order = await Payment.get_or_none(order_id=order_id, user_id=user.id)
    if order is None:
        raise NotFound()
    if (
        order.provider == Provider.YOOKASSA
        and order.status == PaymentStatus.PENDING
        and services.settings.yookassa_enabled
    ):
        order = await do_settle(services, order)
    return order_payload(order)
