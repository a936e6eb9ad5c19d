"""A user's wallet as they see it: balances, premium, history, who gave them what; and bean
withdrawal requests (recorded for an admin: there is no payout rail yet)."""

from __future__ import annotations

from typing import Any

from tortoise.transactions import in_transaction

from models.users import User
from models.wallet import (
    Currency,
    EntryKind,
    Gift,
    LedgerEntry,
    Wallet,
    Withdrawal,
    WithdrawalStatus,
)
from services.accounts.users import user_payload
from services.core.context import Services
from services.core.errors import N_, Forbidden, ValidationError
from services.core.events import Event
from services.wallet import events as ev
from services.wallet import ledger
from services.wallet.gifts import get_received
from services.wallet.ledger import Move
from services.wallet.payments import get_premium

HISTORY_LIMIT = 30
MAX_HISTORY_LIMIT = 100
#: Beans per withdrawal request at least.
MIN_WITHDRAWAL = 1000
#: Pending requests per user at once.
MAX_PENDING_WITHDRAWALS = 3


def _entry_payload(entry: LedgerEntry, gift: Gift | None, users: dict[int, User]) -> dict[str, Any]:
    counterpart = None
    if gift is not None:
        other = gift.recipient_id if entry.kind == EntryKind.GIFT_SENT else gift.sender_id
        if other in users:
            counterpart = user_payload(users[other])
    return {
        "id": entry.id,
        "currency": entry.currency.value,
        "amount": int(entry.amount),
        "kind": entry.kind.value,
        "gift": gift.kind if gift is not None else None,
        "counterpart": counterpart,
        "roomId": gift.room_id if gift is not None else None,
        "createdAt": entry.created_at.isoformat(),
    }


async def get_history(
    user: User, *, before: int | None = None, limit: int = HISTORY_LIMIT
) -> list[dict[str, Any]]:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_HISTORY_LIMIT:
        raise ValidationError(field="limit", reason=f"1-{MAX_HISTORY_LIMIT}")
    query = LedgerEntry.filter(user_id=user.id)
    if before is not None:
        query = query.filter(id__lt=before)
    entries = await query.order_by("-id").limit(limit)
    gift_ids = {e.gift_id for e in entries if e.gift_id is not None}
    gifts = {g.id: g for g in await Gift.filter(id__in=gift_ids)} if gift_ids else {}
    other_ids = {g.sender_id for g in gifts.values()} | {g.recipient_id for g in gifts.values()}
    users = {u.id: u for u in await User.filter(id__in=other_ids)} if other_ids else {}
    return [_entry_payload(e, gifts.get(e.gift_id) if e.gift_id else None, users) for e in entries]


async def get_wallet(
    user: User, *, before: int | None = None, limit: int = HISTORY_LIMIT
) -> dict[str, Any]:
    balance = await ledger.get_balance(user.id)
    return {
        **balance,
        "premium": await get_premium(user),
        "history": await get_history(user, before=before, limit=limit),
        "received": await get_received(user),
        "withdrawalsEnabled": False,
    }


def withdrawal_payload(withdrawal: Withdrawal) -> dict[str, Any]:
    return {
        "id": withdrawal.id,
        "beans": int(withdrawal.beans),
        "status": withdrawal.status.value,
        "createdAt": withdrawal.created_at.isoformat(),
    }


async def do_request_withdrawal(
    services: Services, *, acting_user: User, beans: Any
) -> tuple[Withdrawal, dict[str, int]]:
    """Hold ``beans`` and record a request to pay them out; an admin decides later."""
    beans = ledger.check_amount(beans, field="beans")
    if beans < MIN_WITHDRAWAL:
        raise ValidationError(
            N_("You can withdraw {minimum} beans or more."),
            field="beans",
            reason=f"at least {MIN_WITHDRAWAL}",
            minimum=MIN_WITHDRAWAL,
        )
    if acting_user.banned_at is not None:
        raise Forbidden(N_("Withdrawals are not available for your account."), reason="banned")
    async with in_transaction():
        # The wallet row locked first (PostgreSQL; SQLite's transactions take turns): two
        # requests at once count the pending ones one after the other, never both under the cap.
        await Wallet.select_for_update().filter(user_id=acting_user.id).first()
        pending = await Withdrawal.filter(
            user_id=acting_user.id, status=WithdrawalStatus.PENDING
        ).count()
        if pending >= MAX_PENDING_WITHDRAWALS:
            raise ValidationError(
                N_("You have {count} requests waiting already."),
                field="beans",
                reason="too many pending",
                count=pending,
            )
        withdrawal = await Withdrawal.create(user_id=acting_user.id, beans=beans)
        await ledger.apply(
            [
                Move(
                    acting_user.id,
                    Currency.BEANS,
                    -beans,
                    EntryKind.WITHDRAWAL,
                    f"withdrawal:{withdrawal.id}",
                    withdrawal_id=withdrawal.id,
                )
            ]
        )
    balance = await ledger.get_balance(acting_user.id)
    await services.events.publish(Event(ev.WALLET_UPDATED, balance, scope=f"user:{acting_user.id}"))
    return withdrawal, balance


async def get_withdrawals(user: User) -> list[dict[str, Any]]:
    rows = await Withdrawal.filter(user_id=user.id).order_by("-id").limit(50)
    return [withdrawal_payload(w) for w in rows]
