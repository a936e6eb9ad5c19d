"""Room chat and reactions over Socket.IO."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from signaling.hub import Hub


def register(hub: Hub) -> None:
    """Register chat and reaction events on the hub (see docs/rooms-protocol.md)."""
