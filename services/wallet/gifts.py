"""Gifts in a watch room: coins from the sender, beans to the recipient, an animation for
everyone in the room and a line in its chat; and who gave the most.

One transaction writes the gift and both ledger entries (``services.wallet.ledger``); a retry
with the same key finds the gift already made and answers it again without charging twice.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.functions import Count, Sum
from tortoise.transactions import in_transaction

from models.rooms import Room
from models.users import User
from models.wallet import Currency, EntryKind, Gift, Wallet
from services.accounts.users import user_payload
from services.core.context import Services
from services.core.db import for_client
from services.core.errors import N_, Conflict, Forbidden, NotFound, ValidationError
from services.core.events import Event
from services.core.state import STORE_ERRORS, warn_store_down
from services.rooms.access import access_member, check_id, room_scope
from services.rooms.chat import access_sender, do_system_message
from services.wallet import events as ev
from services.wallet import ledger
from services.wallet.catalogue import GiftKind, get_gift, gift_payload
from services.wallet.ledger import Move

log = logging.getLogger(__name__)

#: The same gift from the same sender to the same recipient within this many seconds of the
#: previous one counts up a combo (×2, ×3…) instead of starting again.
COMBO_SECONDS = 5.0
LEADERBOARD_SIZE = 10


def _combo_key(room_id: int, sender_id: int, recipient_id: int, kind: str) -> str:
    return f"gift-combo:{room_id}:{sender_id}:{recipient_id}:{kind}"


async def _next_combo(services: Services, gift: Gift) -> int:
    key = _combo_key(gift.room_id or 0, gift.sender_id, gift.recipient_id, gift.kind)
    try:
        # One atomic count: two sends at once (a double tap, two processes) get 1 and 2, never
        # 1 and 1 (two chat lines). Each send then keeps the run open COMBO_SECONDS more.
        combo = await services.state.incr(key, ttl=COMBO_SECONDS, refresh_ttl=True)
    except STORE_ERRORS as exc:  # no combos while Redis is away; the gift itself is made
        warn_store_down("gift combos", exc)
        combo = 1
    return combo


def gift_sent_payload(
    gift: Gift, kind: GiftKind, sender: User, recipient: dict[str, Any], combo: int, language: str
) -> dict[str, Any]:
    return {
        "id": gift.id,
        "roomId": gift.room_id,
        "gift": gift_payload(kind, language),
        "from": user_payload(sender),
        "to": recipient,
        "combo": combo,
        "createdAt": gift.created_at.isoformat(),
    }


async def _in_room(
    services: Services, room: Room, sender: User, recipient_id: int
) -> dict[str, Any]:
    """The recipient's wire shape, when both they and the sender are in the room now. From the
    chat's sender cache (dropped on every membership change): a gift a second in a busy room
    costs no membership queries."""
    await access_sender(services, room.id, sender.id)
    try:
        recipient = await access_sender(services, room.id, recipient_id)
    except (Forbidden, NotFound):
        raise ValidationError(
            N_("They are not in this room."), field="toUserId", reason="not in the room"
        ) from None
    return recipient.user


async def _insert_gift(
    key: str, sender_id: int, recipient_id: int, room_id: int, kind: GiftKind
) -> Gift:
    """The gift row, by hand: ``Gift.create`` costs more CPU than the statement (gifts are a
    hot path, docs/performance.md). A key that exists raises ``IntegrityError``."""
    client = connections.get("default")
    now = datetime.now(UTC)
    rows = await client.execute_query_dict(
        for_client(
            client,
            "INSERT INTO gifts (key, sender_id, recipient_id, room_id, kind, coins, beans, "
            "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        ),
        [key, sender_id, recipient_id, room_id, kind.id, kind.coins, kind.beans, now],
    )
    return Gift(
        id=int(rows[0]["id"]),
        key=key,
        sender_id=sender_id,
        recipient_id=recipient_id,
        room_id=room_id,
        kind=kind.id,
        coins=kind.coins,
        beans=kind.beans,
        created_at=now,
    )


def _check_key(key: Any) -> str:
    if key is None:
        return uuid.uuid4().hex
    if (
        not isinstance(key, str)
        or not 8 <= len(key) <= 64
        or not key.isascii()
        or not key.isprintable()
    ):
        raise ValidationError(field="key", reason="8-64 printable ASCII characters")
    return key


async def do_send_gift(
    services: Services,
    *,
    room: Room,
    acting_user: User,
    gift_id: Any,
    to_user_id: Any,
    key: Any = None,
    language: str = "en",
) -> tuple[dict[str, Any], dict[str, int]]:
    """Send ``gift_id`` to ``to_user_id`` in ``room``; both must be in it. Returns the
    ``gift:sent`` payload and the sender's new balance. Not enough coins:
    :class:`InsufficientFunds`, nothing moves. The same ``key`` again: the first gift, once."""
    kind = get_gift(gift_id)
    recipient_id = check_id(to_user_id, field="toUserId")
    client_key = _check_key(key)
    if recipient_id == acting_user.id:
        raise ValidationError(
            N_("You cannot send a gift to yourself."), field="toUserId", reason="yourself"
        )
    if acting_user.banned_at is not None:
        raise Forbidden(N_("Gifts are not available for your account."), reason="banned")
    recipient = await _in_room(services, room, acting_user, recipient_id)
    await services.limiter.hit_many(services.settings.gift_rate, "gift", str(acting_user.id))
    gift_key = f"{acting_user.id}:{client_key}"
    try:
        async with in_transaction():
            gift = await _insert_gift(gift_key, acting_user.id, recipient_id, room.id, kind)
            balances = await ledger.apply(
                [
                    Move(
                        acting_user.id,
                        Currency.COINS,
                        -kind.coins,
                        EntryKind.GIFT_SENT,
                        f"gift:{gift.id}:out",
                        gift_id=gift.id,
                    ),
                    Move(
                        recipient_id,
                        Currency.BEANS,
                        kind.beans,
                        EntryKind.GIFT_RECEIVED,
                        f"gift:{gift.id}:in",
                        gift_id=gift.id,
                    ),
                ]
            )
    except IntegrityError:
        return await _replayed(gift_key, room, kind, acting_user, recipient, language)
    combo = await _next_combo(services, gift)
    payload = gift_sent_payload(gift, kind, acting_user, recipient, combo, language)
    await services.events.publish(Event(ev.GIFT_SENT, payload, scope=room_scope(room.id)))
    for user_id, balance in balances.items():
        await services.events.publish(Event(ev.WALLET_UPDATED, balance, scope=f"user:{user_id}"))
    if combo == 1:
        # One line per run: a combo of fifty roses is one line, the animation counts them.
        await do_system_message(
            services,
            room,
            "gift",
            user=acting_user,
            data={
                "gift": kind.id,
                "emoji": kind.emoji,
                "toUserId": recipient_id,
                "toName": recipient["displayName"],
            },
        )
    return payload, balances[acting_user.id]


async def _balances(*user_ids: int) -> dict[int, dict[str, int]]:
    rows = await Wallet.filter(user_id__in=user_ids).values("user_id", "coins", "beans")
    found = {r["user_id"]: {"coins": int(r["coins"]), "beans": int(r["beans"])} for r in rows}
    return {uid: found.get(uid, {"coins": 0, "beans": 0}) for uid in user_ids}


async def _replayed(
    gift_key: str,
    room: Room,
    kind: GiftKind,
    sender: User,
    recipient: dict[str, Any],
    language: str,
) -> tuple[dict[str, Any], dict[str, int]]:
    """A retry of a gift already made: the same answer, nothing charged, nothing animated."""
    gift = await Gift.get_or_none(key=gift_key)
    if gift is None:  # not a key collision after all
        raise Conflict(N_("Could not send the gift. Try again."), field="key")
    if (gift.room_id, gift.recipient_id, gift.kind) != (room.id, recipient["id"], kind.id):
        raise Conflict(
            N_("This key was used for another gift."), field="key", reason="used for another gift"
        )
    balances = await _balances(sender.id)
    return gift_sent_payload(gift, kind, sender, recipient, 1, language), balances[sender.id]


# --- leaderboards -------------------------------------------------------------------------------


async def _board(query: Any) -> dict[str, list[dict[str, Any]]]:
    gifters = (
        await query.annotate(total=Sum("coins"), beans=Sum("beans"), count=Count("id"))
        .group_by("sender_id")
        .order_by("-total", "sender_id")  # ties: the earlier account first, the same each time
        .limit(LEADERBOARD_SIZE)
        .values("sender_id", "total", "beans", "count")
    )
    earners = (
        await query.annotate(total=Sum("beans"), worth=Sum("coins"), count=Count("id"))
        .group_by("recipient_id")
        .order_by("-total", "recipient_id")
        .limit(LEADERBOARD_SIZE)
        .values("recipient_id", "total", "worth", "count")
    )
    ids = {r["sender_id"] for r in gifters} | {r["recipient_id"] for r in earners}
    users = {u.id: u for u in await User.filter(id__in=ids)}
    return {
        "gifters": [
            {
                "user": user_payload(users[r["sender_id"]]),
                "coins": int(r["total"]),
                "beans": int(r["beans"]),
                "gifts": int(r["count"]),
            }
            for r in gifters
            if r["sender_id"] in users
        ],
        "earners": [
            {
                "user": user_payload(users[r["recipient_id"]]),
                "coins": int(r["worth"]),
                "beans": int(r["total"]),
                "gifts": int(r["count"]),
            }
            for r in earners
            if r["recipient_id"] in users
        ],
    }


async def get_room_leaderboard(room: Room, viewer: User) -> dict[str, list[dict[str, Any]]]:
    """Top gifters and earners of one room (its members may look)."""
    await access_member(room, viewer)
    return await _board(Gift.filter(room_id=room.id))


PERIODS = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30)}


async def get_leaderboard(period: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Top gifters and earners everywhere (``period``: day, week, month, or all time)."""
    query = Gift.all()
    if period is not None and period != "all":
        span = PERIODS.get(period)
        if span is None:
            raise ValidationError(field="period", reason="day, week, month or all")
        query = query.filter(created_at__gte=datetime.now(UTC) - span)
    return await _board(query)


async def get_received(user: User, limit: int = 20) -> list[dict[str, Any]]:
    """Who gave ``user`` what: per sender and gift, most beans first."""
    rows = (
        await Gift.filter(recipient_id=user.id)
        .annotate(total=Sum("beans"), count=Count("id"))
        .group_by("sender_id", "kind")
        .order_by("-total", "sender_id", "kind")
        .limit(limit)
        .values("sender_id", "kind", "total", "count")
    )
    users = {u.id: u for u in await User.filter(id__in={r["sender_id"] for r in rows})}
    return [
        {
            "user": user_payload(users[r["sender_id"]]),
            "gift": r["kind"],
            "count": int(r["count"]),
            "beans": int(r["total"]),
        }
        for r in rows
        if r["sender_id"] in users
    ]
