"""Room real time: join snapshot, presence, playback commands, queue."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from signaling.hub import Hub


def register(hub: Hub) -> None:
    """Register the room events on the hub (see docs/rooms-protocol.md)."""
