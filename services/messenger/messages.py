"""Messages: sending (idempotent on the client's id), history, delivered and read marks with
the statuses they give the senders, typing, editing and deleting one's own.

Every event goes to ``user:<id>`` of each member, so every device of every member (the
sender's other devices too) hears it; the connection whose command caused it has the result
in its ack and is skipped (``origin``).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Max
from tortoise.transactions import in_transaction

from models.messenger import Chat, ChatKind, ChatMember, Message
from models.users import User
from services.accounts.users import user_payload
from services.core import text
from services.core.context import Services
from services.core.errors import N_, Conflict, Forbidden, NotFound, ValidationError
from services.core.state import STORE_ERRORS, warn_store_down
from services.messenger import events as ev
from services.messenger.access import (
    access_member,
    access_message,
    check_id,
    get_member_ids,
    now,
)
from services.messenger.payloads import (
    get_marks,
    message_payload,
    message_payloads,
    message_status,
)

#: Plain text: characters once trimmed. Ciphertext (base64): characters as sent.
MAX_TEXT_LENGTH = 4000
MAX_CIPHERTEXT_LENGTH = 65536
#: The JSON of an encrypted message's ``encryption`` (IV, wrapped keys), in bytes.
MAX_ENCRYPTION_BYTES = 32 * 1024
HISTORY_LIMIT = 50
MAX_HISTORY_LIMIT = 100
#: A member's typing is relayed at most once per this many seconds per chat.
TYPING_EVERY = 2.0
#: Ciphertext is base64: printable ASCII.
CIPHERTEXT = text.Rule(ascii=True)
SEND_LIMITED = N_("You are sending messages too fast. Try again in {retry_after} s.")


def check_content(content: object, *, encrypted: bool) -> str:
    if encrypted:
        value = text.check(content, CIPHERTEXT, field="content")
        if not value:
            raise ValidationError(N_("The message is empty."), field="content", reason="required")
        if len(value) > MAX_CIPHERTEXT_LENGTH:
            raise ValidationError(
                field="content", reason=f"at most {MAX_CIPHERTEXT_LENGTH} characters"
            )
        return value
    value = text.check(content, text.MULTILINE, field="content")
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not value:
        raise ValidationError(N_("The message is empty."), field="content", reason="required")
    if len(value) > MAX_TEXT_LENGTH:
        raise ValidationError(
            N_("The message is too long (at most {limit} characters)."),
            field="content",
            reason="too long",
            limit=MAX_TEXT_LENGTH,
        )
    return value


def check_encryption(encryption: object, *, encrypted: bool) -> dict[str, Any] | None:
    """An encrypted message's key material, opaque to us: a JSON object within the size limit.
    A plain message carries none."""
    if not encrypted:
        if encryption is not None:
            raise ValidationError(field="encryption", reason="only with isEncrypted")
        return None
    if not isinstance(encryption, dict) or not encryption:
        raise ValidationError(
            N_("An encrypted message needs its wrapped keys."),
            field="encryption",
            reason="required",
        )
    try:
        size = len(json.dumps(encryption, ensure_ascii=False).encode())
    except (TypeError, ValueError, UnicodeEncodeError):
        raise ValidationError(field="encryption", reason="not valid JSON text") from None
    if size > MAX_ENCRYPTION_BYTES:
        raise ValidationError(field="encryption", reason=f"at most {MAX_ENCRYPTION_BYTES} bytes")
    return encryption


async def _publish(
    services: Services,
    event_type: str,
    payload: dict[str, Any],
    user_ids: list[int],
    origin: str | None = None,
) -> None:
    await asyncio.gather(
        *(
            services.events.publish(
                ev.OriginEvent(event_type, payload, scope=ev.user_scope(uid), origin=origin)
            )
            for uid in user_ids
        )
    )


async def _stored_payload(message: Message) -> dict[str, Any]:
    chat = await Chat.get(id=message.chat_id)
    await message.fetch_related("sender")
    return (await message_payloads(chat, [message]))[0]


async def do_send_message(
    services: Services,
    *,
    acting_user: User,
    chat_id: int,
    content: str,
    client_id: str,
    is_encrypted: bool = False,
    encryption: dict[str, Any] | None = None,
    origin: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """Store a message and deliver it to every member's connections: ``(message, resent)``.

    The same ``client_id`` from the same sender again (a resend after a reconnect) answers the
    stored message (``resent`` True) and delivers nothing new; a unique constraint on
    (sender, client id) keeps two racing sends to one row."""
    client_id = text.check(client_id, text.TOKEN, field="clientId")
    if not 1 <= len(client_id) <= 64:
        raise ValidationError(field="clientId", reason="1-64 characters")
    existing = await Message.get_or_none(sender_id=acting_user.id, client_id=client_id)
    if existing is not None:
        return await _resent(existing, chat_id)
    chat, _ = await access_member(chat_id, acting_user)
    content = check_content(content, encrypted=is_encrypted)
    encryption = check_encryption(encryption, encrypted=is_encrypted)
    await services.limiter.hit_many(
        services.settings.message_rate, "message", str(acting_user.id), message=SEND_LIMITED
    )
    try:
        async with in_transaction():
            message = await Message.create(
                chat_id=chat.id,
                sender_id=acting_user.id,
                client_id=client_id,
                content=content,
                is_encrypted=is_encrypted,
                encryption=encryption,
            )
            await Chat.filter(
                Q(last_message_id__isnull=True) | Q(last_message_id__lt=message.id), id=chat.id
            ).update(last_message_id=message.id, last_message_at=message.created_at)
    except IntegrityError:
        stored = await Message.get_or_none(sender_id=acting_user.id, client_id=client_id)
        if stored is None:
            raise
        return await _resent(stored, chat_id)
    payload = message_payload(
        message,
        user_payload(acting_user),
        status="sent",
        read_by=0 if chat.kind == ChatKind.GROUP else None,
    )
    await _publish(services, ev.MESSAGE_RECEIVED, payload, await get_member_ids(chat.id), origin)
    return payload, False


async def _resent(message: Message, chat_id: int) -> tuple[dict[str, Any], bool]:
    if message.chat_id != chat_id:
        raise Conflict(
            N_("This clientId was already used for a message in another chat."),
            field="clientId",
        )
    return await _stored_payload(message), True


async def get_messages(
    user: User, *, chat_id: object, before: int | None = None, limit: int = HISTORY_LIMIT
) -> tuple[list[dict[str, Any]], bool]:
    """A page of history, newest first, older than ``before``: ``(messages, has_more)``."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_HISTORY_LIMIT:
        raise ValidationError(field="limit", reason=f"1-{MAX_HISTORY_LIMIT}")
    chat, _ = await access_member(chat_id, user)
    query = Message.filter(chat_id=chat.id)
    if before is not None:
        check_id(before, field="before")
        query = query.filter(id__lt=before)
    rows = await query.order_by("-id").limit(limit + 1).prefetch_related("sender")
    return await message_payloads(chat, rows[:limit]), len(rows) > limit


