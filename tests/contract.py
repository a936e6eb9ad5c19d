"""Every Socket.IO event the suite makes the server emit, and every ack, checked against its
declared model (zulip's ``verify_action``, for the whole suite).

:func:`install` wraps :meth:`Hub._fan_out` (each bus event with a scope is emitted as it is)
and :meth:`Hub.event` (each handler's result becomes the ack) for the length of one test.
Nothing of this runs in production: the hub itself never validates what it sends.

A mismatch does not break the server under test (its fan-out goes on); it is recorded and
fails the test at teardown, with the event, the payload and pydantic's explanation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from services.core.contract import AckError, SocketEvent
from webapp.asyncapi import SOCKET_EVENTS

SERVER_EVENTS: dict[str, SocketEvent] = {
    e.name: e for e in SOCKET_EVENTS if e.direction == "receive"
}
CLIENT_EVENTS: dict[str, SocketEvent] = {e.name: e for e in SOCKET_EVENTS if e.direction == "send"}


@dataclass
class Checked:
    """What one test made the server send: counts per event, and what did not match."""

    allowed: frozenset[str] = frozenset()
    events: dict[str, int] = field(default_factory=dict)
    acks: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)

    def _check(self, what: str, model: type[BaseModel], payload: Any) -> None:
        try:
            # What the client gets is JSON: validate that, strictly ("1" is not 1).
            model.model_validate_json(json.dumps(payload), strict=True)
        except PydanticValidationError as exc:
            self.violations.append(f"{what} does not match {model.__name__}: {payload!r}\n{exc}")
        except (TypeError, ValueError) as exc:
            self.violations.append(f"{what} is not JSON: {payload!r} ({exc})")

    def event(self, name: str, payload: Any) -> None:
        self.events[name] = self.events.get(name, 0) + 1
        declared = SERVER_EVENTS.get(name)
        if declared is None:
            if name not in self.allowed:
                self.violations.append(f"server event {name!r} is not declared: {payload!r}")
            return
        self._check(f"server event {name!r}", declared.payload, payload)

    def ack(self, name: str, ack: dict[str, Any]) -> None:
        self.acks[name] = self.acks.get(name, 0) + 1
        declared = CLIENT_EVENTS.get(name)
        if declared is None or declared.ack is None:
            self.violations.append(f"client event {name!r} is not declared: ack {ack!r}")
            return
        model = declared.ack if ack.get("ok") is True else AckError
        self._check(f"ack of {name!r}", model, ack)


@contextmanager
def install(monkeypatch: pytest.MonkeyPatch, allowed: frozenset[str]) -> Iterator[Checked]:
    from services.core.errors import AppError
    from signaling.hub import Hub

    checked = Checked(allowed=allowed)
    fan_out = Hub._fan_out
    event = Hub.event

    async def checked_fan_out(self: Hub, bus_event: Any) -> None:
        if bus_event.scope is not None:
            checked.event(bus_event.type, bus_event.payload)
        await fan_out(self, bus_event)

    def checked_event(self: Hub, name: str, *, ordered: bool = False) -> Any:
        register = event(self, name, ordered=ordered)

        def decorator(fn: Any) -> Any:
            async def handler(hub: Hub, sid: str, data: Any) -> dict[str, Any] | None:
                try:
                    result = await fn(hub, sid, data)
                except AppError as exc:
                    checked.ack(name, {"ok": False, "error": exc.to_dict()})
                    raise
                # A socket that went away while its event ran gets no ack (room:join says {}).
                if hub.sio.manager.is_connected(sid, "/"):
                    checked.ack(name, {"ok": True, **(result or {})})
                return result

            register(handler)
            return fn

        return decorator

    monkeypatch.setattr(Hub, "_fan_out", checked_fan_out)
    monkeypatch.setattr(Hub, "event", checked_event)
    yield checked
