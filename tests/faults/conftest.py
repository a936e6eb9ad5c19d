"""Fault injection: a redis-server of the test's own (stopped, killed and restarted empty on the
same port) and the termination of the PostgreSQL backends of the test's own database.

The machine's shared Redis and PostgreSQL servers are never stopped, restarted or flushed: a
test here starts ``redis-server --port N --save "" --appendonly no`` on a free port, and only
terminates the backends of the database :func:`fresh_postgres_database` made for it.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from composition import Server
from tests.conftest import POSTGRES_ADMIN_URL, ServerFactory, asyncpg_dsn

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnRedis:
    """A redis-server process of this test's own; it keeps its port across restarts."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it (empty: nothing is saved, nothing loaded) and wait until it answers."""
        assert self.process is None or self.process.poll() is not None
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self, *, kill: bool = True) -> None:
        """SIGKILL (a crash) or SIGTERM (a clean stop); either way its data is gone."""
        if self.process is None or self.process.poll() is not None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        self.process.wait(timeout=10)

    def restart_empty(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    redis = OwnRedis(tmp_path)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


#: Heartbeats fast enough for a test to see a Redis restart within a second.
FAST_HEARTBEAT = {"presence_heartbeat_seconds": 0.25, "presence_heartbeat_ttl_seconds": 1.0}


@pytest.fixture
async def server(make_server: ServerFactory, own_redis: OwnRedis) -> Server:
    """The app on this test's own Redis (the shared fixtures, ``http``, ``anna``, ``sio_client``,
    use it)."""
    return await make_server(redis_url=own_redis.url, **FAST_HEARTBEAT)


async def terminate_backends(database_url: str) -> int:
    """Terminate every backend connected to the test's own database (not the others')."""
    name = database_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(asyncpg_dsn(POSTGRES_ADMIN_URL))
    try:
        rows = await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        return sum(1 for r in rows if r[0])
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


@pytest.fixture
async def own_postgres() -> AsyncIterator[str]:
    from tests.webapp.conftest import fresh_postgres_database

    async with fresh_postgres_database() as url:
        yield url


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop the migrated PostgreSQL template when only this directory ran (tests/webapp's
    conftest, which drops it otherwise, is then not loaded as a plugin)."""
    import asyncio
    import sys

    webapp = sys.modules.get("tests.webapp.conftest")
    if webapp is not None and webapp._template_ready:
        asyncio.run(webapp._drop_template())
