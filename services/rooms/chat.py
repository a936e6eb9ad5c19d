"""Room chat: sending with a length limit, slow mode and a flood limit; history; deletion;
system messages (joined, kicked, now playing) that clients localize from their ``data``."""

from __future__ import annotations

import contextlib
import json
import math
import time
from dataclasses import dataclass
from typing import Any

from models.rooms import ChatMessage, Role, Room, RoomMember
from models.users import User
from services.accounts.users import user_payload
from services.core.context import Services
from services.core.errors import N_, Forbidden, NotFound, RateLimited, ValidationError
from services.core.events import Event
from services.core.state import STORE_ERRORS, warn_store_down
from services.core.text import MULTILINE, check
from services.rooms.access import (
    MAX_ID,
    Action,
    access_member,
    access_room,
    can_role,
    check_id,
    check_outranks,
    check_permission,
    now,
    room_scope,
)

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
    "gift": "{name} sent {toName} {emoji}",
}


def message_payload(message: ChatMessage, user: User | dict[str, Any] | None) -> dict[str, Any]:
    """The wire shape of a message; ``user`` is its author or their :func:`user_payload`."""
    if isinstance(user, User):
        user = user_payload(user)
    return {
        "id": message.id,
        "roomId": message.room_id,
        "kind": message.kind,
        "text": message.text if message.deleted_at is None else "",
        "data": message.data if message.deleted_at is None else None,
        "user": user,
        "createdAt": message.created_at.isoformat(),
        "deleted": message.deleted_at is not None,
    }


def check_text(text: Any) -> str:
    """Trimmed text with normalized line ends; no other control characters (C0, DEL, C1)."""
    text = check(text, MULTILINE, field="text")
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
    return text


@dataclass(frozen=True, slots=True)
class Sender:
    """What sending a message needs to know about its author, cached per room and user.

    A message a second per person, fanned out to the whole room, must not cost a room, a user
    and a membership query each time: the first send reads the database, later ones read this
    from the ephemeral store (shared by every process with Redis). It is dropped whenever the
    membership, the role or the room's settings change (:func:`subscribe`) and expires after
    :data:`SENDER_TTL` in any case, which also bounds how long a renamed user's old name shows.
    """

    room_id: int
    user_id: int
    role: Role
    slow_mode_seconds: int
    user: dict[str, Any]

    def dumps(self) -> str:
        return json.dumps(
            [self.room_id, self.user_id, self.role.value, self.slow_mode_seconds, self.user]
        )

    @classmethod
    def loads(cls, raw: str) -> Sender:
        room_id, user_id, role, slow, user = json.loads(raw)
        return cls(room_id, user_id, Role(role), slow, user)


#: Seconds a cached :class:`Sender` lives without being invalidated (a Telegram rename shows in
#: new messages at most this late).
SENDER_TTL = 600.0
#: Invalidation deletes the cached sender again this many seconds later, so a send that read
#: the database just before a kick cannot put the old membership back for a whole TTL.
REDELETE_AFTER = 1.0


def _sender_key(room_id: int, user_id: int) -> str:
    return f"chat-sender:{room_id}:{user_id}"


def _senders_key(room_id: int) -> str:
    return f"chat-senders:{room_id}"


async def access_sender(services: Services, room_ref: int | str, user_id: int) -> Sender:
    """The acting user as a sender in an open room they are an active member of.

    From the cache when the room is named by id; otherwise (or on a miss) through
    :func:`access_room` and :func:`access_member`, so the errors are the same as everywhere."""
    if isinstance(room_ref, int) and not isinstance(room_ref, bool) and 0 < room_ref <= MAX_ID:
        try:
            raw = await services.state.get(_sender_key(room_ref, user_id))
        except STORE_ERRORS as exc:  # Redis is down: the database answers instead
            warn_store_down("the chat sender cache", exc)
            raw = None
        if raw is not None:
            return Sender.loads(raw)
    room = await access_room(room_ref)
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise Forbidden()
    member = await access_member(room, user)
    return await remember_sender(services, room, user, member)


async def remember_sender(services: Services, room: Room, user: User, member: RoomMember) -> Sender:
    """Cache ``user`` as a sender in ``room`` (entering a room does it, so the first message
    is as cheap as the next). Without the store (Redis down) nothing is cached: the next send
    reads the database again."""
    sender = Sender(room.id, user.id, member.role, room.slow_mode_seconds, user_payload(user))
    try:
        await services.state.set(_sender_key(room.id, user.id), sender.dumps(), ttl=SENDER_TTL)
        await services.state.set_add(_senders_key(room.id), str(user.id), ttl=SENDER_TTL)
    except STORE_ERRORS as exc:
        warn_store_down("the chat sender cache", exc)
    return sender


