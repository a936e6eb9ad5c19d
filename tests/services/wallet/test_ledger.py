"""services.wallet.ledger under load and misuse: a thousand concurrent spends and gifts keep
the books (no negative balance, coins conserved, every call succeeds or is refused for want of
coins, no deadlock), retries apply once, the CHECK constraints hold, bad amounts are refused."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import pytest
from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from models.wallet import Currency, EntryKind, Gift, LedgerEntry, Wallet
from services.core.errors import Conflict, InsufficientFunds, ValidationError
from services.wallet import ledger
from services.wallet.catalogue import GIFTS_BY_ID
from services.wallet.credit import item_for
from services.wallet.gifts import do_send_gift
from services.wallet.ledger import MAX_AMOUNT, Move, check_amount, check_ledger
from tests.services.wallet.conftest import Bank

NAMES = ("anna", "boris", "carl", "dora", "egor", "fima")
#: In the room with no wallet yet: their first beans make the row, several gifts at once.
NEWCOMERS = ("gleb", "hana")
#: What each buys before the storm: four of them 7,000 coins (most of their sends go
#: through), two of them 300 (they run dry early, and are refused from then on).
PACKS = {
    "anna": ["coins_5000"],
    "boris": ["coins_5000"],
    "carl": ["coins_5000"],
    "dora": ["coins_5000"],
    "egor": ["coins_100"] * 3,
    "fima": ["coins_100"] * 3,
}
GIFT_KINDS = ("rose", "heart", "diamond", "rocket")
OPERATIONS = 1000


async def _spend(bank: Bank, user_id: int, amount: int, key: str) -> None:
    """A debit that is not a gift (a refund taking coins back), straight through the ledger."""
    async with in_transaction():
        await ledger.apply([Move(user_id, Currency.COINS, -amount, EntryKind.REFUND, key)])


async def test_a_thousand_concurrent_spends_and_gifts_keep_the_books(
    bank: Bank, database_url: str | None
) -> None:
    users = await bank.people(*NAMES, *NEWCOMERS)
    room = await bank.make_room(*users)
    coins = {u.id: 0 for u in users}
    for user in users:
        for pack in PACKS.get(user.username or "", []):
            await bank.buy(user.id, pack)
            coins[user.id] += item_for(pack).coins
    bought = sum(coins.values())
    assert bought == 4 * 7000 + 2 * 300
    rng = random.Random(20261201)
    services = bank.server.services

    # What each call was: ("gift", sender, recipient, kind) or ("spend", user, amount).
    plan: list[tuple[Any, ...]] = []
    senders = [u for u in users if u.username in PACKS]
    while len(plan) < OPERATIONS:
        a, b = rng.sample(senders, 2)
        roll = rng.random()
        if roll < 0.2:  # crossing gifts: A→B and B→A launched together
            kind = rng.choice(GIFT_KINDS)
            plan += [("gift", a, b, kind), ("gift", b, a, kind)]
        elif roll < 0.7:  # to anyone, newcomers too
            b = rng.choice([u for u in users if u != a])
            plan.append(("gift", a, b, rng.choice(GIFT_KINDS)))
        else:
            plan.append(("spend", a, rng.randint(1, 60)))
    plan = plan[:OPERATIONS]

    def call(i: int, op: tuple[Any, ...]) -> Any:
        if op[0] == "gift":
            _, sender, recipient, kind = op
            return do_send_gift(
                services,
                room=room,
                acting_user=sender,
                gift_id=kind,
                to_user_id=recipient.id,
                key=f"storm-{i:06d}",
            )
        _, user, amount = op
        return _spend(bank, user.id, amount, f"spend:{i}")

    async def storm() -> list[Any]:
        async with asyncio.timeout(240):  # a deadlock would hang (or fail with 40P01)
            return await asyncio.gather(
                *(call(i, op) for i, op in enumerate(plan)), return_exceptions=True
            )

    started = time.monotonic()
    results = await bank.run(storm())
    elapsed = time.monotonic() - started
    others = [r for r in results if isinstance(r, BaseException)]
    others = [r for r in others if not isinstance(r, InsufficientFunds)]
    assert others == [], others[:5]
    succeeded = [op for op, r in zip(plan, results, strict=True) if not isinstance(r, Exception)]
    refused = len(plan) - len(succeeded)
    print(
        f"{OPERATIONS} operations on {'sqlite' if database_url is None else 'postgres'}: "
        f"{elapsed:.2f} s, {len(succeeded)} applied, {refused} refused for want of coins"
    )
    # Both outcomes, plenty of each: most sends went through, the poor were refused.
    assert len(succeeded) > OPERATIONS // 2, refused
    assert refused > 50, len(succeeded)

    # Expected balances from what succeeded, person by person.
    beans = {u.id: 0 for u in users}
    gift_coins = gift_beans = spent = gifts = 0
    for op in succeeded:
        if op[0] == "gift":
            _, sender, recipient, kind = op
            gift = GIFTS_BY_ID[kind]
            coins[sender.id] -= gift.coins
            beans[recipient.id] += gift.beans
            gift_coins += gift.coins
            gift_beans += gift.beans
            gifts += 1
        else:
            _, user, amount = op
            coins[user.id] -= amount
            spent += amount

    async def books() -> dict[str, Any]:
        wallets = await Wallet.filter(user_id__in=list(coins)).values("user_id", "coins", "beans")
        totals = (
            await Gift.filter(room_id=room.id)
            .annotate(c=Sum("coins"), b=Sum("beans"))
            .values("c", "b")
        )
        return {
            "wallets": {w["user_id"]: (int(w["coins"]), int(w["beans"])) for w in wallets},
            "gifts": await Gift.filter(room_id=room.id).count(),
            "gift_coins": int(totals[0]["c"] or 0),
            "gift_beans": int(totals[0]["b"] or 0),
            "debits": await LedgerEntry.filter(amount__lt=0).count(),
            "violations": await check_ledger(),
        }

    found = await bank.query(books)
    assert found["violations"] == []
    assert all(c >= 0 and b >= 0 for c, b in found["wallets"].values()), found["wallets"]
    assert {u.id: found["wallets"].get(u.id, (0, 0)) for u in users} == {
        u.id: (coins[u.id], beans[u.id]) for u in users
    }
    assert found["gifts"] == gifts
    assert found["debits"] == len(succeeded)
    assert (found["gift_coins"], found["gift_beans"]) == (gift_coins, gift_beans)
    # Conserved: every coin bought is in a wallet, was given, or was taken back.
    held_coins = sum(c for c, _ in found["wallets"].values())
    held_beans = sum(b for _, b in found["wallets"].values())
    assert bought == held_coins + gift_coins + spent
    assert held_beans == gift_beans


async def test_the_same_gift_key_twenty_times_at_once_applies_once(bank: Bank) -> None:
    anna, boris = await bank.people("anna", "boris")
    room = await bank.make_room(anna, boris)
    await bank.buy(anna.id)
    services = bank.server.services

    def send(gift_id: str = "diamond") -> Any:
        return do_send_gift(
            services,
            room=room,
            acting_user=anna,
            gift_id=gift_id,
            to_user_id=boris.id,
            key="retried-key-0001",
        )

    async def twenty() -> list[Any]:
        return await asyncio.gather(*(send() for _ in range(20)))

    results = await bank.run(twenty())
    assert {payload["id"] for payload, _ in results} == {results[0][0]["id"]}
    assert [balance for _, balance in results] == [{"coins": 50, "beans": 0}] * 20

    async def rows() -> tuple[int, int, int, list[Any]]:
        return (
            await Gift.all().count(),
            await LedgerEntry.filter(kind=EntryKind.GIFT_SENT).count(),
            await LedgerEntry.filter(kind=EntryKind.GIFT_RECEIVED).count(),
            await check_ledger(),
        )

    assert await bank.query(rows) == (1, 1, 1, [])
    assert await bank.run(ledger.get_balance(boris.id)) == {"coins": 0, "beans": 25}

    # The key again for another gift: refused, nothing moves.
    with pytest.raises(Conflict) as refused:
        await bank.run(send("rose"))
    assert refused.value.http_status == 409
    assert await bank.run(ledger.get_balance(anna.id)) == {"coins": 50, "beans": 0}
    assert await bank.query(rows) == (1, 1, 1, [])


async def test_a_ledger_key_applies_once(bank: Bank) -> None:
    (anna,) = await bank.people("anna")
    await bank.buy(anna.id)

    async def spend_twice() -> None:
        await _spend(bank, anna.id, 30, "spend:once")
        with pytest.raises(ledger.AlreadyApplied):
            await _spend(bank, anna.id, 30, "spend:once")

    await bank.run(spend_twice())
    assert await bank.run(ledger.get_balance(anna.id)) == {"coins": 70, "beans": 0}
    assert await bank.run(check_ledger()) == []


async def test_a_debit_beyond_the_balance_changes_nothing(bank: Bank) -> None:
    (anna,) = await bank.people("anna")
    await bank.buy(anna.id)
    with pytest.raises(InsufficientFunds):
        await bank.run(_spend(bank, anna.id, 101, "spend:too-much"))
    assert await bank.run(ledger.get_balance(anna.id)) == {"coins": 100, "beans": 0}
    assert not await bank.run(ledger.is_applied("spend:too-much"))
    assert await bank.run(check_ledger()) == []


@pytest.mark.parametrize("column", ["coins", "beans"])
async def test_the_check_constraint_refuses_a_negative_balance(bank: Bank, column: str) -> None:
    (anna,) = await bank.people("anna")
    await bank.buy(anna.id)

    async def corrupt() -> None:
        await connections.get("default").execute_query(
            f"UPDATE wallets SET {column} = {column} - 1000 WHERE user_id = {anna.id}"
        )

    with pytest.raises(IntegrityError):
        await bank.run(corrupt())
    assert await bank.run(ledger.get_balance(anna.id)) == {"coins": 100, "beans": 0}


async def test_check_ledger_names_a_corrupted_wallet(bank: Bank) -> None:
    anna, boris = await bank.people("anna", "boris")
    await bank.buy(anna.id)
    assert await bank.run(check_ledger()) == []

    async def corrupt() -> None:
        await connections.get("default").execute_query(
            f"UPDATE wallets SET coins = coins + 1 WHERE user_id = {anna.id}"
        )

    await bank.run(corrupt())
    [violation] = await bank.run(check_ledger())
    assert (violation.user_id, violation.currency, violation.balance, violation.entries) == (
        anna.id,
        "coins",
        101,
        100,
    )
    assert f"user {anna.id}" in str(violation)
    books = await bank.run(ledger.audit())
    assert (books.wallets, books.entries, books.coins, books.beans) == (1, 1, 101, 0)
    assert await bank.run(check_ledger([boris.id])) == []


@pytest.mark.parametrize(
    "amount", [0, -1, -10, True, False, 1.0, 10.5, "10", None, MAX_AMOUNT + 1, 10**30]
)
def test_check_amount_refuses(amount: Any) -> None:
    with pytest.raises(ValidationError):
        check_amount(amount)


@pytest.mark.parametrize("amount", [1, 999, MAX_AMOUNT])
def test_check_amount_takes_whole_positive_numbers(amount: int) -> None:
    assert check_amount(amount) == amount


@pytest.mark.parametrize("amount", [0, MAX_AMOUNT + 1, -(MAX_AMOUNT + 1)])
async def test_apply_refuses_an_amount_out_of_range(amount: int) -> None:
    with pytest.raises(ValueError, match="bad ledger amount"):
        await ledger.apply([Move(1, Currency.COINS, amount, EntryKind.PURCHASE, "x")])
