"""The wire shapes of rooms and members (docs/rooms-protocol.md)."""

from __future__ import annotations

from typing import Any

from tortoise.functions import Count

from models.rooms import Role, Room, RoomMember
from models.users import User
from services.accounts.users import user_payload
from services.rooms.access import permissions_payload


async def room_payload(room: Room, *, viewer: User | None = None) -> dict[str, Any]:
    """The wire shape of a room. The invite code is shown only to its members."""
    [data] = await room_payloads([room], viewer=viewer)
    return data


async def room_payloads(rooms: list[Room], *, viewer: User | None = None) -> list[dict[str, Any]]:
    """:func:`room_payload` of many rooms in three queries however many rooms there are
    (hosts, member counts, the viewer's memberships), for the lists. What a room shows of its
    media (``currentKind``, ``currentTitle``) lives on the room row itself."""
    if not rooms:
        return []
    ids = [room.id for room in rooms]
    hosts = {u.id: u for u in await User.filter(id__in={room.host_id for room in rooms})}
    counts = dict(
        await RoomMember.filter(room_id__in=ids, left_at=None, banned_at=None)
        .annotate(members=Count("id"))
        .group_by("room_id")
        .values_list("room_id", "members")
    )
    roles: dict[int, Role] = {}
    if viewer is not None:
        roles = dict(
            await RoomMember.filter(
                room_id__in=ids, user_id=viewer.id, left_at=None, banned_at=None
            ).values_list("room_id", "role")
        )
    payloads = []
    for room in rooms:
        room.host = hosts[room.host_id]
        data: dict[str, Any] = {
            "id": room.id,
            "code": room.code,
            "title": room.title,
            "host": user_payload(room.host),
            "visibility": room.visibility.value,
            "controlMode": room.control_mode.value,
            "slowModeSeconds": room.slow_mode_seconds,
            "currentKind": room.current_kind.value if room.current_kind else None,
            "currentTitle": room.current_title,
            "watchCount": room.watch_count,
            "memberCount": counts.get(room.id, 0),
            "boundChat": room.chat_id is not None,
            "createdAt": room.created_at.isoformat(),
            "closedAt": room.closed_at.isoformat() if room.closed_at else None,
            "permissions": permissions_payload(room),
        }
        if viewer is not None:
            role = roles.get(room.id)
            data["myRole"] = Role(role).value if role is not None else None
            if role is not None:
                data["inviteCode"] = room.invite_code
        payloads.append(data)
    return payloads


def member_payload(member: RoomMember, user: User) -> dict[str, Any]:
    return {"user": user_payload(user), "role": member.role.value}


