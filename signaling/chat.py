"""Room chat and reactions over Socket.IO: ``chat:send``, ``chat:delete``, ``reaction:send``.

The services publish ``chat:message``, ``chat:deleted`` and ``reaction`` to ``room:<id>``; the
hub's fan-out emits them, so the handlers here only parse, call and render the ack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from models.rooms import Room
from models.users import User
from services.chat import do_delete_message, do_send_message, message_payload
from services.errors import ValidationError
from services.reactions import do_react, reaction_payload
from services.rooms import access_room
from services.users import access_user

if TYPE_CHECKING:
    from signaling.hub import Hub


async def _room_and_user(hub: Hub, sid: str, data: dict[str, Any]) -> tuple[Room, User]:
    room_ref = data.get("roomId")
    if isinstance(room_ref, bool) or not isinstance(room_ref, (int, str)) or room_ref == "":
        raise ValidationError(field="roomId", reason="required")
    room = await access_room(room_ref)
    user = await access_user(await hub.user_id(sid))
    return room, user


def register(hub: Hub) -> None:
    """Register chat and reaction events on the hub (see docs/rooms-protocol.md)."""
    from signaling.hub import require_dict

    @hub.event("chat:send")
    async def chat_send(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        payload = require_dict(data)
        room, user = await _room_and_user(hub, sid, payload)
        message = await do_send_message(
            hub.services, room=room, acting_user=user, text=payload.get("text")
        )
        return {"message": message_payload(message, user)}

    @hub.event("chat:delete")
    async def chat_delete(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        payload = require_dict(data)
        room, user = await _room_and_user(hub, sid, payload)
        await do_delete_message(
            hub.services, room=room, acting_user=user, message_id=payload.get("messageId")
        )
        return {}

    @hub.event("reaction:send")
    async def reaction_send(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        payload = require_dict(data)
        room, user = await _room_and_user(hub, sid, payload)
        reaction = await do_react(
            hub.services,
            room=room,
            acting_user=user,
            emoji=payload.get("emoji"),
            media_time=payload.get("mediaTime"),
        )
        return {"reaction": reaction_payload(reaction, user)}
