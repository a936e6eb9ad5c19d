"""Room chat: sending with a length limit, slow mode and a flood limit; history; deletion;
system messages (joined, kicked, now playing) that clients localize from their ``data``."""

from __future__ import annotations

import contextlib
from typing import Any

from models.rooms import ChatMessage, Role, Room
from models.users import User
from services.context import Services
from services.errors import N_, NotFound, RateLimited, ValidationError
from services.events import Event
from services.rooms import Action, access_member, check_permission, now, room_scope
from services.users import user_payload

MAX_MESSAGE_LENGTH = 1000
HISTORY_LIMIT = 50
#: Token bucket for chat floods, on top of slow mode: a burst of 5, then one per second.
FLOOD_RATE = "5/5second"


def message_payload(message: ChatMessage, user: User | None) -> dict[str, Any]:
    return {
        "id": message.id,
        "roomId": message.room_id,
        "kind": message.kind,
        "text": message.text if message.deleted_at is None else "",
        "data": message.data,
        "user": user_payload(user) if user is not None else None,
        "createdAt": message.created_at.isoformat(),
        "deleted": message.deleted_at is not None,
    }


def check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationError(N_("The message is empty."), field="text", reason="required")
    if len(text) > MAX_MESSAGE_LENGTH:
        raise ValidationError(
            N_("The message is too long (at most {limit} characters)."),
            field="text",
            reason="too long",
            limit=MAX_MESSAGE_LENGTH,
        )
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise ValidationError(field="text", reason="contains control characters")
    return text


async def do_send_message(
    services: Services, *, room: Room, acting_user: User, text: str
) -> ChatMessage:
    member = await access_member(room, acting_user)
    check_permission(room, member, Action.CHAT)
    text = check_text(text)
    exempt = member.role in (Role.HOST, Role.MODERATOR)
    if room.slow_mode_seconds and not exempt:
        key = f"slow:{room.id}:{acting_user.id}"
        if not await services.state.set_if_absent(key, "1", ttl=room.slow_mode_seconds):
            raise RateLimited(
                N_("Slow mode is on: one message every {seconds} s."),
                seconds=room.slow_mode_seconds,
                retry_after=room.slow_mode_seconds,
            )
    await services.limiter.hit(FLOOD_RATE, "chat", str(room.id), str(acting_user.id))
    message = await ChatMessage.create(room=room, user=acting_user, text=text)
    await services.events.publish(
        Event("chat:message", message_payload(message, acting_user), scope=room_scope(room.id))
    )
    return message


async def do_system_message(
    services: Services,
    room: Room,
    kind: str,
    *,
    user: User | None = None,
    data: dict[str, Any] | None = None,
) -> ChatMessage:
    """``kind`` is e.g. "joined", "kicked", "now_playing"; clients render it in their language."""
    payload = {**(data or {})}
    if user is not None:
        payload["userId"] = user.id
        payload["name"] = user.display_name
    text = {"joined": "{name} joined", "kicked": "{name} was removed"}.get(kind, kind)
    with contextlib.suppress(KeyError, IndexError, ValueError):
        text = text.format(**payload)
    message = await ChatMessage.create(
        room=room, user=None, kind=kind, text=text[:1000], data=payload
    )
    await services.events.publish(
        Event("chat:message", message_payload(message, None), scope=room_scope(room.id))
    )
    return message


async def get_recent_messages(room: Room, *, limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
    """The last ``limit`` messages, oldest first (deleted ones as tombstones)."""
    messages = (
        await ChatMessage.filter(room_id=room.id)
        .order_by("-id")
        .limit(limit)
        .prefetch_related("user")
    )
    return [message_payload(m, m.user) for m in reversed(messages)]


async def do_delete_message(
    services: Services, *, room: Room, acting_user: User, message_id: int
) -> None:
    member = await access_member(room, acting_user)
    message = await ChatMessage.get_or_none(id=message_id, room_id=room.id, deleted_at=None)
    if message is None:
        raise NotFound(N_("Message not found."))
    if message.user_id != acting_user.id:
        check_permission(room, member, Action.DELETE_MESSAGE)
    message.deleted_at = now()
    message.deleted_by_id = acting_user.id
    await message.save(update_fields=["deleted_at", "deleted_by_id"])
    await services.events.publish(
        Event(
            "chat:deleted",
            {"roomId": room.id, "messageId": message.id},
            scope=room_scope(room.id),
        )
    )
