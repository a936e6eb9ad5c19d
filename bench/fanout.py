"""Fan-out benchmark: K rooms × M members of real Socket.IO WebSocket clients, chat traffic.

Starts the app (one process on SQLite, or on PostgreSQL + Redis with ``--backend postgres``;
or two processes on PostgreSQL + Redis), signs up
users and fills rooms through the HTTP API, then client worker processes (separate from the
server) connect every member over WebSocket, join their room with ``room:join`` and send
``chat:send`` at a fixed total rate. Every delivered ``chat:message`` carries its send time,
so receivers measure delivery latency. Prints deliveries per second, p50/p99/max latency and
server memory per connection, and the CPU each server process and the client used while
sending.

``--client c`` replaces the Python workers with bench/wsload.c (compiled with gcc into the
run's temp dir): one epoll loop at about a third of the server's CPU per delivered frame
(mostly the kernel's loopback TCP), where the Python workers cost as much as the server.
``--pin`` pins the server processes to CPUs (one process: server on CPU 0, C client on CPU 1;
two: server i on CPU i).

    .venv/bin/python bench/fanout.py --connections 5000 --room-size 50 --rate 10000
    .venv/bin/python bench/fanout.py --connections 5000 --room-size 50 --rate 10000 --processes 2
    .venv/bin/python bench/fanout.py --connections 5000 --rate 30000 --client c --pin
    .venv/bin/python bench/fanout.py --connections 5000 --rate 30000 --client c --pin \
        --backend postgres
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import shutil
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle (idle + iowait excluded) since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def backend_pids() -> list[int]:
    """PostgreSQL and Redis server processes (the two-process setup's shared backends)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() in (
                "postgres",
                "redis-server",
            ):
                pids.append(int(entry.name))
        except OSError:
            pass
    return pids


