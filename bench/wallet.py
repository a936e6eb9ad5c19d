"""Wallet benchmark: gifts per second on one process, concurrent senders, then the books.

Creates a fresh PostgreSQL database (or a SQLite file with ``--backend sqlite``), applies the
migrations, signs up ``--users`` people into one watch room, credits every one of them through
``do_credit`` (the path every payment takes), then ``--senders`` concurrent tasks send gifts
through ``services.wallet.gifts.do_send_gift`` (the function ``gift:send`` and ``POST
/api/rooms/{id}/gifts`` call) to random other members for ``--duration`` seconds: each sends
its next gift as soon as the previous one returned (``--rate``: at a fixed total rate instead,
open loop). The event bus runs as in the server
(``gift:sent``, ``wallet:updated``, the chat's system line), with no sockets attached.

Prints gifts per second, latency percentiles, this process's CPU and memory, errors by kind,
and the invariant check afterwards: ``check_ledger()`` (every balance equals the sum of its
entries, none negative), coins conserved (bought = held + spent on gifts) and beans (held =
earned from gifts).

    .venv/bin/python bench/wallet.py                       # PostgreSQL, 50 senders, 20 s
    .venv/bin/python bench/wallet.py --rate 1000           # 1,000 gifts/s offered
    .venv/bin/python bench/wallet.py --senders 50 --duration 30 --redis
    .venv/bin/python bench/wallet.py --backend sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tortoise import Tortoise  # noqa: E402
from tortoise.functions import Sum  # noqa: E402

from models.users import User  # noqa: E402
from models.wallet import Gift, Payment, Provider, Wallet  # noqa: E402
from services.core.config import load_settings  # noqa: E402
from services.core.context import Services  # noqa: E402
from services.core.db import start_database  # noqa: E402
from services.core.errors import AppError, InsufficientFunds  # noqa: E402
from services.rooms import subscribers as rooms_subscribers  # noqa: E402
from services.rooms.membership import do_create_room, do_join_room  # noqa: E402
from services.wallet.catalogue import GIFTS  # noqa: E402
from services.wallet.credit import do_credit, item_for  # noqa: E402
from services.wallet.gifts import do_send_gift  # noqa: E402
from services.wallet.ledger import check_ledger  # noqa: E402

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "vmeste_bench_wallet"
#: Mostly small gifts, as in real rooms; the catalogue's first four.
WEIGHTS = (40, 30, 15, 8, 4, 2, 1, 0)


async def fresh_database(backend: str, workdir: str) -> str:
    if backend == "sqlite":
        return f"sqlite://{workdir}/bench.sqlite3"
    conn = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {BENCH_DB}")
    finally:
        await conn.close()
    return f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def populate(services: Services, users: int, packs: int) -> tuple[object, list[User]]:
    people = [
        await User.create(username=f"bench{i}", first_name=f"Bench {i}") for i in range(users)
    ]
    room = await do_create_room(services, acting_user=people[0], title="Gifts bench")
    for person in people[1:]:
        await do_join_room(services, room=room, acting_user=person)
    item = item_for("coins_5000")
    for person in people:
        for n in range(packs):
            await do_credit(
                services,
                provider=Provider.STARS,
                charge_id=f"bench-{person.id}-{n}",
                user_id=person.id,
                item=item,
                amount=item.stars,
                currency="XTR",
            )
    return room, people


async def run(args: argparse.Namespace) -> None:
    workdir = tempfile.mkdtemp(prefix="vmeste-bench-wallet-")
    database_url = await fresh_database(args.backend, workdir)
    overrides: dict[str, object] = {
        "database_url": database_url,
        "jwt_secret": "b" * 48,
        "gift_rate": "1000000/second",
        "room_hard_cap": max(1000, args.users),
        "free_room_limit": max(10, args.users),
    }
    if args.redis:
        overrides["redis_url"] = "redis://127.0.0.1:6379/0"
    settings = load_settings(**overrides)
    await start_database(settings.database_url)
    services = Services.build(settings)
    rooms_subscribers.register(services)
    try:
        room, people = await populate(services, args.users, args.packs)
        kinds = [g.id for g in GIFTS]
        latencies: list[float] = []
        errors: Counter[str] = Counter()
        stop_at = 0.0

        interval = args.senders / args.rate if args.rate else 0.0

        async def sender(me: User) -> None:
            rng = random.Random(me.id)
            others = [p for p in people if p.id != me.id]
            # Open loop (--rate): each sender keeps its own schedule, whatever the answers take,
            # so a slow server shows as latency, not as a lower offered rate.
            next_at = time.perf_counter() + rng.random() * interval
            while time.perf_counter() < stop_at:
                if interval:
                    delay = next_at - time.perf_counter()
                    next_at += interval
                    if delay > 0:
                        await asyncio.sleep(delay)
                kind = rng.choices(kinds, WEIGHTS)[0]
                to = rng.choice(others)
                start = time.perf_counter()
                try:
                    await do_send_gift(
                        services, room=room, acting_user=me, gift_id=kind, to_user_id=to.id
                    )
                except InsufficientFunds:
                    errors["insufficient_funds"] += 1
                except AppError as exc:
                    errors[exc.code] += 1
                except Exception as exc:  # noqa: BLE001 - counted, the run goes on
                    errors[type(exc).__name__] += 1
                latencies.append((time.perf_counter() - start) * 1000)

        senders = people[: args.senders]
        # Warm-up: connections in the pool, caches, the first chat lines.
        stop_at = time.perf_counter() + 2
        await asyncio.gather(*(sender(p) for p in senders))
        latencies.clear()
        errors.clear()
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        stop_at = t0 + args.duration
        await asyncio.gather(*(sender(p) for p in senders))
        elapsed = time.perf_counter() - t0
        cpu = time.process_time() - cpu0

        ok = len(latencies) - sum(errors.values())
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        offered = f"{args.rate:,.0f}/s offered" if args.rate else "closed loop"
        print(
            f"backend {args.backend}{' + redis' if args.redis else ''}: {args.senders} senders "
            f"({offered}), {args.users} people in one room, {args.duration:.0f} s"
        )
        print(
            f"gifts: {ok} ok in {elapsed:.1f} s = {ok / elapsed:,.0f}/s; calls "
            f"{len(latencies) / elapsed:,.0f}/s; errors {dict(errors) or 'none'}"
        )
        print(
            f"latency ms: p50 {statistics.median(latencies):.1f}  p90 {pct(latencies, 0.9):.1f}  "
            f"p99 {pct(latencies, 0.99):.1f}  max {max(latencies):.1f}"
        )
        print(
            f"this process: {cpu / elapsed:.2f} cores ({cpu / max(1, ok) * 1e6:.0f} µs CPU per "
            f"gift), max RSS {rss:.0f} MiB"
        )

        violations = await check_ledger()
        bought = (await Payment.annotate(t=Sum("coins")).values("t"))[0]["t"] or 0
        held = (await Wallet.annotate(c=Sum("coins"), b=Sum("beans")).values("c", "b"))[0]
        spent = (await Gift.annotate(c=Sum("coins"), b=Sum("beans")).values("c", "b"))[0]
        coins_ok = int(bought) == int(held["c"] or 0) + int(spent["c"] or 0)
        beans_ok = int(held["b"] or 0) == int(spent["b"] or 0)
        negative = await Wallet.filter(coins__lt=0).count() + await Wallet.filter(
            beans__lt=0
        ).count()
        print(
            f"invariants: ledger violations {len(violations)}, negative balances {negative}, "
            f"coins conserved {'yes' if coins_ok else 'NO'} (bought {int(bought):,} = held "
            f"{int(held['c'] or 0):,} + spent {int(spent['c'] or 0):,}), beans conserved "
            f"{'yes' if beans_ok else 'NO'}"
        )
        for violation in violations[:10]:
            print(f"  {violation}")
    finally:
        await services.close()
        await Tortoise.close_connections()
        if args.backend == "postgres":
            with contextlib.suppress(Exception):
                conn = await asyncpg.connect(POSTGRES_ADMIN)
                await conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
                await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--redis", action="store_true", help="ephemeral state in Redis")
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--users", type=int, default=60, help="people in the room")
    parser.add_argument("--packs", type=int, default=20, help="7,000-coin packs per person")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="gifts/s offered in total, spread over the senders (open loop); "
        "0: each sender sends its next gift as soon as the last one returned (closed loop)",
    )
    args = parser.parse_args()
    if args.senders > args.users:
        parser.error("--senders must not exceed --users")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
