"""A small in-process event bus: services publish, transports subscribe.

Services publish domain events after their transaction commits; ``signaling/`` turns them into
Socket.IO emits and ``bot/`` into Telegram notifications. Handlers run concurrently and one
failing handler never stops the others or the publisher.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    type: str
    payload: dict[str, Any] = field(default_factory=dict)
    #: Socket.IO room (or user) the event is scoped to, e.g. ``user:42`` or ``room:abc``.
    scope: str | None = None


Handler = Callable[[Event], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: str, handler: Handler) -> None:
        """Subscribe to one event type, or to every event with ``"*"``."""
        self._handlers[event_type].append(handler)

    async def publish(self, event: Event) -> None:
        handlers = [*self._handlers.get(event.type, ()), *self._handlers.get("*", ())]
        if not handlers:
            return
        results = await asyncio.gather(*(h(event) for h in handlers), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                log.error("event handler failed for %s", event.type, exc_info=result)