async def _move_mark(
    services: Services,
    chat: Chat,
    member: ChatMember,
    up_to: int,
    *,
    read: bool,
) -> bool:
    """Move the member's delivered (or, when ``read``, read) mark up to ``up_to``; tell the
    senders of the messages it passed (``message:status``, per sender for their newest such
    message). False when the mark was there already."""
    old = member.last_read_id if read else member.last_delivered_id
    if up_to <= old:
        return False
    name = "last_read_id" if read else "last_delivered_id"
    moved = await ChatMember.filter(id=member.id, **{f"{name}__lt": up_to}).update(**{name: up_to})
    if not moved:
        return False
    rows = (
        await Message.filter(chat_id=chat.id, id__gt=old, id__lte=up_to, deleted_at=None)
        .exclude(sender_id=member.user_id)
        .annotate(newest=Max("id"))
        .group_by("sender_id")
        .values_list("sender_id", "newest")
    )
    if not rows:
        return True
    marks = await get_marks(chat.id)
    group = chat.kind == ChatKind.GROUP
    for sender_id, newest in rows:
        status, read_by = message_status(newest, sender_id, marks, group=group)
        await _publish(
            services,
            ev.MESSAGE_STATUS,
            {"chatId": chat.id, "messageId": newest, "status": status, "readBy": read_by},
            [sender_id],
        )
    return True


