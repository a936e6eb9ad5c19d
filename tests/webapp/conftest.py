"""HTTP test fixtures: a fresh PostgreSQL database per test, a server with the bot token."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext

from composition import Server
from services.core.config import Settings
from services.core.db import start_database, stop_database
from tests.conftest import (
    POSTGRES_ADMIN_URL,
    TEST_BOT_TOKEN,
    ServerFactory,
    asyncpg_dsn,
)
from tests.fakes.yookassa import FakeYooKassa

#: This session's (this worker's) migrated database, copied for each test by
#: CREATE DATABASE ... TEMPLATE; made on first use, dropped at the end of the session.
POSTGRES_TEMPLATE = f"vmeste_template_{uuid.uuid4().hex[:12]}"
_template_ready: list[bool] = []


async def _make_template(admin: asyncpg.Connection) -> None:
    """Applying the migrations on PostgreSQL is most of a test's set-up (~1 s); a copy of a
    migrated database takes a few tens of ms."""
    await admin.execute(f'CREATE DATABASE "{POSTGRES_TEMPLATE}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + POSTGRES_TEMPLATE
    with TortoiseContext():
        await start_database(url)
        await stop_database()  # a template must have no connections when it is copied
    EXECUTOR_CACHE.clear()
    _template_ready.append(True)


async def _drop_template() -> None:
    admin = await asyncpg.connect(asyncpg_dsn(POSTGRES_ADMIN_URL))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{POSTGRES_TEMPLATE}" WITH (FORCE)')
    finally:
        await admin.close()


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _template_ready:
        asyncio.run(_drop_template())


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A database of its own on the PostgreSQL server, migrated, dropped afterwards.

    Other suites reset the shared ``test`` database; a private one keeps them apart. It is a
    copy of this worker's migrated template, so the server finds no migration left to apply.

    Tortoise caches each model's INSERT/UPDATE/DELETE SQL per connection *name* ("default"),
    not per dialect, so SQLite's ``?`` placeholders would reach PostgreSQL (and ``$1`` SQLite)
    when both run in one process. The cache is emptied on the way in and out (reported).
    """
    name = f"vmeste_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(asyncpg_dsn(POSTGRES_ADMIN_URL))
    EXECUTOR_CACHE.clear()
    try:
        if not _template_ready:
            await _make_template(admin)
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{POSTGRES_TEMPLATE}"')
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        EXECUTOR_CACHE.clear()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    """``None`` (the server's own SQLite file) or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture
async def db_server(database_url: str | None, make_server: ServerFactory) -> Server:
    """The same test against SQLite and PostgreSQL. ``database_url`` is set up first, so the
    database outlives the server."""
    if database_url is None:
        return await make_server()
    return await make_server(database_url=database_url)


@pytest.fixture
def make_telegram_server(
    make_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> ServerFactory:
    """Servers that know the bot token (so Mini App sign-in works) but run web-only.

    The bot is kept off: its routers are module-level objects that attach to one Dispatcher per
    process, so a second bot-enabled server in the same test run fails to start (reported).
    Sign-in only needs the token.
    """
    monkeypatch.setattr(Settings, "bot_enabled", property(lambda self: False))

    async def factory(**overrides: Any) -> Server:
        return await make_server(
            bot_token=TEST_BOT_TOKEN, telegram_api_url="http://127.0.0.1:9", **overrides
        )

    return factory


@pytest.fixture
async def telegram_server(make_telegram_server: ServerFactory) -> Server:
    return await make_telegram_server()


@pytest.fixture
async def fake_yookassa() -> AsyncIterator[FakeYooKassa]:
    """A fake YooKassa API on a free port (tests/fakes/yookassa.py)."""
    async with FakeYooKassa() as fake:
        yield fake


@pytest.fixture
def make_yookassa_server(
    make_server: ServerFactory, fake_yookassa: FakeYooKassa, database_url: str | None
) -> ServerFactory:
    """Servers with YooKassa configured against ``fake_yookassa``, on SQLite and PostgreSQL
    (``database_url``); settings given override these (``yookassa_timeout=0.5``, ...)."""

    async def factory(**overrides: Any) -> Server:
        settings: dict[str, Any] = {
            "yookassa_shop_id": fake_yookassa.shop_id,
            "yookassa_secret_key": fake_yookassa.secret_key,
            "yookassa_api_url": fake_yookassa.url,
            "yookassa_timeout": 5,
        }
        if database_url is not None:
            settings["database_url"] = database_url
        settings.update(overrides)
        return await make_server(**settings)

    return factory


@pytest.fixture
async def yookassa_server(make_yookassa_server: ServerFactory) -> Server:
    return await make_yookassa_server()
