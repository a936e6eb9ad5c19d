"""Fixtures: a running app on a free port, HTTP and Socket.IO clients, users made through the API.

Servers run in the test process on real sockets; each has its own SQLite file (or the
PostgreSQL/Redis servers where a test asks for them) and its own ORM context.

The suite runs in parallel (pytest-xdist, ``make test``); tests never share mutable state:

* SQLite: a file per server under the test's ``tmp_path``, copied from one migrated per worker.
* PostgreSQL: a fresh database per test (``tests/webapp/conftest.py``); the tests that need a
  fixed one (migrations from empty) get ``test_<worker>``, created on demand.
* Redis: every test has its own key prefix and Socket.IO channel (:func:`redis_namespace`),
  so room ids that repeat across SQLite files (room 1 in every test) never meet, and a test
  run by someone else on the same Redis database cannot reach this one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
import redis
import socketio
from aiogram.client.session.aiohttp import AiohttpSession
from tortoise.context import TortoiseContext

import services.core.context
import services.core.ratelimit
import signaling.hub
from composition import Server
from services.core.config import Settings, load_settings
from services.core.db import start_database, stop_database
from tests.contract import Checked, install

TEST_BOT_TOKEN = "123456:TEST-token-for-vmeste"
#: "gw0", "gw1", ... in a pytest-xdist worker; "" in a plain run.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
#: The server's ``test`` database: where per-test databases are created from.
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
#: The database the migration tests reset and fill: ``test`` alone, ``test_gw0`` in worker gw0.
POSTGRES_URL = POSTGRES_ADMIN_URL + (f"_{WORKER}" if WORKER else "")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def ensure_postgres_database(url: str = POSTGRES_URL) -> None:
    """Create ``url``'s database unless it exists (this worker's ``test_gwN``)."""
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(asyncpg_dsn(POSTGRES_ADMIN_URL))
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):  # another worker's
                await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


# --------------------------------------------------------------------------- Redis isolation


_RedisStore = services.core.context.RedisStore
_RedisStorage = services.core.ratelimit.RedisStorage
_RedisManager = signaling.hub.FrameOnceRedisManager


@pytest.fixture(autouse=True)
def redis_namespace(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A key prefix and Socket.IO channel of this test's own on the shared Redis database.

    The app's three Redis users are built with it: the ephemeral store (``vmeste:`` keys), the
    rate limiter (``LIMITS`` keys) and the Socket.IO manager (pub/sub, which Redis shares across
    database numbers). Servers of one test share it, as processes of one deployment do. The
    test's keys are deleted afterwards (only when it built a Redis client)."""
    namespace = f"test-{uuid.uuid4().hex[:12]}:"
    urls: set[str] = set()

    def store(url: str, **kwargs: Any) -> Any:
        urls.add(url)
        return _RedisStore(url, **{"prefix": namespace + "vmeste:", **kwargs})

    def storage(uri: str, **kwargs: Any) -> Any:
        urls.add(uri.removeprefix("async+"))
        return _RedisStorage(uri, **{"key_prefix": namespace + "LIMITS", **kwargs})

    def manager(url: str, *, channel: str = "socketio", **kwargs: Any) -> Any:
        return _RedisManager(url, channel=namespace + channel, **kwargs)

    monkeypatch.setattr(services.core.context, "RedisStore", store)
    monkeypatch.setattr(services.core.ratelimit, "RedisStorage", storage)
    monkeypatch.setattr(signaling.hub, "FrameOnceRedisManager", manager)
    yield namespace
    for url in urls:
        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        try:
            keys = list(client.scan_iter(match=namespace + "*", count=1000))
            if keys:
                client.delete(*keys)
        except redis.ConnectionError:
            pass  # a test of Redis being down
        finally:
            client.close()


def test_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "database_url": f"sqlite://{tmp_path}/vmeste.sqlite3",
        "media_dir": tmp_path / "media",
        "jwt_secret": "test-secret-that-is-long-enough-for-hs256-0123456789",
        "password_hash_profile": "fast",
        "public_url": "https://vmeste.test",
        "auth_rate_ip": "1000/minute",
        "auth_rate_account": "1000/minute",
        "auth_rate_telegram": "1000/minute",
        "auth_rate_device": "1000/minute",
        # The abuse limits, generous: the tests of each limit start servers with small ones.
        "room_create_rate": "1000/minute",
        "invite_rate_inviter": "1000/minute",
        "invite_rate_invitee": "1000/minute",
        "playback_rate_member": "1000/minute",
        "playback_rate_room": "1000/minute",
    }
    values.update(overrides)
    return load_settings(**values)


