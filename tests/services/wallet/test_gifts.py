"""services.wallet.gifts and .wallet under concurrency: sends of one gift at once count one
combo (one chat line) on the shared Redis store, and withdrawal requests at once respect the
cap on pending ones."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from models.wallet import Currency, EntryKind, Withdrawal
from services.core.errors import ValidationError
from services.core.events import Event
from services.wallet import gifts, ledger
from services.wallet.gifts import do_send_gift
from services.wallet.ledger import Move, check_ledger
from services.wallet.wallet import MAX_PENDING_WITHDRAWALS, do_request_withdrawal
from tests.conftest import REDIS_URL, ServerFactory
from tests.services.wallet.conftest import Bank, make_bank


@pytest.fixture
async def redis_bank(make_server: ServerFactory, database_url: str | None) -> AsyncIterator[Bank]:
    async for found in make_bank(
        make_server, database_url, gift_rate="100000/second", redis_url=REDIS_URL
    ):
        yield found


@pytest.mark.redis
async def test_sends_at_once_count_one_combo_and_one_chat_line(redis_bank: Bank) -> None:
    bank = redis_bank
    anna, boris = await bank.people("anna", "boris")
    room = await bank.make_room(anna, boris)
    await bank.buy(anna.id)
    events: list[Event] = []

    async def capture(event: Event) -> None:
        events.append(event)

    bank.server.services.events.subscribe("*", capture)

    async def burst() -> list[Any]:
        return await asyncio.gather(
            *(
                do_send_gift(
                    bank.server.services,
                    room=room,
                    acting_user=anna,
                    gift_id="rose",
                    to_user_id=boris.id,
                    key=f"burst-key-{i:04d}",
                )
                for i in range(6)
            )
        )

    results = await bank.run(burst())
    assert sorted(payload["combo"] for payload, _ in results) == [1, 2, 3, 4, 5, 6]
    lines = [e for e in events if e.type == "chat:message" and e.payload["kind"] == "gift"]
    assert len(lines) == 1
    assert len([e for e in events if e.type == "gift:sent"]) == 6
    assert await bank.run(ledger.get_balance(anna.id)) == {"coins": 40, "beans": 0}


async def test_withdrawal_requests_at_once_respect_the_pending_cap(bank: Bank) -> None:
    (boris,) = await bank.people("boris")

    async def beans() -> None:  # as if given: 10,000 beans
        from tortoise.transactions import in_transaction

        async with in_transaction():
            await ledger.apply(
                [Move(boris.id, Currency.BEANS, 10_000, EntryKind.GIFT_RECEIVED, "beans:test")]
            )

    await bank.run(beans())

    async def requests() -> list[Any]:
        return await asyncio.gather(
            *(
                do_request_withdrawal(bank.server.services, acting_user=boris, beans=1000)
                for _ in range(6)
            ),
            return_exceptions=True,
        )

    results = await bank.run(requests())
    made = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(made) == MAX_PENDING_WITHDRAWALS, results
    assert all(isinstance(r, ValidationError) for r in refused), refused
    assert all(r.data.get("reason") == "too many pending" for r in refused), refused
    assert await bank.query(lambda: Withdrawal.filter(user_id=boris.id).count()) == 3
    assert await bank.run(ledger.get_balance(boris.id)) == {"coins": 0, "beans": 7000}
    assert await bank.run(check_ledger()) == []


async def _combo_runs(bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run lasts while each send comes within COMBO_SECONDS of the one before (a window
    that slides), then starts again at 1 with a new chat line."""
    # Gaps well inside the window, and three of them longer than it: a busy machine may take
    # a few hundred ms per send without changing the answer.
    monkeypatch.setattr(gifts, "COMBO_SECONDS", 1.5)
    anna, boris = await bank.people("anna", "boris")
    room = await bank.make_room(anna, boris)
    await bank.buy(anna.id)
    events: list[Event] = []

    async def capture(event: Event) -> None:
        events.append(event)

    bank.server.services.events.subscribe("*", capture)

    async def send() -> int:
        payload, _ = await bank.run(
            do_send_gift(
                bank.server.services,
                room=room,
                acting_user=anna,
                gift_id="rose",
                to_user_id=boris.id,
            )
        )
        return payload["combo"]

    combos = [await send()]
    for _ in range(3):  # 0.8 s apart: 2.4 s after the first, still one run
        await asyncio.sleep(0.8)
        combos.append(await send())
    await asyncio.sleep(2.5)
    combos.append(await send())
    assert combos == [1, 2, 3, 4, 1]
    lines = [e for e in events if e.type == "chat:message" and e.payload["kind"] == "gift"]
    assert len(lines) == 2


async def test_a_combo_window_slides_with_each_send(
    bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _combo_runs(bank, monkeypatch)


@pytest.mark.redis
async def test_a_combo_window_slides_with_each_send_on_redis(
    redis_bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _combo_runs(redis_bank, monkeypatch)