async def forget_senders(services: Services, room_id: int, user_id: int | None = None) -> None:
    """Drop cached senders of a room (one user's, or everyone's)."""
    if user_id is not None:
        keys = [_sender_key(room_id, user_id)]
    else:
        members = await services.state.set_members(_senders_key(room_id))
        keys = [_sender_key(room_id, int(m)) for m in members]
        await services.state.delete(_senders_key(room_id))
    for key in keys:
        await services.state.delete(key)


def subscribe(services: Services) -> None:
    """Keep the sender cache honest: membership, role and room changes drop it (twice)."""

    async def on_event(event: Event) -> None:
        room_id = event.payload.get("roomId")
        if not isinstance(room_id, int):
            return
        user_id = event.payload.get("userId") if event.type in _PER_USER else None
        await forget_senders(services, room_id, user_id)
        services.scheduler.call_later(
            f"chat-senders:{room_id}:{user_id or '*'}",
            REDELETE_AFTER,
            lambda: forget_senders(services, room_id, user_id),
        )

    for event_type in (*_PER_USER, *_PER_ROOM):
        services.events.subscribe(event_type, on_event)


_PER_USER = ("participant:left", "participant:role", "room:kicked")
_PER_ROOM = ("room:updated", "room:closed")


async def do_send_message(
    services: Services, *, room: Room, acting_user: User, text: str
) -> ChatMessage:
    """Send a text message as ``acting_user`` (see :func:`do_send_as`)."""
    sender = await access_sender(services, room.id, acting_user.id)
    return await do_send_as(services, sender, text)


async def do_send_as(services: Services, sender: Sender, text: Any) -> ChatMessage:
    """Send a text message. Slow mode (``slow_mode_seconds``) spares hosts and moderators;
    the flood limit applies to everyone. Both raise :class:`RateLimited` with ``retry_after``.
    The sender comes from :func:`access_sender` (an active member of an open room)."""
    if not can_role(sender.role, Action.CHAT):
        raise Forbidden()
    text = check_text(text)
    # Flood first: a message refused by it must not start the slow-mode wait.
    await services.limiter.hit(FLOOD_RATE, "chat", str(sender.room_id), str(sender.user_id))
    if sender.slow_mode_seconds and sender.role not in (Role.HOST, Role.MODERATOR):
        await _check_slow_mode(services, sender)
    message = await ChatMessage.create(room_id=sender.room_id, user_id=sender.user_id, text=text)
    await services.events.publish(
        Event(
            "chat:message",
            message_payload(message, sender.user),
            scope=room_scope(sender.room_id),
        )
    )
    return message


async def _check_slow_mode(services: Services, sender: Sender) -> None:
    seconds = sender.slow_mode_seconds
    key = f"slow:{sender.room_id}:{sender.user_id}"
    try:
        if await services.state.set_if_absent(key, str(time.time()), ttl=seconds):
            return
        sent_at = await services.state.get(key)
    except STORE_ERRORS as exc:
        # Redis is down: one message per ``seconds`` through the limiter, which counts in this
        # process's memory meanwhile.
        warn_store_down("chat slow mode", exc)
        await _check_slow_mode_in_limiter(services, sender)
        return
    try:
        left = seconds - (time.time() - float(sent_at)) if sent_at is not None else seconds
    except ValueError:
        left = seconds
    raise RateLimited(
        N_("Slow mode is on: one message every {seconds} s."),
        seconds=seconds,
        retry_after=max(1, min(seconds, math.ceil(left))),
    )


async def _check_slow_mode_in_limiter(services: Services, sender: Sender) -> None:
    seconds = sender.slow_mode_seconds
    try:
        await services.limiter.hit(
            f"1/{seconds}second", "slow", str(sender.room_id), str(sender.user_id)
        )
    except RateLimited as exc:
        raise RateLimited(
            N_("Slow mode is on: one message every {seconds} s."),
            seconds=seconds,
            retry_after=max(1, min(seconds, exc.retry_after)),
        ) from None


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
    """Delete a message: one's own, or someone else's (system messages too) as host or
    moderator, by the rank rule of kicks: a moderator deletes members' messages, never the
    host's or another moderator's; the host deletes anyone's."""
    member = await access_member(room, acting_user)
    check_id(message_id, field="messageId")
    message = await ChatMessage.get_or_none(id=message_id, room_id=room.id, deleted_at=None)
    if message is None:
        raise NotFound(N_("Message not found."))
    if message.user_id != acting_user.id:
        check_permission(room, member, Action.DELETE_MESSAGE)
        if message.user_id is not None:
            refused = N_("You cannot delete this person's messages.")
            await check_outranks(room, member, message.user_id, message=refused)
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