ServerFactory = Callable[..., Awaitable[Server]]


@pytest.fixture(autouse=True)
def contract(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Checked]:
    """Every event and ack the servers of this test emit must match its declared model
    (tests/contract.py); ``@pytest.mark.undeclared_events("name", ...)`` lets a test emit
    events of its own."""
    marker = request.node.get_closest_marker("undeclared_events")
    allowed = frozenset(marker.args) if marker is not None else frozenset()
    with install(monkeypatch, allowed) as checked:
        yield checked
    if checked.violations:
        pytest.fail("the wire contract was broken:\n\n" + "\n\n".join(checked.violations))
@pytest.fixture(scope="session", autouse=True)
def _no_ssl_grace_on_bot_close() -> Iterator[None]:
    """aiogram's session waits 250 ms after closing, for SSL connections to finish closing
    (aiohttp's graceful-shutdown advice). The tests' Bot API is plain HTTP on 127.0.0.1, so
    every bot-enabled server's stop waited for nothing: ~25 s over the suite."""

    async def close(self: AiohttpSession) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AiohttpSession, "close", close)
        yield


_SQLITE_TEMPLATE: list[Path] = []


async def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file with every migration applied, made once per worker.

    Applying the migrations is most of a server's start-up (~0.2 s of ~0.25 s); servers on the
    default database start from a copy and find nothing left to apply. The migration tests
    (tests/models/test_migrations.py) still apply them from empty."""
    if not _SQLITE_TEMPLATE:
        path = tmp_path_factory.mktemp("sqlite-template") / "vmeste.sqlite3"
        with TortoiseContext():
            await start_database(f"sqlite://{path}")
            await stop_database()  # the last connection closed: the WAL is checkpointed
        _SQLITE_TEMPLATE.append(path)
    return _SQLITE_TEMPLATE[0]


@pytest.fixture
async def make_server(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServerFactory]:
    started: list[Server] = []

    async def factory(**overrides: Any) -> Server:
        settings = test_settings(tmp_path, **overrides)
        default_file = tmp_path / "vmeste.sqlite3"
        if settings.database_url == f"sqlite://{default_file}" and not default_file.exists():
            shutil.copyfile(await migrated_sqlite_file(tmp_path_factory), default_file)
        server = Server(settings)
        await server.start()
        started.append(server)
        return server

    yield factory
    for server in reversed(started):
        await server.stop()


@pytest.fixture
async def server(make_server: ServerFactory) -> Server:
    return await make_server()


@pytest.fixture
async def http(server: Server) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=server.url) as session:
        yield session


@dataclass
class Account:
    id: int
    token: str
    user: dict[str, Any]
    email: str
    password: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def register(
    http: aiohttp.ClientSession, username: str, *, password: str = "correct horse"
) -> Account:
    email = f"{username}@example.com"
    async with http.post(
        "/api/auth/register", json={"email": email, "username": username, "password": password}
    ) as response:
        body = await response.json()
        assert response.status == 201, body
    return Account(body["user"]["id"], body["accessToken"], body["user"], email, password)


@pytest.fixture
async def anna(http: aiohttp.ClientSession) -> Account:
    return await register(http, "anna")


@pytest.fixture
async def boris(http: aiohttp.ClientSession) -> Account:
    return await register(http, "boris")


SioFactory = Callable[..., Awaitable[socketio.AsyncClient]]


class SioRefused(Exception):
    """The server refused the Socket.IO connection; ``data`` is its reason."""

    def __init__(self, data: Any) -> None:
        super().__init__(data)
        self.data = data


@pytest.fixture
async def sio_client(server: Server) -> AsyncIterator[SioFactory]:
    """Connect real python-socketio clients (WebSocket transport) with a token."""
    clients: list[socketio.AsyncClient] = []

    async def connect(token: str | None, *, url: str | None = None) -> socketio.AsyncClient:
        client = socketio.AsyncClient(reconnection=False)
        clients.append(client)
        refusals: list[Any] = []
        client.on("connect_error", refusals.append)
        client.refusals = refusals  # type: ignore[attr-defined]
        try:
            await client.connect(
                url or server.url,
                transports=["websocket"],
                auth={"token": token} if token is not None else None,
                wait_timeout=5,
            )
        except socketio.exceptions.ConnectionError:
            if refusals:
                raise SioRefused(refusals[0]) from None
            raise
        return client

    yield connect
    for client in clients:
        if client.connected:
            await client.disconnect()
