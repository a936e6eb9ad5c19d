"""The server: one event loop, one aiohttp app, the Socket.IO hub and the bot.

Everything starts inside one :class:`contextvars.Context` owned by the server. Tortoise 1.x keeps
its state in a context variable, and aiohttp's connection tasks, Socket.IO handlers and the
bot's polling task all inherit the context they are created in; starting them in the context
where the ORM was initialised makes the ORM visible to all of them, and keeps two servers in
one process (as the tests run them) apart.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web

from composition.wiring import assemble
from services.core.config import Settings, StartupError
from services.core.context import Services
from services.core.db import start_database, stop_database
from services.rooms.presence import start_heartbeat, stop_heartbeat
from webapp.app import AccessLogger
from webapp.protocol import TimedAppRunner

log = logging.getLogger(__name__)
T = TypeVar("T")

POLLING_LOCK_KEY = "bot:polling-lock"
POLLING_LOCK_TTL = 30.0


class Server:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.context = contextvars.copy_context()
        self.services: Services | None = None
        self.app: web.Application | None = None
        self.bot: Any | None = None
        self.dispatcher: Any | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._bot_task: asyncio.Task[None] | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.port}"

    def run(self, coro: Awaitable[T]) -> asyncio.Task[T]:
        """Run a coroutine inside the server's context (sees its ORM connections)."""

        async def wrapper() -> T:
            return await coro

        return asyncio.get_running_loop().create_task(wrapper(), context=self.context)

    async def start(self) -> None:
        try:
            await self.run(self._start())
        except BaseException:
            # Close what did start (DB threads, sockets) so a failed start leaves nothing behind.
            await self.run(self._stop(started=False))
            raise

    async def stop(self) -> None:
        await self.run(self._stop())

    async def _start(self) -> None:
        settings = self.settings
        settings.media_dir.mkdir(parents=True, exist_ok=True)
        await start_database(settings.database_url)
        built = assemble(settings)
        self.services, self.app = built.services, built.app
        self.bot, self.dispatcher = built.bot, built.dispatcher
        bot_info = built.bot_info
        if self.bot is None:
            log.info("BOT_TOKEN is not set: the bot is off, the web app runs alone")
        # This process's presence heartbeat; each beat also sweeps processes that died.
        await start_heartbeat(self.services)
        self._runner = TimedAppRunner(
            self.app,
            idle_timeout=settings.http_idle_timeout,
            header_timeout=settings.http_header_timeout,
            access_log_class=AccessLogger,
            handle_signals=False,
            shutdown_timeout=5,
        )
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, settings.host, settings.port)
        try:
            await self._site.start()
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise StartupError(
                f"cannot listen on {settings.host}:{settings.port}: {reason}"
            ) from exc
        server = self._site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else settings.port
        log.info("listening on %s (public URL %s)", self.url, settings.public_url)
        if self.bot is not None:
            self._bot_task = asyncio.create_task(self._run_bot(bot_info), name="bot")

    async def _run_bot(self, bot_info: dict[str, Any]) -> None:
        from bot.payments import start_reconciler
        from bot.setup import configure_bot

        bot, services = self.bot, self.services
        assert bot is not None
        assert services is not None
        await _retry(lambda: configure_bot(bot, services.settings, bot_info), "bot set-up")
        if self.settings.bot_mode == "webhook":
            # Every webhook process reconciles Stars payments (crediting is idempotent).
            start_reconciler(bot, services)
            return
        while True:
            try:
                await self._poll_with_lock()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("polling stopped unexpectedly; restarting in 5 s")
                await asyncio.sleep(5)

    async def _poll_with_lock(self) -> None:
        """Poll; with Redis, only the process holding the lock polls (Telegram allows one)."""
        assert self.services is not None
        state, owner = self.services.state, secrets.token_hex(8)
        while True:
            if await state.set_if_absent(POLLING_LOCK_KEY, owner, ttl=POLLING_LOCK_TTL):
                break
            await asyncio.sleep(POLLING_LOCK_TTL / 3)
        refresher = asyncio.create_task(self._refresh_lock(owner))
        from bot.payments import start_reconciler, stop_reconciler

        # The process receiving the updates also finds the Stars payments they missed.
        start_reconciler(self.bot, self.services)
        try:
            await self.dispatcher.start_polling(
                self.bot,
                handle_signals=False,
                close_bot_session=False,
                polling_timeout=10,
                allowed_updates=self.dispatcher.resolve_used_update_types(),
            )
        finally:
            stop_reconciler(self.services)
            refresher.cancel()
            await state.release_if_owner(POLLING_LOCK_KEY, owner)

    async def _refresh_lock(self, owner: str) -> None:
        assert self.services is not None
        while True:
            await asyncio.sleep(POLLING_LOCK_TTL / 3)
            if not await self.services.state.refresh_if_owner(
                POLLING_LOCK_KEY, owner, ttl=POLLING_LOCK_TTL
            ):
                log.error("lost the polling lock; stopping polling")
                await self.dispatcher.stop_polling()
                return

    async def _stop(self, *, started: bool = True) -> None:
        if self._bot_task is not None:
            if self.dispatcher is not None and self.dispatcher._running_lock.locked():
                await self.dispatcher.stop_polling()
            self._bot_task.cancel()
            await asyncio.gather(self._bot_task, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        if self.bot is not None:
            await self.bot.session.close()
        if self.services is not None:
            await stop_heartbeat(self.services)
            await self.services.close()
        await stop_database()
        if started:
            log.info("stopped")


async def _retry(call: Callable[[], Awaitable[None]], what: str) -> None:
    delay = 1.0
    while True:
        try:
            await call()
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the web part keeps running; retry later
            log.warning("%s failed (%s); retrying in %.0f s", what, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)
