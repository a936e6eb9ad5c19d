"""Fan-out benchmark: K rooms × M members of real Socket.IO WebSocket clients, chat traffic.

Starts the app (one process on SQLite, or two processes on PostgreSQL + Redis), signs up
users and fills rooms through the HTTP API, then client worker processes (separate from the
server) connect every member over WebSocket, join their room with ``room:join`` and send
``chat:send`` at a fixed total rate. Every delivered ``chat:message`` carries its send time,
so receivers measure delivery latency. Prints deliveries per second, p50/p99/max latency and
server memory per connection.

    .venv/bin/python bench/fanout.py --connections 5000 --room-size 50 --rate 10000
    .venv/bin/python bench/fanout.py --connections 5000 --room-size 50 --rate 10000 --processes 2
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sioclient import SioConnection  # noqa: E402

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "vmeste_bench"
REDIS_URL = "redis://127.0.0.1:6379/7"


@dataclass
class Member:
    token: str
    room_id: int
    server: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def reset_backends(processes: int) -> str | None:
    if processes == 1:
        return None
    import asyncpg
    import redis.asyncio as redis

    conn = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {BENCH_DB}")
    finally:
        await conn.close()
    client = redis.Redis.from_url(REDIS_URL)
    await client.flushdb()
    await client.aclose()
    return f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"


def start_servers(processes: int, database_url: str | None, cwd: str, room_size: int) -> list:
    servers = []
    for _ in range(processes):
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PORT": str(port),
            "JWT_SECRET": "bench-secret-" + "x" * 40,
            "PASSWORD_HASH_PROFILE": "fast",
            "AUTH_RATE_IP": "1000000/minute",
            "AUTH_RATE_ACCOUNT": "1000000/minute",
            "FREE_ROOM_LIMIT": str(room_size + 5),
            "LOG_LEVEL": "WARNING",
        }
        env.pop("BOT_TOKEN", None)
        if database_url:
            env["DATABASE_URL"] = database_url
            env["REDIS_URL"] = REDIS_URL
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        servers.append((process, f"http://127.0.0.1:{port}"))
    return servers


async def wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(url + "/api/health") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not start")
            await asyncio.sleep(0.1)


async def populate(urls: list[str], connections: int, room_size: int) -> list[Member]:
    """Sign up everyone and fill the rooms through the HTTP API (round-robin over servers)."""
    limit = asyncio.Semaphore(32)
    tag = os.urandom(3).hex()

    async def sign_up(http: aiohttp.ClientSession, i: int) -> str:
        async with (
            limit,
            http.post(
                urls[i % len(urls)] + "/api/auth/register",
                json={
                    "email": f"b{tag}{i}@bench.test",
                    "username": f"b{tag}{i}",
                    "password": "benchpass",
                },
            ) as response,
        ):
            body = await response.json()
            assert response.status == 201, body
            return body["accessToken"]

    async def call(http: aiohttp.ClientSession, url: str, token: str, path: str) -> dict:
        async with (
            limit,
            http.post(
                url + path, json={}, headers={"Authorization": f"Bearer {token}"}
            ) as response,
        ):
            body = await response.json()
            assert response.status in (200, 201), body
            return body

    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector) as http:
        tokens = await asyncio.gather(*(sign_up(http, i) for i in range(connections)))
        members: list[Member] = []
        for start in range(0, connections, room_size):
            group = tokens[start : start + room_size]
            url = urls[(start // room_size) % len(urls)]
            room = (await call(http, url, group[0], "/api/rooms"))["room"]
            await asyncio.gather(
                *(call(http, url, t, f"/api/rooms/{room['id']}/join") for t in group[1:])
            )
            for i, token in enumerate(group):
                # Spread each room's members over the servers: fan-out must cross processes.
                members.append(Member(token, room["id"], urls[(start + i) % len(urls)]))
    return members


def worker(members: list[Member], rate_per_room: float, ready, go, results) -> None:
    asyncio.run(_worker(members, rate_per_room, ready, go, results))


async def _worker(members: list[Member], rate_per_room: float, ready, go, results) -> None:
    latencies: list[float] = []
    state = {"measuring": False, "deliveries": 0, "sent": 0, "errors": 0}

    def on_event(name: str, data: object) -> None:
        if name != "chat:message" or not state["measuring"] or not isinstance(data, dict):
            return
        text = data.get("text", "")
        if text.startswith("t="):
            latencies.append(time.time() * 1000 - float(text[2:]))
            state["deliveries"] += 1

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        connections: list[tuple[SioConnection, Member]] = []
        limit = asyncio.Semaphore(100)

        async def open_one(member: Member) -> None:
            async with limit:
                conn = SioConnection(session, member.server, member.token)
                conn.on_event = on_event
                await conn.connect()
                ack = await conn.call("room:join", {"roomId": member.room_id})
                if not ack.get("ok"):
                    raise RuntimeError(f"room:join failed: {ack}")
                connections.append((conn, member))

        await asyncio.gather(*(open_one(m) for m in members))
        ready.put(len(connections))
        await asyncio.to_thread(go.wait)
        by_room: dict[int, list[SioConnection]] = {}
        for conn, member in connections:
            by_room.setdefault(member.room_id, []).append(conn)
        duration = float(go_duration.value)
        state["measuring"] = True

        room_of = {id(conn): member.room_id for conn, member in connections}

        async def sender(conns: list[SioConnection], offset: float) -> None:
            """Round-robin over the room's members at the room's share of the rate."""
            interval = 1 / rate_per_room
            await asyncio.sleep(offset * interval)
            start = time.monotonic()
            n = 0
            while time.monotonic() - start < duration:
                conn = conns[n % len(conns)]
                n += 1
                text = f"t={time.time() * 1000:.3f}"
                try:
                    await conn.emit("chat:send", {"roomId": room_of[id(conn)], "text": text})
                    state["sent"] += 1
                except (ConnectionError, RuntimeError, aiohttp.ClientError):
                    state["errors"] += 1
                await asyncio.sleep(max(0.0, start + n * interval - time.monotonic()))

        await asyncio.gather(
            *(sender(conns, i / max(1, len(by_room))) for i, conns in enumerate(by_room.values()))
        )
        await asyncio.sleep(2)  # drain
        state["measuring"] = False
        results.put({"latencies": latencies, **state})
        await asyncio.gather(*(conn.close() for conn, _ in connections))


go_duration = mp.Value("d", 0.0)


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


async def main_async(args: argparse.Namespace) -> None:
    database_url = await reset_backends(args.processes)
    with tempfile.TemporaryDirectory() as cwd:
        servers = start_servers(args.processes, database_url, cwd, args.room_size)
        try:
            urls = [url for _, url in servers]
            await asyncio.gather(*(wait_up(url) for url in urls))
            t0 = time.monotonic()
            members = await populate(urls, args.connections, args.room_size)
            setup_s = time.monotonic() - t0
            rss_before = [rss_mib(p.pid) for p, _ in servers]
            rooms = args.connections // args.room_size
            # Deliveries per message = room size, so this is messages/s per room.
            rate_per_room = args.rate / args.room_size / rooms
            ctx = mp.get_context("fork")
            ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
            go_duration.value = args.duration
            # Whole rooms per worker so each room's sender lives with its members.
            by_room: dict[int, list[Member]] = {}
            for m in members:
                by_room.setdefault(m.room_id, []).append(m)
            slices: list[list[Member]] = [[] for _ in range(args.workers)]
            for i, room_members in enumerate(by_room.values()):
                slices[i % args.workers].extend(room_members)
            workers = [
                ctx.Process(target=worker, args=(s, rate_per_room, ready, go, results))
                for s in slices
            ]
            for w in workers:
                w.start()
            connected = sum(ready.get(timeout=600) for _ in workers)
            await asyncio.sleep(1)
            rss_after = [rss_mib(p.pid) for p, _ in servers]
            go.set()
            outcome = [results.get(timeout=args.duration + 120) for _ in workers]
            for w in workers:
                w.join(timeout=30)
        finally:
            for process, _ in servers:
                process.send_signal(signal.SIGTERM)
            for process, _ in servers:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
    latencies = sorted(x for o in outcome for x in o["latencies"])
    deliveries = sum(o["deliveries"] for o in outcome)
    sent = sum(o["sent"] for o in outcome)
    per_conn_kib = (sum(rss_after) - sum(rss_before)) * 1024 / max(1, connected)
    print(
        f"fan-out: {args.processes} server process(es), {connected} connections, "
        f"{args.connections // args.room_size} rooms x {args.room_size}, "
        f"offered {args.rate:.0f} deliveries/s for {args.duration:.0f} s, "
        f"{args.workers} client processes"
    )
    print(f"  setup (sign-ups, rooms, joins over HTTP): {setup_s:.1f} s")
    print(f"  messages sent: {sent} ({sent / args.duration:.0f}/s)")
    print(f"  deliveries: {deliveries} ({deliveries / args.duration:.0f}/s)")
    print(
        f"  latency ms: p50 {pct(latencies, 0.5):.1f}  p90 {pct(latencies, 0.9):.1f}  "
        f"p99 {pct(latencies, 0.99):.1f}  max {latencies[-1] if latencies else float('nan'):.1f}"
    )
    print(
        f"  server RSS: {sum(rss_before):.0f} MiB before sockets, {sum(rss_after):.0f} MiB with "
        f"them → {per_conn_kib:.1f} KiB per connection"
    )
    if latencies:
        print(f"  mean latency {statistics.fmean(latencies):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--room-size", type=int, default=50)
    parser.add_argument("--rate", type=float, default=5000, help="offered deliveries per second")
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--processes", type=int, choices=(1, 2), default=1)
    parser.add_argument("--workers", type=int, default=2, help="client processes")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
