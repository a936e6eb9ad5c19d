"""The wallet over REST (docs/wallet.md): the catalogue, packs, payment intents, balances,
gifts, leaderboards, withdrawals and the YooKassa webhook.

Every rule lives in ``services.wallet``; these views parse, resolve the requester, call one
service function and render its result.
"""

from __future__ import annotations

import json
import re

from aiohttp import web

from services.accounts.users import pick_language
from services.core.errors import Unauthorized, ValidationError
from services.core.i18n import negotiate
from services.rooms import access
from services.wallet import catalogue, gifts, payments, wallet, yookassa
from services.wallet.contract import CreateIntentBody, SendGiftBody, WithdrawalBody
from webapp.http import client_ip, optional_requester, parse_body, read_body, requester
from webapp.keys import SERVICES

_INT_RE = re.compile(r"[0-9]{1,10}")
_ORDER_RE = re.compile(r"[0-9a-f]{32}")


async def _language(request: web.Request) -> str:
    """The signed-in user's language for the public catalogues; a stale token there is no
    error (nothing is private), the browser's language answers instead."""
    try:
        user = await optional_requester(request)
    except Unauthorized:
        user = None
    if user is not None:
        return pick_language(user)
    return negotiate(request.query.get("lang"), request.headers.get("Accept-Language"))


def _query_int(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if not _INT_RE.fullmatch(raw) or int(raw) > 2**63 - 1:
        raise ValidationError(field=name, reason="a positive integer")
    return int(raw)


async def gift_catalogue(request: web.Request) -> web.Response:
    language = await _language(request)
    return web.json_response(
        {"gifts": [catalogue.gift_payload(g, language) for g in catalogue.GIFTS]}
    )


async def packs(request: web.Request) -> web.Response:
    language = await _language(request)
    return web.json_response(catalogue.get_offer(request.app[SERVICES].settings, language))


async def create_intent(request: web.Request) -> web.Response:
    user = await requester(request)
    body = await parse_body(request, CreateIntentBody)
    intent = await payments.do_create_intent(
        request.app[SERVICES],
        user=user,
        product_id=body.pack_id,
        provider=body.provider,
        language=pick_language(user),
    )
    return web.json_response(intent)


async def order(request: web.Request) -> web.Response:
    user = await requester(request)
    order_id = request.match_info["order_id"]
    if not _ORDER_RE.fullmatch(order_id):
        raise ValidationError(field="orderId", reason="an order id")
    found = await yookassa.get_order(request.app[SERVICES], user=user, order_id=order_id)
    return web.json_response({"order": found})


async def my_wallet(request: web.Request) -> web.Response:
    user = await requester(request)
    limit = _query_int(request, "limit")
    found = await wallet.get_wallet(
        user,
        before=_query_int(request, "before"),
        limit=wallet.HISTORY_LIMIT if limit is None else limit,
    )
    return web.json_response({"wallet": found})


async def send_gift(request: web.Request) -> web.Response:
    user = await requester(request)
    body = await parse_body(request, SendGiftBody)
    room = await access.access_room(request.match_info["id"])
    gift, balance = await gifts.do_send_gift(
        request.app[SERVICES],
        room=room,
        acting_user=user,
        gift_id=body.gift_id,
        to_user_id=body.to_user_id,
        key=body.key,
        language=pick_language(user),
    )
    return web.json_response({"gift": gift, "balance": balance}, status=201)


async def room_leaderboard(request: web.Request) -> web.Response:
    user = await requester(request)
    room = await access.access_room(request.match_info["id"])
    board = await gifts.get_room_leaderboard(room, user)
    return web.json_response({"leaderboard": board})


async def leaderboard(request: web.Request) -> web.Response:
    await requester(request)
    board = await gifts.get_leaderboard(request.query.get("period"))
    return web.json_response({"leaderboard": board})


async def request_withdrawal(request: web.Request) -> web.Response:
    user = await requester(request)
    body = await parse_body(request, WithdrawalBody)
    withdrawal, balance = await wallet.do_request_withdrawal(
        request.app[SERVICES], acting_user=user, beans=body.beans
    )
    return web.json_response(
        {"withdrawal": wallet.withdrawal_payload(withdrawal), "balance": balance}, status=201
    )


async def withdrawals(request: web.Request) -> web.Response:
    user = await requester(request)
    return web.json_response(
        {"withdrawals": await wallet.get_withdrawals(user), "minimum": wallet.MIN_WITHDRAWAL}
    )


async def yookassa_webhook(request: web.Request) -> web.Response:
    raw = await read_body(request)
    try:
        body = json.loads(raw)
    except ValueError:
        raise ValidationError(field="body", reason="JSON") from None
    await yookassa.do_handle_webhook(request.app[SERVICES], body, client_ip=client_ip(request))
    return web.json_response({"ok": True})
