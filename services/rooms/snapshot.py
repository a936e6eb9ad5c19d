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


async def get_room_snapshot(
    services: Services, room: Room, *, viewer: User, with_members: bool = True
) -> dict[str, Any]:
    """The room as ``viewer`` sees it now. Chat history only for its members (as
    ``GET /api/rooms/{id}/messages``); callers check that the viewer may see the room at all.

    ``with_members=False`` (the ``room:join`` ack) leaves out ``members``, everyone who belongs
    to the room, present or not: the page shows ``participants`` (who is here), and the list is
    the largest part of an ack sent once per connection (2.5 KiB of server memory per
    connection at rooms of 50, docs/performance.md)."""
    is_member = await get_active_member(room, viewer) is not None
    snapshot: dict[str, Any] = {
        "room": await room_payload(room, viewer=viewer),
        "participants": await get_participants(services, room),
        "queue": await get_queue(room),
        "playback": await get_playback(services, room),
        "messages": await get_recent_messages(room) if is_member else [],
        "serverTime": now_ms(),
    }
    if with_members:
        members = await get_members(room)
        snapshot["members"] = [member_payload(member, user) for member, user in members]
    return snapshot
