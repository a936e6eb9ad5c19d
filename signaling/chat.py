"""Room chat and reactions over Socket.IO: ``chat:send``, ``chat:delete``, ``reaction:send``.

The services publish ``chat:message``, ``chat:deleted`` and ``reaction`` to ``room:<id>``; the
hub's fan-out emits them, so the handlers here only parse, call and render the ack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.rooms.chat import (
    access_sender,
    do_delete_message,
    do_send_as,
    message_payload,
)
from services.rooms.reactions import do_react, reaction_payload
from signaling.payloads import require_dict, room_ref
from signaling.rooms import room_actor

if TYPE_CHECKING:
    from signaling.hub import Hub


def register(hub: Hub) -> None:
    """Register chat and reaction events on the hub (see docs/rooms-protocol.md)."""

    @hub.event("chat:send")
    async def chat_send(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        payload = require_dict(data)
        sender = await access_sender(hub.services, room_ref(payload), await hub.user_id(sid))
        message = await do_send_as(hub.services, sender, payload.get("text"))
        return {"message": message_payload(message, sender.user)}

    @hub.event("chat:delete")
    async def chat_delete(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        payload, user, room = await room_actor(hub, sid, data)
        await do_delete_message(
            hub.services, room=room, acting_user=user, message_id=payload.get("messageId")
        )
        return {}

    @hub.event("reaction:send")
    async def reaction_send(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        payload, user, room = await room_actor(hub, sid, data)
        reaction = await do_react(
            hub.services,
            room=room,
            acting_user=user,
            emoji=payload.get("emoji"),
            media_time=payload.get("mediaTime"),
            media_id=payload.get("mediaId"),
        )
        return {"reaction": reaction_payload(reaction, user)}
