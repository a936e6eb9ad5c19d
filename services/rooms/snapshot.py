"""Everything a client needs to show a room, built once for REST and Socket.IO alike.

``GET /api/rooms/{id}`` and the ``room:join`` ack return this one shape, so opening a room is one
round trip (``room:join``) and a page that only looks (REST) sees the same fields. The room
carries ``permissions`` (what each role may do, resolved for its control mode); the client shows
controls from it and the viewer's ``myRole``.
"""

from __future__ import annotations

from typing import Any

from models.rooms import Room
from models.users import User
from services.core.context import Services
from services.rooms.access import get_active_member
from services.rooms.chat import get_recent_messages
from services.rooms.membership import get_members
from services.rooms.payloads import member_payload, room_payload
from services.rooms.playback import get_playback
from services.rooms.presence import get_participants, now_ms
from services.rooms.queue import get_queue


async def get_room_snapshot(services: Services, room: Room, *, viewer: User) -> dict[str, Any]:
    """The room as ``viewer`` sees it now. Chat history only for its members (as
    ``GET /api/rooms/{id}/messages``); callers check that the viewer may see the room at all."""
    members = await get_members(room)
    is_member = any(user.id == viewer.id for _, user in members)
    if not is_member:
        # Not among the active members listed: perhaps between leaving and rejoining.
        is_member = await get_active_member(room, viewer) is not None
    return {
        "room": await room_payload(room, viewer=viewer),
        "members": [member_payload(member, user) for member, user in members],
        "participants": await get_participants(services, room),
        "queue": await get_queue(room),
        "playback": await get_playback(services, room),
        "messages": await get_recent_messages(room) if is_member else [],
        "serverTime": now_ms(),
    }
