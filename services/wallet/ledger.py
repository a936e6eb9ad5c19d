"""The ledger: every coin and bean that moves is an entry, written in the transaction that
changes the balance, under a unique key.

- A debit is a conditional update (``coins >= amount``): 0 rows means not enough, and the whole
  transaction rolls back (:class:`InsufficientFunds`). The database's CHECK constraints
  (``wallets_*_non_negative``) are the second line.
- A movement asked for twice (a replayed payment update, a retried gift) collides on the
  entry's unique ``key`` before any balance changes: :class:`AlreadyApplied`, nothing done.
- Wallet rows are updated in user-id order, so two gifts crossing between the same two people
  cannot deadlock on PostgreSQL.

:func:`check_ledger` proves the invariant on a live database (``python -m bot check-ledger``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.functions import Count, Sum
from tortoise.transactions import in_transaction

from models.wallet import Currency, EntryKind, LedgerEntry, Wallet
from services.core.db import for_client
from services.core.errors import N_, InsufficientFunds, ValidationError

#: No single movement is larger than this (a misplaced digit is refused, not credited).
MAX_AMOUNT = 10_000_000


class AlreadyApplied(Exception):
    """The movement's key is in the ledger already: it happened once, it will not again."""


@dataclass(frozen=True)
class Move:
    user_id: int
    currency: Currency
    amount: int
    kind: EntryKind
    key: str
    payment_id: int | None = None
    gift_id: int | None = None
    withdrawal_id: int | None = None


def check_amount(amount: Any, *, field: str = "amount") -> int:
    """A positive whole number of coins or beans, at most :data:`MAX_AMOUNT`."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationError(field=field, reason="a whole number")
    if amount <= 0:
        raise ValidationError(field=field, reason="more than zero")
    if amount > MAX_AMOUNT:
        raise ValidationError(field=field, reason=f"at most {MAX_AMOUNT}")
    return amount


_COLUMNS = {Currency.COINS: "coins", Currency.BEANS: "beans"}
_ENTRY_COLUMNS = (
    "key, user_id, currency, amount, kind, payment_id, gift_id, withdrawal_id, created_at"
)


async def _change(move: Move) -> dict[str, int]:
    """One balance change as one statement, answering the new balances (``RETURNING``: no read
    after it). Tortoise's ``update()`` costs about twice the CPU of the statement itself and
    returns only a row count; this is the hot path of every gift."""
    client = connections.get("default")
    column = _COLUMNS[move.currency]
    if move.amount < 0:
        rows = await client.execute_query_dict(
            for_client(
                client,
                f"UPDATE wallets SET {column} = {column} + $1 "
                f"WHERE user_id = $2 AND {column} >= $3 RETURNING coins, beans",
            ),
            [move.amount, move.user_id, -move.amount],
        )
        if not rows:
            if move.currency == Currency.COINS:
                raise InsufficientFunds()
            raise InsufficientFunds(N_("Not enough beans."))
        return {"coins": int(rows[0]["coins"]), "beans": int(rows[0]["beans"])}
    update = for_client(
        client,
        f"UPDATE wallets SET {column} = {column} + $1 WHERE user_id = $2 RETURNING coins, beans",
    )
    rows = await client.execute_query_dict(update, [move.amount, move.user_id])
    if not rows:
        # The first credit makes the row. A concurrent first credit may make it too, so no
        # error may abort the transaction (ON CONFLICT DO NOTHING), and the update runs again.
        await Wallet.bulk_create([Wallet(user_id=move.user_id)], ignore_conflicts=True)
        rows = await client.execute_query_dict(update, [move.amount, move.user_id])
    return {"coins": int(rows[0]["coins"]), "beans": int(rows[0]["beans"])}


async def apply(moves: Sequence[Move]) -> dict[int, dict[str, int]]:
    """Write ``moves`` as entries and change the balances; call inside ``in_transaction()``.
    Returns the new balances of the users moved.

    Raises :class:`AlreadyApplied` (the first key exists) or :class:`InsufficientFunds`; the
    caller's transaction must then roll back, which the exception does when it propagates."""
    for move in moves:
        if move.amount == 0 or abs(move.amount) > MAX_AMOUNT:
            raise ValueError(f"bad ledger amount {move.amount}")
    client = connections.get("default")
    now = datetime.now(UTC)
    rows = ", ".join(
        "(" + ", ".join(f"${9 * i + j}" for j in range(1, 10)) + ")" for i in range(len(moves))
    )
    params: list[Any] = []
    for m in moves:
        params += [
            m.key,
            m.user_id,
            m.currency.value,
            m.amount,
            m.kind.value,
            m.payment_id,
            m.gift_id,
            m.withdrawal_id,
            now,
        ]
    try:
        await client.execute_query(
            for_client(client, f"INSERT INTO ledger_entries ({_ENTRY_COLUMNS}) VALUES {rows}"),
            params,
        )
    except IntegrityError:
        raise AlreadyApplied(moves[0].key) from None
    balances = {}
    for move in sorted(moves, key=lambda m: m.user_id):
        balances[move.user_id] = await _change(move)
    return balances


