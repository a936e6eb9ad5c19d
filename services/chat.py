"""Room chat: sending with a length limit, slow mode and a flood limit; history; deletion;
system messages (joined, kicked, now playing) that clients localize from their ``data``."""

from __future__ import annotations

import contextlib
import math
import time
import unicodedata
from typing import Any

from models.rooms import ChatMessage, Role, Room
from models.users import User
from services.context import Services
from services.errors import N_, NotFound, RateLimited, ValidationError
from services.events import Event
from services.rooms import Action, access_member, check_id, check_permission, now, room_scope
from services.users import user_payload

MAX_MESSAGE_LENGTH = 1000
HISTORY_LIMIT = 50
MAX_HISTORY_LIMIT = 100
#: The flood limit, on top of slow mode and for everyone (hosts too): at most 5 messages in any
#: 5 seconds (the limiter's moving window, not a strict token bucket): a burst of 5, then a
#: wait until the oldest leaves the window; one a second on average.
FLOOD_RATE = "5/5second"
#: System message kinds and their English fallback text (clients localize from ``data``).
SYSTEM_TEXTS = {
    "joined": "{name} joined",
    "kicked": "{name} was removed",
    "now_playing": "Now playing: {title}",
}


def message_payload(message: ChatMessage, user: User | None) -> dict[str, Any]:
    return {
        "id": message.id,
        "roomId": message.room_id,
        "kind": message.kind,
        "text": message.text if message.deleted_at is None else "",
        "data": message.data if message.deleted_at is None else None,
        "user": user_payload(user) if user is not None else None,
        "createdAt": message.created_at.isoformat(),
        "deleted": message.deleted_at is not None,
    }


def check_text(text: Any) -> str:
    """Trimmed text with normalized line ends; no other control characters (C0, DEL, C1)."""
    if not isinstance(text, str):
        raise ValidationError(field="text", reason="must be a string")
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise ValidationError(N_("The message is empty."), field="text", reason="required")
    if len(text) > MAX_MESSAGE_LENGTH:
        raise ValidationError(
            N_("The message is too long (at most {limit} characters)."),
            field="text",
            reason="too long",
            limit=MAX_MESSAGE_LENGTH,
        )
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in text):
        raise ValidationError(field="text", reason="contains control characters")
    return text


async def do_send_message(
    services: Services, *, room: Room, acting_user: User, text: str
) -> ChatMessage:
    """Send a text message. Slow mode (``room.slow_mode_seconds``) spares hosts and moderators;
    the flood limit applies to everyone. Both raise :class:`RateLimited` with ``retry_after``."""
    member = await access_member(room, acting_user)
    check_permission(room, member, Action.CHAT)
    text = check_text(text)
    # Flood first: a message refused by it must not start the slow-mode wait.
    await services.limiter.hit(FLOOD_RATE, "chat", str(room.id), str(acting_user.id))
    if room.slow_mode_seconds and member.role not in (Role.HOST, Role.MODERATOR):
        await _check_slow_mode(services, room, acting_user)
    message = await ChatMessage.create(room=room, user=acting_user, text=text)
    await services.events.publish(
        Event("chat:message", message_payload(message, acting_user), scope=room_scope(room.id))
    )
    return message


async def _check_slow_mode(services: Services, room: Room, user: User) -> None:
    seconds = room.slow_mode_seconds
    key = f"slow:{room.id}:{user.id}"
    if await services.state.set_if_absent(key, str(time.time()), ttl=seconds):
        return
    sent_at = await services.state.get(key)
    try:
        left = seconds - (time.time() - float(sent_at)) if sent_at is not None else seconds
    except ValueError:
        left = seconds
    raise RateLimited(
        N_("Slow mode is on: one message every {seconds} s."),
        seconds=seconds,
        retry_after=max(1, min(seconds, math.ceil(left))),
    )


async def do_system_message(
    services: Services,
    room: Room,
    kind: str,
    *,
    user: User | None = None,
    data: dict[str, Any] | None = None,
) -> ChatMessage:
    """A message from no one: ``kind`` is e.g. "joined", "kicked", "now_playing" (with
    ``data={"mediaId", "title"}``). ``data`` (plus ``userId``/``name`` of ``user``) lets clients
    render it in their language; ``text`` is an English fallback."""
    if not kind or len(kind) > 16 or kind == "text":
        raise ValueError(f"bad system message kind {kind!r}")
    payload = {**(data or {})}
    if user is not None:
        payload["userId"] = user.id
        payload["name"] = user.display_name
    text = SYSTEM_TEXTS.get(kind, kind)
    with contextlib.suppress(KeyError, IndexError, ValueError):
        text = text.format(**payload)
    message = await ChatMessage.create(
        room=room, user=None, kind=kind, text=text[:1000], data=payload
    )
    await services.events.publish(
        Event("chat:message", message_payload(message, None), scope=room_scope(room.id))
    )
    return message


async def get_recent_messages(
    room: Room, *, before: int | None = None, limit: int = HISTORY_LIMIT
) -> list[dict[str, Any]]:
    """The last ``limit`` messages (older than message ``before`` if given), oldest first;
    deleted ones as tombstones. Callers check membership (``access_member``) first."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_HISTORY_LIMIT:
        raise ValidationError(field="limit", reason=f"1-{MAX_HISTORY_LIMIT}")
    query = ChatMessage.filter(room_id=room.id)
    if before is not None:
        check_id(before, field="before")
        query = query.filter(id__lt=before)
    messages = await query.order_by("-id").limit(limit).prefetch_related("user")
    return [message_payload(m, m.user) for m in reversed(messages)]


async def do_delete_message(
    services: Services, *, room: Room, acting_user: User, message_id: int
) -> None:
    """Delete a message: one's own, or anyone's (system messages too) as host or moderator."""
    member = await access_member(room, acting_user)
    check_id(message_id, field="messageId")
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
