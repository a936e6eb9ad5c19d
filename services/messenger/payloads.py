"""The wire shapes of chats and messages, and the status of a message from the members'
delivered-up-to and read-up-to marks (``services/messenger/contract.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tortoise import connections

from models.messenger import Chat, ChatKind, ChatMember, Message
from models.users import User
from services.accounts.users import user_payload
from services.core.context import Services
from services.core.db import for_client
from services.messenger.presence import get_online

PREVIEW_LENGTH = 100


@dataclass(frozen=True, slots=True)
class Marks:
    """A member's delivered-up-to and read-up-to message ids."""

    user_id: int
    delivered: int
    read: int


async def get_marks(chat_id: int) -> list[Marks]:
    rows = await ChatMember.filter(chat_id=chat_id, left_at=None).values_list(
        "user_id", "last_delivered_id", "last_read_id"
    )
    return [Marks(u, d, r) for u, d, r in rows]


def message_status(
    message_id: int, sender_id: int, marks: Iterable[Marks], *, group: bool
) -> tuple[str, int | None]:
    """``(status, readBy)``: read when someone else read it, delivered when someone else has
    it, else sent. ``readBy`` counts the others who read it (groups; None in direct chats)."""
    others = [m for m in marks if m.user_id != sender_id]
    read_by = sum(1 for m in others if m.read >= message_id)
    if read_by:
        status = "read"
    elif any(m.delivered >= message_id for m in others):
        status = "delivered"
    else:
        status = "sent"
    return status, (read_by if group else None)


def message_payload(
    message: Message,
    sender: User | dict[str, Any],
    *,
    status: str = "sent",
    read_by: int | None = None,
) -> dict[str, Any]:
    deleted = message.deleted_at is not None
    return {
        "id": message.id,
        "chatId": message.chat_id,
        "clientId": message.client_id,
        "sender": user_payload(sender) if isinstance(sender, User) else sender,
        "content": "" if deleted else message.content,
        "isEncrypted": message.is_encrypted,
        "encryption": None if deleted else message.encryption,
        "createdAt": message.created_at.isoformat(),
        "editedAt": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": deleted,
        "status": status,
        "readBy": read_by,
    }


async def message_payloads(
    chat: Chat, messages: list[Message], *, marks: list[Marks] | None = None
) -> list[dict[str, Any]]:
    """Messages (their ``sender`` prefetched) with their statuses."""
    if marks is None:
        marks = await get_marks(chat.id)
    group = chat.kind == ChatKind.GROUP
    shown = []
    for message in messages:
        status, read_by = message_status(message.id, message.sender_id, marks, group=group)
        shown.append(message_payload(message, message.sender, status=status, read_by=read_by))
    return shown


def preview_payload(message: Message) -> dict[str, Any]:
    deleted = message.deleted_at is not None
    hidden = deleted or message.is_encrypted
    return {
        "id": message.id,
        "senderId": message.sender_id,
        "text": None if hidden else message.content[:PREVIEW_LENGTH],
        "isEncrypted": message.is_encrypted,
        "deleted": deleted,
        "createdAt": message.created_at.isoformat(),
    }


def member_payload(member: ChatMember, user: User, *, online: bool) -> dict[str, Any]:
    return {
        "user": user_payload(user),
        "role": member.role.value,
        "isOnline": online,
        "lastSeenAt": user.last_seen_at.isoformat() if user.last_seen_at else None,
    }


#: Per chat of a member: others' messages after the member's read mark, deleted ones left out.
_UNREAD_SQL = (
    "SELECT m.chat_id AS chat_id, COUNT(*) AS unread FROM messages m "
    "JOIN chat_members cm ON cm.chat_id = m.chat_id "
    "WHERE cm.user_id = $1 AND cm.left_at IS NULL AND m.id > cm.last_read_id "
    "AND m.sender_id <> $2 AND m.deleted_at IS NULL GROUP BY m.chat_id"
)


async def get_unread_counts(user_id: int) -> dict[int, int]:
    """Unread counts of every chat of the user, in one statement."""
    client = connections.get("default")
    rows = await client.execute_query_dict(for_client(client, _UNREAD_SQL), [user_id, user_id])
    return {int(row["chat_id"]): int(row["unread"]) for row in rows}


async def chat_payloads(
    services: Services, chats: list[Chat], *, viewer: User
) -> list[dict[str, Any]]:
    """Chats as ``viewer`` (a member of each) sees them: members with their presence, the
    viewer's role, mute flag and unread count, the last message's preview."""
    if not chats:
        return []
    ids = [chat.id for chat in chats]
    members = (
        await ChatMember.filter(chat_id__in=ids, left_at=None)
        .order_by("joined_at", "id")
        .prefetch_related("user")
    )
    by_chat: dict[int, list[ChatMember]] = {}
    for member in members:
        by_chat.setdefault(member.chat_id, []).append(member)
    online = await get_online(services, list({m.user_id for m in members}))
    last_ids = [chat.last_message_id for chat in chats if chat.last_message_id]
    last = {m.id: m for m in await Message.filter(id__in=last_ids)} if last_ids else {}
    unread = await get_unread_counts(viewer.id)
    shown = []
    for chat in chats:
        mine = next(m for m in by_chat.get(chat.id, []) if m.user_id == viewer.id)
        preview = last.get(chat.last_message_id or 0)
        shown.append(
            {
                "id": chat.id,
                "kind": chat.kind.value,
                "title": chat.title,
                "members": [
                    member_payload(m, m.user, online=m.user_id in online)
                    for m in by_chat.get(chat.id, [])
                ],
                "myRole": mine.role.value,
                "muted": mine.muted,
                "unreadCount": unread.get(chat.id, 0),
                "lastMessage": preview_payload(preview) if preview else None,
                "lastMessageAt": chat.last_message_at.isoformat() if chat.last_message_at else None,
                "createdAt": chat.created_at.isoformat(),
            }
        )
    return shown


async def chat_payload(services: Services, chat: Chat, *, viewer: User) -> dict[str, Any]:
    return (await chat_payloads(services, [chat], viewer=viewer))[0]
