"""``Services.channel_checker``: is a Telegram user in the subscriber channel (getChatMember)?

``services.rooms.membership.is_subscriber`` calls it and caches the answer; errors (the bot is
not an admin of the channel, Telegram unreachable) propagate there and count as "not a subscriber".
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.enums import ChatMemberStatus
from aiogram.types import ChatMemberRestricted

from services.core.context import ChannelChecker

MEMBER_STATUSES = frozenset(
    {ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}
)


def channel_chat_id(channel: str) -> int | str:
    """``SUBSCRIBER_CHANNEL_ID`` is ``-100...`` or ``@name``; Telegram takes either."""
    channel = channel.strip()
    try:
        return int(channel)
    except ValueError:
        return channel


def make_channel_checker(bot: Bot, channel: str) -> ChannelChecker:
    chat_id = channel_chat_id(channel)

    async def is_channel_member(telegram_id: int) -> bool:
        member = await bot.get_chat_member(chat_id=chat_id, user_id=telegram_id)
        if isinstance(member, ChatMemberRestricted):
            return member.is_member  # restricted but still in the channel
        return member.status in MEMBER_STATUSES

    return is_channel_member
