"""The messenger over Socket.IO (seed 003 names, docs/messenger.md): ``message:send``,
``message:delivered``, ``message:read``, ``message:edit``, ``message:delete``, ``typing``,
and presence (``user:online`` / ``user:offline``) from each socket's connect and disconnect.

``services.messenger`` publishes every server event to ``user:<id>`` of each member (every
socket is in its user's room, ``signaling.hub``); the hub's fan-out emits them, skipping the
socket whose command caused them (``origin``: it has the result in its ack).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from models.users import User
from services.accounts.users import get_user
from services.core.errors import Unauthorized
from services.core.events import Event
from services.messenger import contract as c
from services.messenger import events as ev
from services.messenger import messages, presence
from services.rooms.presence import STATE_RESTORED
from signaling.payloads import parse

if TYPE_CHECKING:
    from signaling.hub import Hub

log = logging.getLogger(__name__)


async def _user(hub: Hub, sid: str) -> User:
    user = await get_user(await hub.user_id(sid))
    if user is None:
        raise Unauthorized()
    return user


def register(hub: Hub) -> None:
    services = hub.services

    @hub.event(ev.MESSAGE_SEND)
    async def message_send(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(c.MessageSend, data)
        message, resent = await messages.do_send_message(
            services,
            acting_user=await _user(hub, sid),
            chat_id=payload.chat_id,
            content=payload.content,
            client_id=payload.client_id,
            is_encrypted=payload.is_encrypted,
            encryption=payload.encryption,
            origin=sid,
        )
        return {"message": message, "resent": resent}

    @hub.event(ev.MESSAGE_DELIVERED)
    async def message_delivered(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(c.MessageDelivered, data)
        await messages.do_mark_delivered(
            services, acting_user=await _user(hub, sid), message_id=payload.message_id
        )
        return {}

    @hub.event(ev.MESSAGE_READ)
    async def message_read(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(c.MessageRead, data)
        unread = await messages.do_mark_read(
            services,
            acting_user=await _user(hub, sid),
            chat_id=payload.chat_id,
            message_id=payload.message_id,
        )
        return {"unreadCount": unread}

    @hub.event(ev.MESSAGE_EDIT)
    async def message_edit(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(c.MessageEdit, data)
        message = await messages.do_edit_message(
            services,
            acting_user=await _user(hub, sid),
            message_id=payload.message_id,
            content=payload.content,
            encryption=payload.encryption,
            origin=sid,
        )
        return {"message": message}

    @hub.event(ev.MESSAGE_DELETE)
    async def message_delete(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(c.MessageDelete, data)
        await messages.do_delete_message(
            services, acting_user=await _user(hub, sid), message_id=payload.message_id, origin=sid
        )
        return {}

    @hub.event(ev.TYPING)
    async def typing(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(c.Typing, data)
        await messages.do_typing(
            services, acting_user=await _user(hub, sid), chat_id=payload.chat_id
        )
        return {}

    async def on_connect(sid: str, user_id: int) -> None:
        await presence.do_connect(services, user_id=user_id, conn_id=sid)

    async def on_disconnect(sid: str) -> None:
        session = await hub.sio.get_session(sid)
        user_id = session.get("user_id")
        if isinstance(user_id, int):
            await presence.do_disconnect(services, user_id=user_id, conn_id=sid)

    async def on_state_restored(event: Event) -> None:
        """The store is back (perhaps empty, a Redis restart): put this process's live
        connections back, so their users are online again (contacts hear ``user:online`` if
        the flag was lost) and a later disconnect counts right."""
        restored = 0
        for sid, _ in list(hub.sio.manager.get_participants("/", None)):
            try:
                session = await hub.sio.get_session(sid)
            except KeyError:  # gone meanwhile
                continue
            user_id = session.get("user_id")
            if isinstance(user_id, int):
                await presence.do_connect(services, user_id=user_id, conn_id=sid)
                restored += 1
        if restored:
            log.info("restored the messenger presence of %d connections", restored)

    hub.on_connect(on_connect)
    hub.on_disconnect(on_disconnect)
    hub.after_emit(STATE_RESTORED, on_state_restored)
