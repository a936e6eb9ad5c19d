"""``python -m bot check-ledger`` as an operator runs it, against the SQLite file or the
PostgreSQL database a server wrote: 0 when the books balance, 1 naming the wallet when a
balance was changed behind the ledger's back, and no aiogram imported on the way."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tortoise import connections

from services.wallet.gifts import do_send_gift
from tests.services.wallet.conftest import Bank

ROOT = Path(__file__).resolve().parents[3]


async def check_ledger(database_url: str, cwd: Path) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_", "REDIS_"))}
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=database_url)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-X",
        "importtime",  # every imported module on stderr
        "-m",
        "bot",
        "check-ledger",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_check_ledger_command(bank: Bank, tmp_path: Path) -> None:
    anna, boris = await bank.people("anna", "boris")
    room = await bank.make_room(anna, boris)
    await bank.buy(anna.id)
    await bank.buy(anna.id, "coins_500")
    await bank.run(
        do_send_gift(
            bank.server.services, room=room, acting_user=anna, gift_id="rocket", to_user_id=boris.id
        )
    )
    url = bank.server.settings.database_url
    cwd = tmp_path / "operator"
    cwd.mkdir()

    code, out, err = await check_ledger(url, cwd)
    assert code == 0, (out, err)
    lines = out.strip().splitlines()
    # 100 + 550 bought, a rocket given: 550 coins with Anna, 50 beans with Boris.
    assert lines == [
        "2 wallets checked, 4 ledger entries, 550 coins and 50 beans held: the books balance"
    ]
    imported = [line.split("|")[-1].strip() for line in err.splitlines() if "|" in line]
    assert "services.wallet.ledger" in imported
    assert not [name for name in imported if name.split(".")[0] == "aiogram"]

    async def corrupt() -> None:
        await connections.get("default").execute_query(
            f"UPDATE wallets SET coins = coins + 1 WHERE user_id = {anna.id}"
        )

    await bank.run(corrupt())
    code, out, err = await check_ledger(url, cwd)
    assert code == 1, (out, err)
    assert out.strip().splitlines() == [
        "2 wallets checked, 4 ledger entries, 551 coins and 50 beans held: 1 violations",
        f"user {anna.id}: coins balance 551 != sum of entries 550",
    ]


async def test_check_ledger_on_a_database_that_cannot_be_used(tmp_path: Path) -> None:
    code, _, err = await check_ledger("postgres://postgres@127.0.0.1:9/nothing", tmp_path)
    assert code == 2
    assert "cannot use the database" in err
