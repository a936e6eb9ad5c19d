"""A small in-process event bus: services publish, transports subscribe.

Services publish domain events after their transaction commits; ``signaling/`` turns them into
Socket.IO emits and ``bot/`` into Telegram notifications. Handlers run concurrently and one
failing handler never stops the others or the publisher.

A feature that acts on another's event (a system chat line when someone joins, a queue item for
a room created with a link) registers a *reaction* at composition instead of importing the
other feature: reactions run after the event's subscribers (so after it reached the clients),
one after another in registration order, before ``publish`` returns. That keeps the order the
clients see (the join, then its chat line) and lets the publisher rely on their effects.
Events without a ``scope`` (``room:created``, ``member:joined``...) stay inside the process.
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
        self._reactions: dict[str, list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: str, handler: Handler) -> None:
        """Subscribe to one event type, or to every event with ``"*"``."""
        self._handlers[event_type].append(handler)

    def react(self, event_type: str, handler: Handler) -> None:
        """Run ``handler`` after the subscribers of ``event_type``, in order (see the module)."""
        self._reactions[event_type].append(handler)

    async def publish(self, event: Event) -> None:
        handlers = [*self._handlers.get(event.type, ()), *self._handlers.get("*", ())]
        if handlers:
            results = await asyncio.gather(*(h(event) for h in handlers), return_exceptions=True)
            for result in results:
                if isinstance(result, Exception):
                    log.error("event handler failed for %s", event.type, exc_info=result)
        for reaction in self._reactions.get(event.type, ()):
            try:
                await reaction(event)
            except Exception:
                log.exception("reaction to %s failed", event.type)
