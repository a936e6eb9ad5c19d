"""Chats: direct (one per pair of people, idempotent) and groups (title, admins, members);
the user's chat list; renaming, muting, adding and removing members, leaving."""

from __future__ import annotations

import asyncio
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.messenger import Chat, ChatKind, ChatMember, ChatRole
from models.users import User
from services.core.context import Services
from services.core.errors import N_, Forbidden, NotFound, ValidationError
from services.messenger import events as ev
from services.messenger.access import (
    GROUPS_ONLY,
    access_member,
    access_other_user,
    check_admin,
    check_title,
    get_active_member,
    get_member_ids,
    now,
)
from services.messenger.payloads import chat_payload, chat_payloads

MAX_GROUP_MEMBERS = 200
#: The chat list shows at most this many chats (the newest).
CHAT_LIST_LIMIT = 500
CREATE_LIMITED = N_("You are creating chats too fast. Try again in {retry_after} s.")


def direct_key(a: int, b: int) -> str:
    low, high = sorted((a, b))
    return f"{low}:{high}"


async def _announce(services: Services, event_type: str, chat_id: int, user_ids: list[int]) -> None:
    await asyncio.gather(
        *(
            services.events.publish(
                ev.OriginEvent(event_type, {"chatId": chat_id}, scope=ev.user_scope(uid))
            )
            for uid in user_ids
        )
    )


async def do_create_chat(
    services: Services,
    *,
    acting_user: User,
    user_id: int | None = None,
    member_ids: list[int] | None = None,
    title: str | None = None,
) -> tuple[Chat, bool]:
    """A direct chat with ``user_id`` (the existing one if the pair has it: ``created``
    False), or a group of ``member_ids`` with ``title`` whose admin is the creator."""
    if (user_id is None) == (member_ids is None):
        raise ValidationError(
            N_("Give userId for a direct chat, or memberIds and a title for a group."),
            field="userId",
            reason="userId or memberIds",
        )
    if user_id is not None:
        return await _create_direct(services, acting_user, user_id)
    assert member_ids is not None
    return await _create_group(services, acting_user, member_ids, title), True


async def _create_direct(services: Services, acting_user: User, user_id: int) -> tuple[Chat, bool]:
    if user_id == acting_user.id:
        raise ValidationError(
            N_("You cannot start a chat with yourself."), field="userId", reason="yourself"
        )
    other = await access_other_user(user_id)
    key = direct_key(acting_user.id, other.id)
    existing = await Chat.get_or_none(direct_key=key)
    if existing is not None:
        return existing, False
    await services.limiter.hit_many(
        services.settings.chat_create_rate,
        "chat-create",
        str(acting_user.id),
        message=CREATE_LIMITED,
    )
    try:
        async with in_transaction():
            chat = await Chat.create(kind=ChatKind.DIRECT, direct_key=key, created_by=acting_user)
            await ChatMember.bulk_create(
                [
                    ChatMember(chat=chat, user_id=acting_user.id, role=ChatRole.MEMBER),
                    ChatMember(chat=chat, user_id=other.id, role=ChatRole.MEMBER),
                ]
            )
    except IntegrityError:
        # Both started it at once: the other request made the chat.
        return await Chat.get(direct_key=key), False
    await _announce(services, ev.CHAT_UPDATED, chat.id, [acting_user.id, other.id])
    return chat, True


async def _create_group(
    services: Services, acting_user: User, member_ids: list[int], title: str | None
) -> Chat:
    if title is None:
        raise ValidationError(N_("A group needs a title."), field="title", reason="required")
    title = check_title(title)
    others = list(dict.fromkeys(uid for uid in member_ids if uid != acting_user.id))
    if not others:
        raise ValidationError(
            N_("Add at least one other person to the group."), field="memberIds", reason="empty"
        )
    if len(others) + 1 > MAX_GROUP_MEMBERS:
        raise ValidationError(field="memberIds", reason=f"at most {MAX_GROUP_MEMBERS} members")
    users = [await access_other_user(uid, field="memberIds") for uid in others]
    await services.limiter.hit_many(
        services.settings.chat_create_rate,
        "chat-create",
        str(acting_user.id),
        message=CREATE_LIMITED,
    )
    async with in_transaction():
        chat = await Chat.create(kind=ChatKind.GROUP, title=title, created_by=acting_user)
        await ChatMember.bulk_create(
            [ChatMember(chat=chat, user_id=acting_user.id, role=ChatRole.ADMIN)]
            + [ChatMember(chat=chat, user_id=u.id, role=ChatRole.MEMBER) for u in users]
        )
    await _announce(services, ev.CHAT_UPDATED, chat.id, [acting_user.id, *others])
    return chat


