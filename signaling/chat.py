"""Room chat and reactions over Socket.IO: ``chat:send``, ``chat:delete``, ``reaction:send``.

The services publish ``chat:message``, ``chat:deleted`` and ``reaction`` to ``room:<id>``; the
hub's fan-out emits them, so the handlers here only parse, call and render the ack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.rooms import contract as c
from services.rooms import events as ev
from services.rooms.chat import (
    access_sender,
    do_delete_message,
    do_send_as,
    message_payload,
)
from services.rooms.reactions import do_react, reaction_payload
from signaling.payloads import parse
from signaling.rooms import room_actor

if TYPE_CHECKING:
    from signaling.hub import Hub


def register(hub: Hub) -> None:
    """Register chat and reaction events on the hub (see docs/rooms-protocol.md)."""

    @hub.event(ev.CHAT_SEND)
    async def chat_send(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(c.ChatSend, data)
        sender = await access_sender(hub.services, payload.room_id, await hub.user_id(sid))
        message = await do_send_as(hub.services, sender, payload.text)
        return {"message": message_payload(message, sender.user)}

    @hub.event(ev.CHAT_DELETE)
    async def chat_delete(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        payload, user, room = await room_actor(hub, sid, c.ChatDelete, data)
        await do_delete_message(
            hub.services, room=room, acting_user=user, message_id=payload.message_id
        )
        return {}

    @hub.event(ev.REACTION_SEND)
    async def reaction_send(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        payload, user, room = await room_actor(hub, sid, c.ReactionSend, data)
        reaction = await do_react(
            hub.services,
            room=room,
            acting_user=user,
            emoji=payload.emoji,
            media_time=payload.media_time,
            media_id=payload.media_id,
        )
        return {"reaction": reaction_payload(reaction, user)}
