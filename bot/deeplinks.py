"""``/start <payload>`` dispatch: each feature registers a prefix (``room_``, ``lang_``...).

Payloads are at most 64 characters of ``A-Za-z0-9_-`` (Telegram's rule for start parameters).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.types import Message

from models.users import User

PAYLOAD_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

DeepLinkHandler = Callable[[Message, User, str, dict[str, Any]], Awaitable[None]]
"""``(message, user, argument, data)``: ``argument`` is the payload after the prefix; ``data``
holds the handler context (``services``, ``i18n``, ``bot_info``...). The caller sets the chat's
menu button afterwards, in the user's language at that point."""


class DeepLinks:
    def __init__(self) -> None:
        self._handlers: dict[str, DeepLinkHandler] = {}

    def register(self, prefix: str, handler: DeepLinkHandler) -> None:
        """``prefix`` like ``room_``; the handler gets the rest of the payload."""
        if prefix in self._handlers:
            raise ValueError(f"deep link prefix {prefix!r} registered twice")
        self._handlers[prefix] = handler

    def resolve(self, payload: str) -> tuple[DeepLinkHandler, str] | None:
        if not PAYLOAD_RE.match(payload):
            return None
        for prefix in sorted(self._handlers, key=len, reverse=True):
            if payload.startswith(prefix):
                return self._handlers[prefix], payload[len(prefix) :]
        return None
