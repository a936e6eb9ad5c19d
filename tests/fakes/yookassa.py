"""A small but real fake of the YooKassa API v3 (payments), served over HTTP.

Why: mocking ``yookassa.Payment.create`` never exercises the SDK's request encoding, its
response parsing (``PaymentResponse``), its error mapping or the way our service runs it in a
thread under a timeout. This fake is an aiohttp server on a free port of 127.0.0.1 that the
real SDK (3.x) talks to exactly as it talks to ``https://api.yookassa.ru/v3``::

    async with FakeYooKassa() as fake:
        server = await make_server(yookassa_shop_id=fake.shop_id,
                                   yookassa_secret_key=fake.secret_key,
                                   yookassa_api_url=fake.url)
        ...                                   # the app creates a payment
        payment_id = fake.payments_created[0]["id"]
        fake.succeed(payment_id)              # the buyer paid
        body = fake.notification(payment_id)  # what YooKassa would POST to the webhook

What it simulates like YooKassa:

* ``POST /v3/payments`` and ``GET /v3/payments/{id}``; anything else → 404 ``not_found``;
* HTTP Basic auth ``shop_id:secret_key``; missing or wrong → 401 with YooKassa's error
  object (``{"type": "error", "code": "invalid_credentials", ...}``);
* ``Idempotence-Key`` on POST: missing → 400 ``invalid_request``; the same key with the same
  body → the very same payment (nothing new is created); the same key with another body →
  400 ``invalid_request`` (idempotence key reused);
* validation: ``amount.value`` a positive decimal with at most two decimals (as a string),
  ``amount.currency`` RUB, ``confirmation`` of type ``redirect`` with a ``return_url``,
  ``capture`` a boolean, ``description`` at most 128 characters, ``metadata`` at most 16 keys
  (names ≤ 32, values ≤ 512 characters) → 400 ``invalid_request`` with ``parameter``;
* payment objects shaped like the real ones: ``id`` (uuid), ``status`` (pending at first),
  ``paid``, ``amount`` {value "99.00", currency}, ``confirmation`` {type redirect,
  confirmation_url}, ``created_at``, ``description``, ``metadata``, ``recipient``, ``test``,
  ``refundable``; succeeded ones get ``captured_at`` and ``income_amount``, canceled ones
  ``cancellation_details``; unknown id → 404 ``not_found``.

What the test controls: :meth:`succeed`, :meth:`cancel`, :meth:`wait_for_capture` and
:meth:`tamper` (change what the API reports, e.g. another amount or order), :meth:`add_payment`
(a payment of the shop made without us), :attr:`delay` (the request is carried out at once,
the answer comes late, as when a real call times out after YooKassa made the payment;
:attr:`abandoned` lists the requests whose client hung up meanwhile), :attr:`fail_status`
(answer every call with this error, e.g. 500), and :attr:`calls` (every request: method,
path, headers, JSON body); :meth:`notification` builds the webhook body YooKassa would send.

Not simulated: captures and cancels through the API (``/capture``, ``/cancel``), refunds,
receipts, listing payments, OAuth tokens, payment methods other than a redirect, the 202
"still processing" answer, the 24-hour expiry of idempotence keys, sending webhooks itself
(the test posts :meth:`notification` bodies), and amounts in currencies other than RUB.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

from aiohttp import web

JSON = dict[str, Any]

_VALUE_RE = re.compile(r"[0-9]{1,10}(\.[0-9]{1,2})?")
STATUSES = ("pending", "waiting_for_capture", "succeeded", "canceled")


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class FakeYooKassa:
    def __init__(
        self,
        *,
        shop_id: str = "123456",
        secret_key: str | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.shop_id = shop_id
        self.secret_key = secret_key or f"test_{secrets.token_urlsafe(24)}"
        self._host = host
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        #: Payments by id, as the API reports them.
        self.payments: dict[str, JSON] = {}
        #: Created payments, in order (the same objects as in :attr:`payments`).
        self.payments_created: list[JSON] = []
        #: The request body each payment was created from, by payment id.
        self.requests: dict[str, Any] = {}
        #: Idempotence key → (canonical request body, payment id).
        self._keys: dict[str, tuple[str, str]] = {}
        #: Every request that reached the fake.
        self.calls: list[Call] = []
        #: Requests whose client hung up before the (delayed) answer.
        self.abandoned: list[Call] = []
        #: Seconds to wait before answering (each request).
        self.delay: float = 0.0
        #: Answer every request with this HTTP status (an ``internal_server_error`` body).
        self.fail_status: int | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            return
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self._host, 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """The API base, ``http://127.0.0.1:PORT/v3`` (YOOKASSA_API_URL)."""
        if self._port is None:
            raise RuntimeError("FakeYooKassa is not started")
        return f"http://{self._host}:{self._port}/v3"

    # --- what the test controls ---------------------------------------------------------------

    def _get(self, payment_id: str) -> JSON:
        try:
            return self.payments[payment_id]
        except KeyError:
            raise KeyError(f"no payment {payment_id} at the fake") from None

    def succeed(self, payment_id: str) -> JSON:
        """The buyer paid (and, ``capture: true``, the payment is captured)."""
        payment = self._get(payment_id)
        payment.update(
            status="succeeded",
            paid=True,
            refundable=True,
            captured_at=_now(),
            income_amount={
                "value": _money(Decimal(payment["amount"]["value"]) * Decimal("0.965")),
                "currency": payment["amount"]["currency"],
            },
            payment_method={
                "type": "bank_card",
                "id": payment_id,
                "saved": False,
                "title": "Bank card *4444",
                "card": {
                    "first6": "555555",
                    "last4": "4444",
                    "expiry_month": "12",
                    "expiry_year": "2030",
                    "card_type": "MasterCard",
                },
            },
        )
        payment.pop("confirmation", None)
        return payment

    def wait_for_capture(self, payment_id: str) -> JSON:
        """Paid but not captured (a two-stage payment, ``capture: false``)."""
        payment = self._get(payment_id)
        payment.update(status="waiting_for_capture", paid=True)
        return payment

    def cancel(self, payment_id: str, reason: str = "expired_on_confirmation") -> JSON:
        payment = self._get(payment_id)
        payment.update(
            status="canceled",
            paid=False,
            refundable=False,
            cancellation_details={"party": "yoo_money", "reason": reason},
        )
        payment.pop("confirmation", None)
        return payment

    def tamper(self, payment_id: str, **fields: Any) -> JSON:
        """Change what the API reports for a payment (``amount=...``, ``metadata=...``)."""
        payment = self._get(payment_id)
        payment.update(copy.deepcopy(fields))
        return payment

    def add_payment(
        self,
        *,
        value: str = "99.00",
        currency: str = "RUB",
        metadata: dict[str, str] | None = None,
        status: str = "succeeded",
    ) -> JSON:
        """A payment made at YooKassa without us (another integration of the shop, say)."""
        payment_id = str(uuid.uuid4())
        payment: JSON = {
            "id": payment_id,
            "status": "pending",
            "paid": False,
            "amount": {"value": value, "currency": currency},
            "created_at": _now(),
            "metadata": dict(metadata or {}),
            "recipient": {"account_id": self.shop_id, "gateway_id": "100500"},
            "refundable": False,
            "test": True,
        }
        self.payments[payment_id] = payment
        if status == "succeeded":
            self.succeed(payment_id)
        elif status == "canceled":
            self.cancel(payment_id)
        return payment

    def notification(self, payment_id: str, event: str | None = None, **overrides: Any) -> JSON:
        """The body YooKassa would POST to the webhook for this payment now (``event``
        defaults to the payment's status); ``overrides`` replace fields of its ``object``
        (a forged notification)."""
        payment = copy.deepcopy(self.payments.get(payment_id, {"id": payment_id}))
        payment.update(copy.deepcopy(overrides))
        status = payment.get("status", "succeeded")
        return {"type": "notification", "event": event or f"payment.{status}", "object": payment}

    def api_calls(self, method: str | None = None, path: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if (method is None or c.method == method) and (path is None or c.path == path)
        ]

    # --- the API ------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.calls.append(Call(request.method, request.path, dict(request.headers), body))
        # The work is done first, the answer is late: a client that gave up waiting may find
        # the payment made (as with a real timeout).
        response = self._answer(request, body)
        if self.delay:
            await asyncio.sleep(self.delay)
            if request.transport is None or request.transport.is_closing():
                self.abandoned.append(self.calls[-1])
        return response

    def _answer(self, request: web.Request, body: Any) -> web.Response:
        if self.fail_status is not None:
            return _error(
                self.fail_status, "internal_server_error", "Internal server error (the fake)"
            )
        if not self._authorized(request):
            return _error(
                401,
                "invalid_credentials",
                "Authentication by given credentials failed",
                parameter="Authorization",
            )
        path = request.path
        if path == "/v3/payments" and request.method == "POST":
            return self._create(request, body)
        match = re.fullmatch(r"/v3/payments/([^/]+)", path)
        if match and request.method == "GET":
            payment = self.payments.get(match.group(1))
            if payment is None:
                return _error(404, "not_found", "Incorrect payment_id. Payment doesn't exist")
            return web.json_response(payment)
        return _error(404, "not_found", f"{request.method} {path} is not supported")

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header.removeprefix("Basic "), validate=True).decode()
        except ValueError:
            return False
        shop_id, _, key = decoded.partition(":")
        return secrets.compare_digest(shop_id, self.shop_id) and secrets.compare_digest(
            key, self.secret_key
        )

    def _create(self, request: web.Request, body: Any) -> web.Response:
        key = request.headers.get("Idempotence-Key")
        if not key:
            return _error(
                400,
                "invalid_request",
                "Idempotence key is missing in the request headers",
                parameter="Idempotence-Key",
            )
        if len(key) > 64:
            return _error(400, "invalid_request", "Idempotence key is too long")
        canonical = json.dumps(body, sort_keys=True, ensure_ascii=False)
        if key in self._keys:
            first, payment_id = self._keys[key]
            if first != canonical:
                return _error(
                    400,
                    "invalid_request",
                    "Idempotence key duplicated: the same key was used with other "
                    "request parameters",
                    parameter="Idempotence-Key",
                )
            return web.json_response(self.payments[payment_id])
        problem = _validate(body)
        if problem is not None:
            return _error(400, "invalid_request", problem[1], parameter=problem[0])
        payment_id = str(uuid.uuid4())
        amount = body["amount"]
        payment: JSON = {
            "id": payment_id,
            "status": "pending",
            "paid": False,
            "amount": {
                "value": _money(Decimal(amount["value"])),
                "currency": amount["currency"],
            },
            "confirmation": {
                "type": "redirect",
                "return_url": body["confirmation"]["return_url"],
                "confirmation_url": "https://yoomoney.ru/checkout/payments/v2/contract"
                f"?orderId={payment_id}",
            },
            "created_at": _now(),
            "description": body.get("description"),
            "metadata": dict(body.get("metadata") or {}),
            "recipient": {"account_id": self.shop_id, "gateway_id": "100500"},
            "refundable": False,
            "test": True,
        }
        if payment["description"] is None:
            del payment["description"]
        self.requests[payment_id] = body
        self.payments[payment_id] = payment
        self.payments_created.append(payment)
        self._keys[key] = (canonical, payment_id)
        return web.json_response(payment)