def pin(pid: int, cpus: set[int]) -> None:
    """Pin every thread of a process (threads started later inherit the mask)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.sched_setaffinity(int(task.name), cpus)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def reset_backends(backend: str) -> str | None:
    if backend == "sqlite":
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


@dataclass
class Outcome:
    connected: int
    sent: int
    deliveries: int
    errors: int
    latency: dict[str, float]  # p50, p90, p99, max, mean (ms)
    extra: str = ""  # client-specific counters for the report


class CpuMeter:
    """CPU seconds used by the servers, the client processes, PostgreSQL + Redis and the whole
    machine over the send phase (from ``go`` to the end of ``duration``; the drain is not
    counted)."""

    def __init__(self, servers: list[int], clients: list[int]) -> None:
        self.servers, self.clients, self.backends = servers, clients, backend_pids()

    def _sample(self) -> tuple[list[float], float, float, float]:
        return (
            [cpu_seconds(pid) for pid in self.servers],
            sum(cpu_seconds(pid) for pid in self.clients),
            machine_busy_seconds(),
            sum(_cpu_or_zero(pid) for pid in self.backends),
        )

    def start(self) -> None:
        self.t0, self.before = time.monotonic(), self._sample()

    def stop(self) -> None:
        after, elapsed = self._sample(), time.monotonic() - self.t0
        self.server_cores = [
            (a - b) / elapsed for a, b in zip(after[0], self.before[0], strict=True)
        ]
        self.client_cores = (after[1] - self.before[1]) / elapsed
        self.machine_cores = (after[2] - self.before[2]) / elapsed
        self.backend_cores = (after[3] - self.before[3]) / elapsed


def _cpu_or_zero(pid: int) -> float:
    try:
        return cpu_seconds(pid)
    except OSError:  # a PostgreSQL backend that exited meanwhile
        return 0.0


async def run_py_client(
    args: argparse.Namespace, members: list[Member], rate_per_room: float, servers: list
) -> tuple[int, Outcome, CpuMeter, list[float]]:
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
        ctx.Process(target=worker, args=(s, rate_per_room, ready, go, results)) for s in slices
    ]
    for w in workers:
        w.start()
    connected = sum(ready.get(timeout=600) for _ in workers)
    await asyncio.sleep(1)
    rss_after = [rss_mib(p.pid) for p, _ in servers]
    meter = CpuMeter([p.pid for p, _ in servers], [w.pid for w in workers])
    meter.start()
    go.set()
    await asyncio.sleep(args.duration)
    meter.stop()
    outcome = [results.get(timeout=args.duration + 120) for _ in workers]
    for w in workers:
        w.join(timeout=30)
    latencies = sorted(x for o in outcome for x in o["latencies"])
    latency = {
        "p50": pct(latencies, 0.5),
        "p90": pct(latencies, 0.9),
        "p99": pct(latencies, 0.99),
        "max": latencies[-1] if latencies else float("nan"),
        "mean": statistics.fmean(latencies) if latencies else float("nan"),
    }
    result = Outcome(
        connected=connected,
        sent=sum(o["sent"] for o in outcome),
        deliveries=sum(o["deliveries"] for o in outcome),
        errors=sum(o["errors"] for o in outcome),
        latency=latency,
    )
    return connected, result, meter, rss_after


def build_c_client(workdir: str) -> str:
    gcc = shutil.which("gcc")
    if gcc is None:
        raise SystemExit("--client c needs gcc to build bench/wsload.c")
    binary = os.path.join(workdir, "wsload")
    source = str(ROOT / "bench" / "wsload.c")
    subprocess.run([gcc, "-O2", "-Wall", "-Wextra", "-o", binary, source, "-lm"], check=True)
    return binary


async def run_c_client(
    args: argparse.Namespace,
    members: list[Member],
    rate_per_room: float,
    servers: list,
    workdir: str,
) -> tuple[int, Outcome, CpuMeter, list[float]]:
    binary = build_c_client(workdir)
    members_file = Path(workdir) / "members.txt"
    members_file.write_text(
        "".join(f"{m.server.rsplit(':', 1)[1]} {m.room_id} {m.token}\n" for m in members)
    )
    client = subprocess.Popen(
        [binary, str(members_file), repr(rate_per_room), repr(args.duration)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert client.stdin is not None
    assert client.stdout is not None
    try:
        if args.pin and args.processes == 1:
            pin(client.pid, {1})
        line = await asyncio.wait_for(asyncio.to_thread(client.stdout.readline), 600)
        if not line.startswith("ready"):
            raise RuntimeError(f"wsload did not get ready: {line!r}")
        connected, failed = map(int, line.split()[1:3])
        await asyncio.sleep(1)
        rss_after = [rss_mib(p.pid) for p, _ in servers]
        meter = CpuMeter([p.pid for p, _ in servers], [client.pid])
        meter.start()
        client.stdin.write("go\n")
        client.stdin.flush()
        await asyncio.sleep(args.duration)
        meter.stop()
        line = await asyncio.wait_for(asyncio.to_thread(client.stdout.readline), 120)
        if not line.startswith("{"):
            raise RuntimeError(f"wsload gave no results: {line!r}")
        r = json.loads(line)
        client.stdin.close()
        client.wait(timeout=30)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
    result = Outcome(
        connected=connected,
        sent=r["sent"],
        deliveries=r["deliveries"],
        errors=r["errors"],
        latency={q: r[q] for q in ("p50", "p90", "p99", "max", "mean")},
        extra=(
            f"  C client: {failed} failed connects/joins, {r['disconnects']} disconnects, "
            f"{r['expected']} deliveries expected ({r['deliveries'] - r['expected']:+d}), "
            f"{r['overflow']} over 10 s"
        ),
    )
    return connected, result, meter, rss_after


async def main_async(args: argparse.Namespace) -> None:
    database_url = await reset_backends(args.backend)
    with tempfile.TemporaryDirectory() as cwd:
        servers = start_servers(args.processes, database_url, cwd, args.room_size)
        try:
            urls = [url for _, url in servers]
            await asyncio.gather(*(wait_up(url) for url in urls))
            if args.pin:
                for i, (process, _) in enumerate(servers):
                    pin(process.pid, {i})
            t0 = time.monotonic()
            members = await populate(urls, args.connections, args.room_size)
            setup_s = time.monotonic() - t0
            rss_before = [rss_mib(p.pid) for p, _ in servers]
            rooms = args.connections // args.room_size
            # Deliveries per message = room size, so this is messages/s per room.
            rate_per_room = args.rate / args.room_size / rooms
            if args.client == "c":
                connected, outcome, meter, rss_after = await run_c_client(
                    args, members, rate_per_room, servers, cwd
                )
            else:
                connected, outcome, meter, rss_after = await run_py_client(
                    args, members, rate_per_room, servers
                )
        finally:
            for process, _ in servers:
                process.send_signal(signal.SIGTERM)
            for process, _ in servers:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
    per_conn_kib = (sum(rss_after) - sum(rss_before)) * 1024 / max(1, connected)
    if args.client == "c":
        client = "C client (bench/wsload.c, 1 process)"
    else:
        client = f"Python client ({args.workers} processes)"
    if not args.pin:
        pinning = "not pinned"
    elif args.processes == 1:
        pinning = "server pinned to CPU 0" + (", client to CPU 1" if args.client == "c" else "")
    else:
        pinning = "server i pinned to CPU i, client unpinned"
    lat = outcome.latency
    print(
        f"fan-out: {args.processes} server process(es) on {args.backend}, {connected} connections, "
        f"{args.connections // args.room_size} rooms x {args.room_size}, "
        f"offered {args.rate:.0f} deliveries/s for {args.duration:.0f} s"
    )
    print(f"  client: {client}; {pinning}")
    print(f"  setup (sign-ups, rooms, joins over HTTP): {setup_s:.1f} s")
    print(f"  messages sent: {outcome.sent} ({outcome.sent / args.duration:.0f}/s)")
    print(f"  deliveries: {outcome.deliveries} ({outcome.deliveries / args.duration:.0f}/s)")
    print(
        f"  latency ms: p50 {lat['p50']:.1f}  p90 {lat['p90']:.1f}  "
        f"p99 {lat['p99']:.1f}  max {lat['max']:.1f}  (mean {lat['mean']:.1f})"
    )
    print(f"  send errors: {outcome.errors}")
    if outcome.extra:
        print(outcome.extra)
    servers_cpu = "  ".join(f"server {i}: {c:.2f}" for i, c in enumerate(meter.server_cores))
    print(
        f"  cores used while sending: {servers_cpu}  client: {meter.client_cores:.2f}  "
        + (f"postgres+redis: {meter.backend_cores:.2f}  " if args.backend == "postgres" else "")
        + f"machine: {meter.machine_cores:.2f} of {os.cpu_count()}"
    )
    print(
        f"  server RSS: {sum(rss_before):.0f} MiB before sockets, {sum(rss_after):.0f} MiB with "
        f"them → {per_conn_kib:.1f} KiB per connection"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--room-size", type=int, default=50)
    parser.add_argument("--rate", type=float, default=5000, help="offered deliveries per second")
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--processes", type=int, choices=(1, 2), default=1)
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgres"),
        help="sqlite (one process only; its default) or postgres (PostgreSQL + Redis; the "
        "default with two processes)",
    )
    parser.add_argument("--workers", type=int, default=2, help="Python client processes")
    parser.add_argument(
        "--client",
        choices=("py", "c"),
        default="py",
        help="py: Python workers (bench/sioclient.py); c: bench/wsload.c, built with gcc",
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="pin server processes to CPUs (and the C client to CPU 1 with one server)",
    )
    args = parser.parse_args()
    args.backend = args.backend or ("sqlite" if args.processes == 1 else "postgres")
    if args.processes == 2 and args.backend == "sqlite":
        parser.error("two processes share state through PostgreSQL + Redis: --backend postgres")
    if args.pin and (os.cpu_count() or 1) < 2:
        parser.error("--pin needs at least 2 CPUs")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