async def get_chats(services: Services, user: User) -> list[dict[str, Any]]:
    """The user's chats, the newest message first (a chat without messages by its creation)."""
    chat_ids = await ChatMember.filter(user_id=user.id, left_at=None).values_list(
        "chat_id", flat=True
    )
    chats = await Chat.filter(id__in=list(chat_ids))
    chats.sort(key=lambda c: (c.last_message_at or c.created_at, c.id), reverse=True)
    return await chat_payloads(services, chats[:CHAT_LIST_LIMIT], viewer=user)


async def get_chat(services: Services, user: User, chat_id: object) -> dict[str, Any]:
    chat, _ = await access_member(chat_id, user)
    return await chat_payload(services, chat, viewer=user)


async def do_update_chat(
    services: Services,
    *,
    acting_user: User,
    chat_id: object,
    title: str | None = None,
    muted: bool | None = None,
) -> Chat:
    """Rename a group (its admins) and/or set the requester's own mute flag (any member)."""
    chat, member = await access_member(chat_id, acting_user)
    if title is not None:
        check_admin(chat, member)
        chat.title = check_title(title)
        await chat.save(update_fields=["title"])
    if muted is not None and muted != member.muted:
        member.muted = muted
        await member.save(update_fields=["muted"])
    if title is not None:
        await _announce(services, ev.CHAT_UPDATED, chat.id, await get_member_ids(chat.id))
    return chat


async def do_add_member(
    services: Services, *, acting_user: User, chat_id: object, user_id: object
) -> Chat:
    """An admin adds someone to a group (someone already in it: nothing changes)."""
    chat, member = await access_member(chat_id, acting_user)
    check_admin(chat, member)
    user = await access_other_user(user_id)
    existing = await ChatMember.get_or_none(chat_id=chat.id, user_id=user.id)
    if existing is not None and existing.left_at is None:
        return chat
    if len(await get_member_ids(chat.id)) >= MAX_GROUP_MEMBERS:
        raise ValidationError(field="userId", reason=f"at most {MAX_GROUP_MEMBERS} members")
    if existing is None:
        try:
            await ChatMember.create(chat=chat, user=user, role=ChatRole.MEMBER)
        except IntegrityError:
            return chat  # added by someone else at the same time
    else:
        existing.left_at = None
        existing.role = ChatRole.MEMBER
        await existing.save(update_fields=["left_at", "role"])
    await _announce(services, ev.CHAT_UPDATED, chat.id, await get_member_ids(chat.id))
    return chat


async def do_remove_member(
    services: Services, *, acting_user: User, chat_id: object, user_id: object
) -> None:
    """Remove someone from a group (admins), or leave it (anyone, ``user_id`` = oneself). A
    group whose last admin leaves gets its longest-standing member as admin."""
    chat, member = await access_member(chat_id, acting_user)
    if chat.kind != ChatKind.GROUP:
        raise Forbidden(GROUPS_ONLY)
    if user_id != acting_user.id:
        check_admin(chat, member)
        target = await get_active_member(chat.id, user_id) if isinstance(user_id, int) else None
        if target is None:
            raise NotFound(N_("This person is not in the chat."))
    else:
        target = member
    target.left_at = now()
    await target.save(update_fields=["left_at"])
    remaining = await ChatMember.filter(chat_id=chat.id, left_at=None).order_by("joined_at", "id")
    if remaining and not any(m.role == ChatRole.ADMIN for m in remaining):
        heir = remaining[0]
        heir.role = ChatRole.ADMIN
        await heir.save(update_fields=["role"])
    await _announce(services, ev.CHAT_REMOVED, chat.id, [target.user_id])
    await _announce(services, ev.CHAT_UPDATED, chat.id, [m.user_id for m in remaining])
