"""Fixtures: a running app on a free port, HTTP and Socket.IO clients, users made through the API.

Servers run in the test process on real sockets; each has its own SQLite file (or the
PostgreSQL/Redis servers where a test asks for them) and its own ORM context.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from composition import Server
from services.core.config import Settings, load_settings
from tests.contract import Checked, install

TEST_BOT_TOKEN = "123456:TEST-token-for-vmeste"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


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


@pytest.fixture
async def make_server(tmp_path: Path) -> AsyncIterator[ServerFactory]:
    started: list[Server] = []

    async def factory(**overrides: Any) -> Server:
        server = Server(test_settings(tmp_path, **overrides))
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
