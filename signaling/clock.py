"""``time:sync``: the server clock rooms schedule playback against (NTP-style round trips)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from services.core.contract import TIME_SYNC

if TYPE_CHECKING:
    from signaling.hub import Hub


def server_now_ms() -> float:
    return time.time() * 1000.0


def register(hub: Hub) -> None:
    @hub.event(TIME_SYNC)
    async def time_sync(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        received = server_now_ms()
        client_time = data.get("clientTime") if isinstance(data, dict) else None
        if not isinstance(client_time, (int, float)) or isinstance(client_time, bool):
            client_time = None
        return {"serverTime": server_now_ms(), "receivedAt": received, "clientTime": client_time}
