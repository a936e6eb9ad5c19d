"""Delayed jobs keyed by name (e.g. "close room 7 if its host is still away in 60 s").

In-process timers: whoever fires re-checks durable state first, so with several processes a job
scheduled on one process does the right thing even if the situation changed on another.

The scheduler is also this process's identity among the processes sharing one ephemeral store
(:attr:`Scheduler.process_id`): its timers die with it, so whatever another process must take
over when this one is gone (presence, see ``services.rooms.presence`` heartbeat) is tagged with it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


def alive_key(process_id: str) -> str:
    """The ephemeral-store key a live process keeps refreshing (the presence heartbeat,
    ``services.rooms.presence``): gone means the process is gone. Presence of every feature
    reads it to sweep connections a dead process left behind."""
    return f"presence-alive:{process_id}"


class Scheduler:
    def __init__(self, process_id: str | None = None) -> None:
        self._jobs: dict[str, asyncio.Task[None]] = {}
        #: This process among those sharing the ephemeral store (random, new at every start).
        self.process_id = process_id or secrets.token_hex(8)

    def call_later(self, key: str, delay: float, job: Callable[[], Awaitable[None]]) -> None:
        """Run ``job`` after ``delay`` seconds, replacing any pending job with the same key."""
        self.cancel(key)

        async def run() -> None:
            await asyncio.sleep(delay)
            self._jobs.pop(key, None)
            try:
                await job()
            except Exception:
                log.exception("scheduled job %s failed", key)

        self._jobs[key] = asyncio.get_running_loop().create_task(run(), name=key)

    def call_every(self, key: str, interval: float, job: Callable[[], Awaitable[None]]) -> None:
        """Run ``job`` every ``interval`` seconds (the first run after one interval) until
        cancelled, replacing any pending job with the same key. A failing run is logged and the
        next one still happens."""
        self.cancel(key)

        async def run() -> None:
            while True:
                await asyncio.sleep(interval)
                try:
                    await job()
                except Exception:
                    log.exception("periodic job %s failed", key)

        self._jobs[key] = asyncio.get_running_loop().create_task(run(), name=key)

    def cancel(self, key: str) -> None:
        task = self._jobs.pop(key, None)
        if task is not None:
            task.cancel()

    def pending(self, key: str) -> bool:
        return key in self._jobs

    async def close(self) -> None:
        tasks = list(self._jobs.values())
        self._jobs.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
