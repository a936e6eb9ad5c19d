"""Moderation and settings: kicks (for good), moderators, handing the room over, slow mode,
title, visibility and control mode."""

from __future__ import annotations

from typing import Any

from tortoise.transactions import in_transaction

from models.rooms import ControlMode, Role, Room, RoomMember, Visibility
from models.users import User
from services.core.context import Services
from services.core.errors import N_, Forbidden, NotFound, ValidationError
from services.core.events import Event
from services.rooms.access import (
    Action,
    access_member,
    check_choice,
    check_id,
    check_permission,
    now,
    outranks,
    permissions_payload,
    room_scope,
)
from services.rooms.membership import check_title

MAX_SLOW_MODE = 3600


async def do_kick(services: Services, *, room: Room, acting_user: User, target_id: int) -> None:
    """Remove someone for good: they cannot rejoin this room."""
    member = await access_member(room, acting_user)
    check_permission(room, member, Action.KICK)
    check_id(target_id, field="userId")
    target = await RoomMember.get_or_none(room_id=room.id, user_id=target_id)
    if target is None or target.banned_at is not None:
        raise NotFound(N_("This person is not in the room."))
    if not outranks(room, member, target_id, target.role):
        raise Forbidden(N_("You cannot remove this person."))
    was_present = target.left_at is None
    target.banned_at = now()
    target.left_at = target.left_at or target.banned_at
    await target.save(update_fields=["banned_at", "left_at"])
    await services.events.publish(
        Event("room:kicked", {"roomId": room.id, "userId": target_id}, scope=f"user:{target_id}")
    )
    if was_present:
        await services.events.publish(
            Event(
                "participant:left",
                {"roomId": room.id, "userId": target_id, "kicked": True},
                scope=room_scope(room.id),
            )
        )
    target_user = await User.get(id=target_id)
    await services.events.publish(Event("member:kicked", {"room": room, "user": target_user}))



async def do_set_role(
    services: Services, *, room: Room, acting_user: User, target_id: int, moderator: bool
) -> RoomMember:
    member = await access_member(room, acting_user)
    check_permission(room, member, Action.MODERATORS)
    check_id(target_id, field="userId")
    target = await RoomMember.get_or_none(
        room_id=room.id, user_id=target_id, left_at=None, banned_at=None
    )
    if target is None:
        raise NotFound(N_("This person is not in the room."))
    if target.role == Role.HOST:
        raise ValidationError(field="userId", reason="the host's role cannot change")
    target.role = Role.MODERATOR if moderator else Role.MEMBER
    await target.save(update_fields=["role"])
    await _publish_role(services, room, target_id, target.role)
    return target


async def do_handover(services: Services, *, room: Room, acting_user: User, target_id: int) -> Room:
    member = await access_member(room, acting_user)
    check_permission(room, member, Action.HANDOVER)
    check_id(target_id, field="userId")
    if target_id == acting_user.id:
        raise ValidationError(field="userId", reason="you are the host already")
    target = await RoomMember.get_or_none(
        room_id=room.id, user_id=target_id, left_at=None, banned_at=None
    )
    if target is None:
        raise NotFound(N_("This person is not in the room."))
    async with in_transaction():
        member.role = Role.MODERATOR
        await member.save(update_fields=["role"])
        target.role = Role.HOST
        await target.save(update_fields=["role"])
        room.host = await User.get(id=target_id)
        await room.save(update_fields=["host_id"])
    services.scheduler.cancel(f"host-away:{room.id}")
    await _publish_role(services, room, acting_user.id, Role.MODERATOR)
    await _publish_role(services, room, target_id, Role.HOST)
    return room


async def _publish_role(services: Services, room: Room, user_id: int, role: Role) -> None:
    await services.events.publish(
        Event(
            "participant:role",
            {"roomId": room.id, "userId": user_id, "role": role.value},
            scope=room_scope(room.id),
        )
    )



def check_slow_mode(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SLOW_MODE:
        raise ValidationError(field="slowModeSeconds", reason=f"0-{MAX_SLOW_MODE}")
    return value


async def do_update_settings(
    services: Services,
    *,
    room: Room,
    acting_user: User,
    title: str | None = None,
    visibility: Visibility | str | None = None,
    control_mode: ControlMode | str | None = None,
    slow_mode_seconds: int | None = None,
) -> Room:
    """Change settings: slow mode by hosts and moderators; title, visibility and control mode by
    the host. Everything is checked before anything changes."""
    member = await access_member(room, acting_user)
    if title is not None or visibility is not None or control_mode is not None:
        check_permission(room, member, Action.SETTINGS)
    if slow_mode_seconds is not None:
        check_permission(room, member, Action.SLOW_MODE)
    values: dict[str, Any] = {}
    if title is not None:
        values["title"] = check_title(title)
    if visibility is not None:
        values["visibility"] = check_choice(Visibility, visibility, field="visibility")
    if control_mode is not None:
        values["control_mode"] = check_choice(ControlMode, control_mode, field="controlMode")
    if slow_mode_seconds is not None:
        values["slow_mode_seconds"] = check_slow_mode(slow_mode_seconds)
    if not values:
        return room
    for name, value in values.items():
        setattr(room, name, value)
    await room.save(update_fields=list(values))
    await services.events.publish(
        Event(
            "room:updated",
            {
                "roomId": room.id,
                "title": room.title,
                "visibility": room.visibility.value,
                "controlMode": room.control_mode.value,
                "slowModeSeconds": room.slow_mode_seconds,
                "permissions": permissions_payload(room),
            },
            scope=room_scope(room.id),
        )
    )
    return room