async def is_applied(key: str) -> bool:
    return await LedgerEntry.exists(key=key)


async def get_balance(user_id: int) -> dict[str, int]:
    row = await Wallet.filter(user_id=user_id).values("coins", "beans")
    if not row:
        return {"coins": 0, "beans": 0}
    return {"coins": int(row[0]["coins"]), "beans": int(row[0]["beans"])}


@dataclass(frozen=True)
class Violation:
    user_id: int
    currency: str
    balance: int
    entries: int

    def __str__(self) -> str:
        return (
            f"user {self.user_id}: {self.currency} balance {self.balance} "
            f"!= sum of entries {self.entries}"
        )


@dataclass(frozen=True)
class Audit:
    """The books at one moment: how many wallets and entries, the coins and beans held, and
    every :class:`Violation` (none: they balance)."""

    wallets: int
    entries: int
    coins: int
    beans: int
    violations: list[Violation]

    def __str__(self) -> str:
        return (
            f"{self.wallets} wallets checked, {self.entries} ledger entries, "
            f"{self.coins} coins and {self.beans} beans held: "
            + ("the books balance" if not self.violations else f"{len(self.violations)} violations")
        )


async def audit(user_ids: Iterable[int] | None = None) -> Audit:
    """Wallets and entries read in one snapshot (REPEATABLE READ on PostgreSQL; a read
    transaction on SQLite), so gifts and credits committed meanwhile never read as a
    mismatch between a balance and its entries."""
    async with in_transaction() as connection:
        if connection.capabilities.dialect == "postgres":
            await connection.execute_script(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
            )
        wallets = Wallet.all()
        entries = LedgerEntry.all()
        if user_ids is not None:
            ids = list(user_ids)
            wallets = wallets.filter(user_id__in=ids)
            entries = entries.filter(user_id__in=ids)
        balances = {
            row["user_id"]: row for row in await wallets.values("user_id", "coins", "beans")
        }
        rows = (
            await entries.annotate(total=Sum("amount"), count=Count("id"))
            .group_by("user_id", "currency")
            .values("user_id", "currency", "total", "count")
        )
    sums: dict[tuple[int, str], int] = {}
    for row in rows:
        sums[(row["user_id"], Currency(row["currency"]).value)] = int(row["total"] or 0)
    found = []
    for user_id in sorted(set(balances) | {uid for uid, _ in sums}):
        wallet = balances.get(user_id, {"coins": 0, "beans": 0})
        for currency in (Currency.COINS.value, Currency.BEANS.value):
            balance = int(wallet[currency])
            total = sums.get((user_id, currency), 0)
            if balance != total or balance < 0:
                found.append(Violation(user_id, currency, balance, total))
    return Audit(
        wallets=len(balances),
        entries=sum(int(row["count"]) for row in rows),
        coins=sum(int(w["coins"]) for w in balances.values()),
        beans=sum(int(w["beans"]) for w in balances.values()),
        violations=found,
    )


async def check_ledger(user_ids: Iterable[int] | None = None) -> list[Violation]:
    """Every wallet whose balance differs from the sum of its entries, or is negative (also
    entries without a wallet). Empty: the books balance."""
    return (await audit(user_ids)).violations
