"""The one migration set applies from empty on SQLite and PostgreSQL and matches the models."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import asyncpg
import pytest
from tortoise import Tortoise, connections
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate
from tortoise.migrations.autodetector import MigrationAutodetector

from services.core.db import start_database, stop_database, tortoise_config
from tests.conftest import POSTGRES_URL, asyncpg_dsn, ensure_postgres_database, register

EXPECTED_TABLES = {
    "users",
    "rooms",
    "room_members",
    "room_invites",
    "room_media",
    "room_messages",
    "room_reactions",
}


async def _reset_postgres() -> None:
    """Start from an empty ``public`` schema in this worker's ``test`` database."""
    await ensure_postgres_database()
    conn = await asyncpg.connect(asyncpg_dsn(POSTGRES_URL))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


async def _tables() -> set[str]:
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        _, rows = await conn.execute_query(
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
        )
    else:
        _, rows = await conn.execute_query("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row["name"] for row in rows}


async def _migrate_from_empty(url: str) -> set[str]:
    with TortoiseContext():
        await start_database(url)
        try:
            tables = await _tables()
            # Applying again is a no-op (the app does this on every start).
            await start_database(url)
            assert await _tables() == tables
        finally:
            await stop_database()
    return tables


async def test_migrations_apply_from_empty_on_sqlite(tmp_path: Path) -> None:
    tables = await _migrate_from_empty(f"sqlite://{tmp_path}/db.sqlite3")
    assert tables >= EXPECTED_TABLES


@pytest.mark.postgres
async def test_migrations_apply_from_empty_on_postgres() -> None:
    await _reset_postgres()
    tables = await _migrate_from_empty(POSTGRES_URL)
    assert tables >= EXPECTED_TABLES


@pytest.mark.postgres
async def test_migrations_roll_back_and_forward_on_postgres() -> None:
    """Stairway: every migration can be unapplied and applied again."""
    await _reset_postgres()
    config = tortoise_config(POSTGRES_URL)
    with TortoiseContext():
        try:
            await migrate(config=config)
            await migrate(config=config, target="models.__first__", direction="backward")
            assert not (await _tables()) & EXPECTED_TABLES
            await migrate(config=config)
            assert await _tables() >= EXPECTED_TABLES
        finally:
            await Tortoise.close_connections()


async def test_models_have_no_unmigrated_changes() -> None:
    """Like ``makemigrations --check``: a model change without a migration fails here."""
    config = tortoise_config("sqlite://:memory:")
    with TortoiseContext() as ctx:
        await Tortoise.init(config=config, init_connections=False)
        writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
        await Tortoise.close_connections()
    assert [w.name for w in writers] == []


@pytest.mark.postgres
async def test_app_runs_on_postgres(make_server) -> None:
    await _reset_postgres()
    server = await make_server(database_url=POSTGRES_URL)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        account = await register(http, "pgperson")
        async with http.post(
            "/api/auth/login", json={"email": account.email, "password": account.password}
        ) as response:
            assert response.status == 200
            assert (await response.json())["user"]["id"] == account.id
        async with http.get("/api/health") as response:
            assert (await response.json())["database"]["status"] == "ok"


@pytest.mark.postgres
async def test_processes_starting_together_migrate_once(make_server) -> None:
    """Scaled-out processes start at the same moment; migrations must not collide."""
    import asyncio

    await _reset_postgres()
    servers = await asyncio.gather(
        make_server(database_url=POSTGRES_URL), make_server(database_url=POSTGRES_URL)
    )
    for server in servers:
        async with (
            aiohttp.ClientSession(base_url=server.url) as http,
            http.get("/api/health") as response,
        ):
            assert (await response.json())["database"]["status"] == "ok"
