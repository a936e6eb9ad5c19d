"""Coin packs for roubles through YooKassa, for the web version outside Telegram.

The SDK is synchronous (``requests``, no timeout of its own): every call runs in a thread under
``YOOKASSA_TIMEOUT``, through a client bound to this server's settings with a real request
timeout (:class:`_Client`; not the SDK's process-wide ``Configuration``). A payment is created
with the order id as its idempotency key (a retried create is the same payment) and in its
metadata. Webhooks are unsigned: the body only says which payment to look at; the payment is
fetched again from the API and credited only when it succeeded with our amount and our order
(:func:`do_settle`). A payment whose create timed out on our side is still found by its webhook:
the body's ``metadata.order_id`` names the order, the API's metadata must confirm it
(:func:`_claim`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import logging
import re
import uuid
from decimal import Decimal
from typing import Any, ClassVar

# Imported here, not at the first payment: importing the SDK takes a while (>1 s on a busy
# machine), and inside a request handler it blocked the event loop for every client.
import requests
from requests.adapters import HTTPAdapter
from tortoise.transactions import in_transaction
from yookassa import Payment as YooPayment
from yookassa.client import ApiClient
from yookassa.domain.common import SecurityHelper, UserAgent
from yookassa.domain.exceptions import NotFoundError

from models.users import User
from models.wallet import Payment, PaymentStatus, Product, Provider
from services.core.config import Settings
from services.core.context import Services
from services.core.errors import N_, Forbidden, NotFound, Unavailable, ValidationError
from services.wallet.catalogue import get_pack, pack_title, rub
from services.wallet.credit import Item, do_credit, item_for

log = logging.getLogger(__name__)

CURRENCY = "RUB"
_ORDER_RE = re.compile(r"[0-9a-f]{32}")


class _Client(ApiClient):  # type: ignore[misc]
    """The SDK's client for one server's settings, not the process-wide ``Configuration``:
    that is one global, so two servers (or a reconfiguration) racing in threads could send one
    shop's key to another's API URL. And every request gets a real timeout: the SDK's own
    ``timeout`` is only the back-off between 202 retries and ``requests`` is called without
    one, so a hung connection kept its thread for ever (``asyncio.timeout`` in :func:`_call`
    only stops waiting for it)."""

    def __init__(self, settings: Settings) -> None:  # no super(): it reads the global
        assert settings.yookassa_secret_key is not None
        self.configuration = _SdkConfiguration()
        self.endpoint = settings.yookassa_api_url
        self.shop_id = settings.yookassa_shop_id
        self.shop_password = settings.yookassa_secret_key.get_secret_value()
        self.auth_token = None
        self.timeout = int(settings.yookassa_timeout * 1000)
        self.max_attempts = 1
        self.user_agent = _user_agent()
        self._request_timeout = settings.yookassa_timeout

    def get_session(self) -> requests.Session:
        session = requests.Session()
        adapter = _TimeoutAdapter(self._request_timeout)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session


class _TimeoutAdapter(HTTPAdapter):
    def __init__(self, timeout: float) -> None:
        super().__init__(max_retries=0)
        self._timeout = timeout

    def send(self, request: Any, **kwargs: Any) -> Any:
        kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


class _SdkConfiguration:
    """What ``ApiClient.execute`` reads from its configuration."""

    verify = None


@functools.cache
def _user_agent() -> UserAgent:
    """The SDK's ``YM-User-Agent`` (it inspects the OS: once, not per request)."""
    return UserAgent()


class _BoundPayment(YooPayment):  # type: ignore[misc]
    settings: ClassVar[Settings]

    def __init__(self) -> None:
        self.client = _Client(self.settings)


def _sdk(services: Services) -> type[YooPayment]:
    """``yookassa.Payment`` whose calls use this server's settings (:class:`_Client`)."""
    return type("BoundPayment", (_BoundPayment,), {"settings": services.settings})


async def _call(services: Services, method: str, *args: Any, missing_ok: bool = False) -> Any:
    """Run ``yookassa.Payment.<method>`` off the loop, bounded by YOOKASSA_TIMEOUT; failures
    are 503s. ``missing_ok``: None when the API has no such payment (404)."""

    def run() -> Any:
        return getattr(_sdk(services), method)(*args)

    try:
        async with asyncio.timeout(services.settings.yookassa_timeout):
            return await asyncio.to_thread(run)
    except NotFoundError:
        if missing_ok:
            return None
        log.warning("YooKassa call failed: NotFoundError")
    except TimeoutError:
        log.warning("YooKassa did not answer within %.1f s", services.settings.yookassa_timeout)
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
    created = await _call(services, "create", request, order_id)
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


async def do_settle(services: Services, order: Payment, remote: Any = None) -> Payment:
    """Look the order's payment up at YooKassa and settle it: credit a succeeded payment whose
    amount and order match (once, through ``do_credit``), mark a canceled one. ``remote``: the
    payment as the API just reported it (not looked up again)."""
    if order.status != PaymentStatus.PENDING or order.charge_id is None:
        return order
    if remote is None or remote.id != order.charge_id:
        remote = await _call(services, "find_one", order.charge_id)
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
    """One of YooKassa's published addresses (an IPv4 one seen as ``::ffff:a.b.c.d`` on a
    dual-stack socket too)."""
    if ip is None:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    try:
        return bool(SecurityHelper().is_ip_trusted(str(address)))
    except Exception:  # noqa: BLE001 - netaddr's own errors
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
    obj = body.get("object") if isinstance(body, dict) else None
    payment_id = obj.get("id") if isinstance(obj, dict) else None
    if not isinstance(payment_id, str) or not 1 <= len(payment_id) <= 128:
        raise ValidationError(field="object.id", reason="a payment id")
    order = await Payment.get_or_none(charge_id=payment_id, provider=Provider.YOOKASSA)
    remote = None
    if order is None:
        order, remote = await _claim(services, body, payment_id)
    if order is None:
        log.warning("YooKassa webhook for an unknown payment %s", payment_id)
        return
    await do_settle(services, order, remote)


async def _claim(services: Services, body: dict[str, Any], payment_id: str) -> tuple[Any, Any]:
    """The order a payment we never learned the id of belongs to (its create timed out, but
    YooKassa made it): the body's ``metadata.order_id`` names a candidate, and only the API's
    own metadata for that payment confirms it. (order, the API's payment) or (None, None)."""
    metadata = body["object"].get("metadata")
    order_id = metadata.get("order_id") if isinstance(metadata, dict) else None
    if not isinstance(order_id, str) or not _ORDER_RE.fullmatch(order_id):
        return None, None
    order = await Payment.get_or_none(
        order_id=order_id,
        provider=Provider.YOOKASSA,
        status=PaymentStatus.PENDING,
        charge_id=None,
    )
    if order is None:
        return None, None
    remote = await _call(services, "find_one", payment_id, missing_ok=True)
    if remote is None or (remote.metadata or {}).get("order_id") != order.order_id:
        log.warning("YooKassa payment %s does not belong to order %s", payment_id, order_id)
        return None, None
    await Payment.filter(id=order.id, status=PaymentStatus.PENDING, charge_id=None).update(
        charge_id=payment_id
    )
    order = await Payment.get(id=order.id)
    if order.charge_id != payment_id:
        return None, None  # another payment claimed it first
    log.info("YooKassa payment %s found for order %s by its metadata", payment_id, order_id)
    return order, remote


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
        # YooKassa down: the webhook or the next check settles it; the buyer sees it pending.
        with contextlib.suppress(Unavailable):
            order = await do_settle(services, order)
    return order_payload(order)