async def do_mark_delivered(services: Services, *, acting_user: User, message_id: object) -> None:
    """A recipient's client has the message (and so every earlier one of its chat)."""
    message, chat, member = await access_message(message_id, acting_user)
    if message.sender_id == acting_user.id:
        return
    await _move_mark(services, chat, member, message.id, read=False)


async def do_mark_read(
    services: Services,
    *,
    acting_user: User,
    chat_id: object,
    message_id: object,
) -> int:
    """Read the chat up to (and including) ``message_id``; returns the unread count left."""
    chat, member = await access_member(chat_id, acting_user)
    check_id(message_id, field="messageId")
    if not await Message.filter(id=message_id, chat_id=chat.id).exists():
        raise NotFound(N_("Message not found."))
    assert isinstance(message_id, int)
    if member.last_delivered_id < message_id:
        # Read implies delivered: both marks move (the delivered one never goes back).
        await ChatMember.filter(id=member.id, last_delivered_id__lt=message_id).update(
            last_delivered_id=message_id
        )
    await _move_mark(services, chat, member, message_id, read=True)
    last_read = max(member.last_read_id, message_id)
    return (
        await Message.filter(chat_id=chat.id, id__gt=last_read, deleted_at=None)
        .exclude(sender_id=acting_user.id)
        .count()
    )


async def do_typing(services: Services, *, acting_user: User, chat_id: object) -> bool:
    """Tell the other members someone is typing, at most every :data:`TYPING_EVERY` s per
    member and chat (more often is acked and dropped). True when relayed."""
    chat, _ = await access_member(chat_id, acting_user)
    try:
        fresh = await services.state.set_if_absent(
            f"msg-typing:{chat.id}:{acting_user.id}", "1", ttl=TYPING_EVERY
        )
    except STORE_ERRORS as exc:
        warn_store_down("messenger typing", exc)
        return False
    if not fresh:
        return False
    others = [uid for uid in await get_member_ids(chat.id) if uid != acting_user.id]
    await _publish(services, ev.USER_TYPING, {"chatId": chat.id, "userId": acting_user.id}, others)
    return True


async def _own_message(acting_user: User, message_id: object) -> tuple[Message, Chat]:
    message, chat, _ = await access_message(message_id, acting_user)
    if message.sender_id != acting_user.id:
        raise Forbidden(N_("Only its author can change a message."))
    if message.deleted_at is not None:
        raise NotFound(N_("Message not found."))
    return message, chat


async def do_edit_message(
    services: Services,
    *,
    acting_user: User,
    message_id: object,
    content: str,
    encryption: dict[str, Any] | None = None,
    origin: str | None = None,
) -> dict[str, Any]:
    """The author changes the text (an encrypted message: new ciphertext and keys)."""
    message, chat = await _own_message(acting_user, message_id)
    message.content = check_content(content, encrypted=message.is_encrypted)
    message.encryption = check_encryption(encryption, encrypted=message.is_encrypted)
    await services.limiter.hit_many(
        services.settings.message_rate, "message", str(acting_user.id), message=SEND_LIMITED
    )
    message.edited_at = now()
    await message.save(update_fields=["content", "encryption", "edited_at"])
    message.sender = acting_user
    payload = (await message_payloads(chat, [message]))[0]
    await _publish(services, ev.MESSAGE_EDITED, payload, await get_member_ids(chat.id), origin)
    return payload


async def do_delete_message(
    services: Services, *, acting_user: User, message_id: object, origin: str | None = None
) -> None:
    """The author deletes a message for everyone: its content and keys are dropped."""
    message, chat = await _own_message(acting_user, message_id)
    message.deleted_at = now()
    message.content = ""
    message.encryption = None
    await message.save(update_fields=["deleted_at", "content", "encryption"])
    await _publish(
        services,
        ev.MESSAGE_DELETED,
        {"chatId": chat.id, "messageId": message.id},
        await get_member_ids(chat.id),
        origin,
    )
