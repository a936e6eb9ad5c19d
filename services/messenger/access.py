"""Who may do what in the messenger, and the look-ups that resolve a chat and the acting member
(or raise the error every transport maps): members only, admins for group management, and
people one shares a chat with for presence and keys."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tortoise.expressions import Subquery

from models.messenger import Chat, ChatKind, ChatMember, ChatRole, Message
from models.users import User
from services.core import text
from services.core.contract import MAX_ID
from services.core.errors import N_, Forbidden, NotFound, ValidationError

TITLE_MAX = 100
_SPACES = re.compile(r"\s+")

CHAT_NOT_FOUND = N_("Chat not found.")
NOT_A_MEMBER = N_("You are not a member of this chat.")
USER_NOT_FOUND = N_("User not found.")
USER_BLOCKED = N_("This user is blocked.")
ADMINS_ONLY = N_("Only the chat's admins can do that.")
GROUPS_ONLY = N_("Only group chats can do that.")


def now() -> datetime:
    return datetime.now(UTC)


def check_id(value: object, *, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise ValidationError(field=field, reason="must be a positive 32-bit integer")
    return value


def check_title(title: object) -> str:
    """A group's title: visible text, whitespace collapsed, 1-100 characters."""
    value = _SPACES.sub(" ", text.check(title, text.TITLE, field="title")).strip()
    if not value:
        raise ValidationError(N_("The title is empty."), field="title", reason="required")
    if len(value) > TITLE_MAX:
        raise ValidationError(field="title", reason=f"at most {TITLE_MAX} characters")
    return value


async def access_chat(chat_id: object) -> Chat:
    check_id(chat_id, field="chatId")
    chat = await Chat.get_or_none(id=chat_id)
    if chat is None:
        raise NotFound(CHAT_NOT_FOUND)
    return chat


async def get_active_member(chat_id: int, user_id: int) -> ChatMember | None:
    return await ChatMember.get_or_none(chat_id=chat_id, user_id=user_id, left_at=None)


async def access_member(chat_id: object, user: User) -> tuple[Chat, ChatMember]:
    """The chat and the acting user's membership of it; ``forbidden`` for non-members."""
    chat = await access_chat(chat_id)
    member = await get_active_member(chat.id, user.id)
    if member is None:
        raise Forbidden(NOT_A_MEMBER)
    return chat, member


async def access_message(message_id: object, user: User) -> tuple[Message, Chat, ChatMember]:
    """A message of a chat the acting user is a member of."""
    check_id(message_id, field="messageId")
    message = await Message.get_or_none(id=message_id)
    if message is None:
        raise NotFound(N_("Message not found."))
    chat, member = await access_member(message.chat_id, user)
    return message, chat, member


def check_admin(chat: Chat, member: ChatMember) -> None:
    if chat.kind != ChatKind.GROUP:
        raise Forbidden(GROUPS_ONLY)
    if member.role != ChatRole.ADMIN:
        raise Forbidden(ADMINS_ONLY)


async def access_other_user(user_id: object, *, field: str = "userId") -> User:
    """Someone to start a chat with or add to one: they exist and are not blocked."""
    check_id(user_id, field=field)
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise NotFound(USER_NOT_FOUND)
    if user.banned_at is not None:
        raise Forbidden(USER_BLOCKED)
    return user


async def get_member_ids(chat_id: int) -> list[int]:
    """The chat's current members."""
    return list(
        await ChatMember.filter(chat_id=chat_id, left_at=None).values_list("user_id", flat=True)
    )


async def get_contact_ids(user_id: int) -> list[int]:
    """Everyone who shares a chat with ``user_id`` now (not themself)."""
    mine = ChatMember.filter(user_id=user_id, left_at=None).values("chat_id")
    return list(
        await ChatMember.filter(chat_id__in=Subquery(mine), left_at=None)
        .exclude(user_id=user_id)
        .distinct()
        .values_list("user_id", flat=True)
    )


async def shares_chat(user_id: int, other_id: int) -> bool:
    if user_id == other_id:
        return True
    mine = ChatMember.filter(user_id=user_id, left_at=None).values("chat_id")
    return await ChatMember.filter(
        chat_id__in=Subquery(mine), user_id=other_id, left_at=None
    ).exists()
