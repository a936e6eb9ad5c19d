"""Database configuration and start-up: apply pending migrations, then init the ORM.

Tortoise's built-in migrations replace aerich (aerich's own README sends Tortoise 1.x users
there); one migration set in ``migrations/`` applies to both SQLite and PostgreSQL.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
from redis import exceptions as redis_exceptions
from tortoise import Tortoise, connections
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.base.client import TransactionalDBClient, TransactionContextPooled
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.connection import get_connections
from tortoise.exceptions import DBConnectionError
from tortoise.migrations.api import migrate

from models import MODEL_MODULES
from services.core.config import StartupError, redact_url
from services.core.errors import DatabaseUnavailable, Unavailable

log = logging.getLogger(__name__)


_PLACEHOLDER = re.compile(r"\$\d+")


def for_client(client: Any, sql: str) -> str:
    """A hand-written statement with asyncpg placeholders (``$1, $2…``, each once and in
    order) for ``client``'s dialect: as is for PostgreSQL, ``?`` for SQLite. For the few hot
    statements written by hand (``services.wallet.ledger``): Tortoise's query building costs
    more CPU than the statement."""
    return sql if client.capabilities.dialect == "postgres" else _PLACEHOLDER.sub("?", sql)


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
        raise StartupError(f"cannot use the database {redact_url(database_url)}: {reason}") from exc


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


# --- the database (or Redis) going away ---------------------------------------------------------

#: What asyncpg raises when the server closed the connection (``pg_terminate_backend``, a
#: restart), is shutting down or starting up, or cannot be reached. Tortoise passes these
#: through untranslated.
_PG_GONE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # ConnectionDoesNotExistError, ConnectionFailureError, ...
    asyncpg.exceptions.AdminShutdownError,  # 57P01: terminated by an administrator
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,  # 57P03: the server is starting up
    DBConnectionError,
)


#: What a Redis client raises when Redis is down or unreachable (the store's locks, joins).
_REDIS_GONE = (redis_exceptions.ConnectionError, redis_exceptions.TimeoutError)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 8:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def is_database_gone(exc: BaseException) -> bool:
    """Did ``exc`` come from the database connection being lost or refused (not from a bad
    query)? A rollback on a dead connection raises another error from the first one, so the
    chain is searched; a bare ``ConnectionRefusedError`` counts only as the error itself (Redis
    client errors carry one as their cause)."""
    if isinstance(exc, ConnectionRefusedError):
        return True
    for error in _chain(exc):
        if isinstance(error, _PG_GONE):
            return True
        if isinstance(error, asyncpg.InterfaceError) and "closed" in str(error):
            return True  # "cannot call Connection.fetch(): connection is closed"
        if isinstance(error, asyncpg.exceptions.InternalClientError) and "switch to state" in str(
            error
        ):
            # A connection the server just terminated: its protocol got the FATAL error and
            # waits for a ReadyForQuery that never comes, until the close reaches the pool. The
            # pool may hand it out meanwhile; using it (or resetting it on release, which
            # terminates it) raises "cannot switch to state N; another operation (2) is in
            # progress".
            return True
    return False


def as_unavailable(exc: BaseException) -> Unavailable | None:
    """The domain error for a failure of a backing service, or ``None`` for anything else
    (each transport maps it like any domain error: 503, ``database_unavailable``)."""
    if isinstance(exc, Unavailable):
        return exc
    if is_database_gone(exc):
        return DatabaseUnavailable()
    if isinstance(exc, _REDIS_GONE):
        return Unavailable()
    return None


def _never_sent(exc: BaseException) -> bool:
    """The statement failed before anything was sent: the pool handed out a connection whose
    protocol was stuck on the server's termination notice (see :func:`is_database_gone`), and
    the state switch at the start of the statement refused. Not so when the same error comes
    from resetting the connection on its release, after the statement ran."""
    if not isinstance(exc, asyncpg.exceptions.InternalClientError):
        return False
    if "switch to state" not in str(exc):
        return False
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name in ("release", "reset", "_reset"):
            return False
        tb = tb.tb_next
    return True


def _retry_reads_once(
    method: Callable[..., Awaitable[Any]],
) -> Callable[..., Awaitable[Any]]:
    """A statement outside a transaction that failed because its pooled connection had died
    (the server terminated it; asyncpg notices only on use) is run once more on a fresh one
    when that is safe: a SELECT (reads are idempotent), or any statement that never reached the
    server. Other writes and anything inside a transaction are never retried."""

    @functools.wraps(method)
    async def run(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return await method(self, query, *args, **kwargs)
        except Exception as exc:
            if isinstance(self, TransactionalDBClient) or not is_database_gone(exc):
                raise
            if not (query.lstrip()[:6].upper() == "SELECT" or _never_sent(exc)):
                raise
            log.warning("database connection lost (%s); retrying once", type(exc).__name__)
            return await method(self, query, *args, **kwargs)

    run.__vmeste_retry__ = True  # type: ignore[attr-defined]
    return run


def _install_read_retry() -> None:
    for name in ("execute_query", "execute_query_dict", "execute_insert"):
        method = getattr(AsyncpgDBClient, name)
        if not getattr(method, "__vmeste_retry__", False):
            setattr(AsyncpgDBClient, name, _retry_reads_once(method))


async def _begin_or_release(self: TransactionContextPooled) -> Any:
    """``TransactionContextPooled.__aenter__`` (Tortoise 1.1), releasing the pooled connection
    when ``BEGIN`` fails: Tortoise's own leaves it acquired for good (``__aexit__`` does not run),
    so every transaction started on a just-terminated connection shrank the pool by one until
    the app hung on ``acquire``."""
    await self.ensure_connection()
    pool = self.client._parent._pool
    self.client._connection = await pool.acquire()
    self.token = get_connections().set(self.connection_name, self.client)
    try:
        await self.client.begin()
    except BaseException:
        try:
            await pool.release(self.client._connection)
        finally:
            get_connections().reset(self.token)
        raise
    return self.client


_begin_or_release.__vmeste_patch__ = True  # type: ignore[attr-defined]


def _install_transaction_release() -> None:
    if not getattr(TransactionContextPooled.__aenter__, "__vmeste_patch__", False):
        TransactionContextPooled.__aenter__ = _begin_or_release  # type: ignore[method-assign]


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Nothing to reset: asyncpg's default (``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL``) costs a round trip on every release, and Tortoise acquires and releases a
    pooled connection for every statement outside a transaction. Nothing here changes session
    state on a pooled connection (no SET, LISTEN, cursors or advisory locks: the migration lock
    takes a connection of its own), and asyncpg still rolls back an open transaction first."""


async def _create_pool_keeping_sessions(self: AsyncpgDBClient, **kwargs: Any) -> asyncpg.Pool:
    kwargs.setdefault("reset", _keep_session)
    return await asyncpg.create_pool(None, **kwargs)


_create_pool_keeping_sessions.__vmeste_patch__ = True  # type: ignore[attr-defined]


def _install_pool_reset() -> None:
    if not getattr(AsyncpgDBClient.create_pool, "__vmeste_patch__", False):
        AsyncpgDBClient.create_pool = _create_pool_keeping_sessions  # type: ignore[method-assign]


_install_read_retry()
_install_transaction_release()
_install_pool_reset()