def _validate(body: Any) -> tuple[str, str] | None:
    """(parameter, description) of the first problem, like YooKassa's ``invalid_request``."""
    if not isinstance(body, dict):
        return "body", "Request body must be a JSON object"
    amount = body.get("amount")
    if not isinstance(amount, dict):
        return "amount", "Amount is missing"
    value = amount.get("value")
    if not isinstance(value, str) or not _VALUE_RE.fullmatch(value):
        return "amount.value", "Invalid amount value"
    if Decimal(value) <= 0:
        return "amount.value", "Amount must be more than zero"
    if amount.get("currency") != "RUB":
        return "amount.currency", "Unsupported currency"
    if "capture" in body and not isinstance(body["capture"], bool):
        return "capture", "Capture must be a boolean"
    confirmation = body.get("confirmation")
    if not isinstance(confirmation, dict) or confirmation.get("type") != "redirect":
        return "confirmation.type", "Only the redirect confirmation is supported (the fake)"
    return_url = confirmation.get("return_url")
    if not isinstance(return_url, str) or not re.match(r"https?://", return_url):
        return "confirmation.return_url", "Return URL is missing or invalid"
    if len(return_url) > 2048:
        return "confirmation.return_url", "Return URL is too long"
    description = body.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 128):
        return "description", "Description must be a string of at most 128 characters"
    metadata = body.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict) or len(metadata) > 16:
            return "metadata", "Metadata must be an object of at most 16 keys"
        for name, item in metadata.items():
            if len(name) > 32 or not isinstance(item, str) or len(item) > 512:
                return f"metadata.{name}", "Metadata keys ≤ 32, values strings ≤ 512 characters"
    return None


def _error(
    status: int, code: str, description: str, *, parameter: str | None = None
) -> web.Response:
    body: JSON = {
        "type": "error",
        "id": str(uuid.uuid4()),
        "code": code,
        "description": description,
    }
    if parameter is not None:
        body["parameter"] = parameter
    return web.json_response(body, status=status)


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
