"""Database configuration and start-up: apply pending migrations, then init the ORM.

Tortoise's built-in migrations replace aerich (aerich's own README sends Tortoise 1.x users
there); one migration set in ``migrations/`` applies to both SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.migrations.api import migrate

from models import MODEL_MODULES
from services.core.config import StartupError, redact_url

log = logging.getLogger(__name__)


def tortoise_config(database_url: str) -> dict[str, Any]:
    if database_url.startswith("sqlite://") and not database_url.startswith("sqlite://:memory:"):
        path = Path(database_url[len("sqlite://") :])
        path.parent.mkdir(parents=True, exist_ok=True)
    if database_url.startswith("sqlite://") and "synchronous=" not in database_url:
        # WAL (Tortoise's default) with synchronous=NORMAL: no fsync per commit, still safe
        # from corruption; a power cut may lose the last moments. Every chat line is a commit.
        database_url += ("&" if "?" in database_url else "?") + "synchronous=NORMAL"
    return {
        "connections": {"default": database_url},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


#: For the ``tortoise`` CLI (``[tool.tortoise]`` in pyproject.toml): makemigrations against SQLite.
TORTOISE_ORM = tortoise_config("sqlite://data/vmeste.sqlite3")


async def start_database(database_url: str) -> None:
    """Apply pending migrations, then init the ORM in this context; fail fast if unreachable."""
    config = tortoise_config(database_url)
    # Tortoise caches generated SQL per connection *name*; a second server in the same process
    # on another database kind ("default" on SQLite, then on PostgreSQL) must not reuse it.
    EXECUTOR_CACHE.clear()
    try:
        await _migrate_exclusively(config, database_url)
        await Tortoise.init(config=config)
        await connections.get("default").execute_query("SELECT 1")
    except Exception as exc:
        log.debug("database start failed", exc_info=True)
        reason = str(exc).strip() or type(exc).__name__
        raise StartupError(
            f"cannot use the database {redact_url(database_url)}: {reason}"
        ) from exc


MIGRATION_LOCK_ID = 7_150_001


async def _migrate_exclusively(config: dict[str, Any], database_url: str) -> None:
    """Several processes starting at once must not apply the same migration twice: on
    PostgreSQL they take turns under an advisory lock (the later ones then find nothing to do)."""
    if not database_url.startswith(("postgres://", "asyncpg://")):
        await migrate(config=config)
        return
    import asyncpg

    dsn = "postgresql://" + database_url.split("://", 1)[1]
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
        try:
            await migrate(config=config)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_ID)
    finally:
        await conn.close()


async def database_ok() -> bool:
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:
        log.warning("database health check failed", exc_info=True)
        return False
    return True


async def stop_database() -> None:
    await Tortoise.close_connections()
