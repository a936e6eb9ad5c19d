"""Who may do what in a room: the permission table, the rank rule, and the look-ups that
resolve a room and the acting member (or raise the error every transport maps)."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from models.rooms import ControlMode, Role, Room, RoomInvite, RoomMember, Visibility
from models.users import User
from services.core.errors import N_, Forbidden, NotFound, ValidationError

#: Ids are 32-bit integers in both databases; larger numbers cannot name anything.
MAX_ID = 2**31 - 1
#: What can name a room: its id, or its code (never all digits, see ``membership._new_code``).
_REF_RE = re.compile(r"[A-Za-z0-9]{1,16}")


def now() -> datetime:
    return datetime.now(UTC)


def room_scope(room_id: int) -> str:
    return f"room:{room_id}"


# --- permissions -------------------------------------------------------------------------------


class Action(StrEnum):
    PLAYBACK = "playback"  # play, pause, seek, rate, load
    QUEUE = "queue"  # add, remove, reorder, next
    VOTE_SKIP = "vote_skip"
    CHAT = "chat"
    REACT = "react"
    INVITE = "invite"
    KICK = "kick"
    DELETE_MESSAGE = "delete_message"
    SLOW_MODE = "slow_mode"
    MODERATORS = "moderators"
    HANDOVER = "handover"
    SETTINGS = "settings"  # title, visibility, control mode
    CLOSE = "close"


_RANK = {Role.MEMBER: 0, Role.MODERATOR: 1, Role.HOST: 2}

#: The one permission table. ``None`` means "whoever controls playback" (by control mode).
PERMISSIONS: dict[Action, Role | None] = {
    Action.PLAYBACK: None,
    Action.QUEUE: None,
    Action.VOTE_SKIP: Role.MEMBER,
    Action.CHAT: Role.MEMBER,
    Action.REACT: Role.MEMBER,
    Action.INVITE: Role.MEMBER,
    Action.KICK: Role.MODERATOR,
    Action.DELETE_MESSAGE: Role.MODERATOR,
    Action.SLOW_MODE: Role.MODERATOR,
    Action.MODERATORS: Role.HOST,
    Action.HANDOVER: Role.HOST,
    Action.SETTINGS: Role.HOST,
    Action.CLOSE: Role.HOST,
}


def can(room: Room, role: Role, action: Action) -> bool:
    required = PERMISSIONS[action]
    if required is None:
        required = Role.MEMBER if room.control_mode == ControlMode.EVERYONE else Role.MODERATOR
    return _RANK[role] >= _RANK[required]


def can_role(role: Role, action: Action) -> bool:
    """:func:`can` for the actions that do not depend on the room's control mode."""
    required = PERMISSIONS[action]
    if required is None:
        raise ValueError(f"{action} depends on the room's control mode")
    return _RANK[role] >= _RANK[required]


def permissions_payload(room: Room) -> dict[str, dict[str, list[str]]]:
    """What each role may do in ``room`` now (the table resolved for its control mode) and whom
    it outranks: clients show controls from this instead of a copy of the rules."""
    return {
        role.value: {
            "actions": [action.value for action in Action if can(room, role, action)],
            "actsOn": [other.value for other in Role if _RANK[other] < _RANK[role]],
        }
        for role in (Role.HOST, Role.MODERATOR, Role.MEMBER)
    }


def check_permission(room: Room, member: RoomMember, action: Action) -> None:
    if not can(room, member.role, action):
        raise Forbidden()


def outranks(room: Room, member: RoomMember, target_id: int, target_role: Role) -> bool:
    """The rank rule of moderation (kicking, deleting someone's messages): nobody acts on the
    host; the others act only on people whose role is lower than their own."""
    return target_id != room.host_id and _RANK[target_role] < _RANK[member.role]


async def check_outranks(room: Room, member: RoomMember, target_id: int, *, message: str) -> None:
    """:func:`outranks` for someone whose membership is looked up (former members keep their
    role; someone never in the room counts as a member); :class:`Forbidden` with ``message``."""
    target = await RoomMember.get_or_none(room_id=room.id, user_id=target_id)
    if not outranks(room, member, target_id, target.role if target else Role.MEMBER):
        raise Forbidden(message)


def check_id(value: object, *, field: str) -> int:
    """A positive 32-bit id (not a bool), or :class:`ValidationError` naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise ValidationError(field=field, reason="must be an id")
    return value


async def get_room(room_id: int) -> Room | None:
    """The room with this id, open or closed, or None (for reactions to its events)."""
    return await Room.get_or_none(id=room_id)


async def access_room(room_ref: int | str, *, include_closed: bool = False) -> Room:
    """A room by numeric id or by code, or :class:`NotFound`."""
    room = None
    if isinstance(room_ref, int) and not isinstance(room_ref, bool):
        if 0 < room_ref <= MAX_ID:
            room = await Room.get_or_none(id=room_ref)
    elif isinstance(room_ref, str) and _REF_RE.fullmatch(room_ref):
        if not room_ref.isdigit():
            room = await Room.get_or_none(code=room_ref)
        elif 0 < int(room_ref) <= MAX_ID:
            room = await Room.get_or_none(id=int(room_ref))
    if room is None or (room.closed_at is not None and not include_closed):
        raise NotFound(N_("This room does not exist or has been closed."))
    return room


def invite_code_matches(room: Room, invite_code: object) -> bool:
    return (
        isinstance(invite_code, str)
        and invite_code.isascii()
        and secrets.compare_digest(invite_code.encode(), room.invite_code.encode())
    )


async def access_room_as_viewer(
    room_ref: int | str, *, viewer: User, invite_code: str | None = None
) -> Room:
    """A room its viewer may look at: any public room; a private one only for its members
    (present or past), invited people and holders of its invite code (never for people kicked
    from it)."""
    room = await access_room(room_ref)
    if room.visibility == Visibility.PUBLIC or viewer.id == room.host_id:
        return room
    membership = await RoomMember.get_or_none(room_id=room.id, user_id=viewer.id)
    if membership is not None and membership.banned_at is not None:
        raise Forbidden(N_("You were removed from this room."), reason="banned")
    if membership is not None:
        return room  # in it now, or was and may come back (see do_join_room)
    if invite_code_matches(room, invite_code):
        return room
    if await RoomInvite.exists(room_id=room.id, invitee_id=viewer.id):
        return room
    raise Forbidden(N_("This room is private. Ask for an invite."), reason="private")


async def access_room_to_share(room_ref: int | str, *, user: User) -> Room:
    """A room ``user`` may share (inline mode, ``WebApp.shareMessage``): any open public room;
    a private one only while they are in it, since its link carries the invite code."""
    room = await access_room(room_ref)
    if room.visibility == Visibility.PRIVATE:
        await access_member(room, user)
    return room


async def access_room_as_member(room_ref: int | str, *, user: User) -> Room:
    """A room the user is in now, for member-only reads (history, reactions)."""
    room = await access_room(room_ref)
    await access_member(room, user)
    return room


async def get_active_member(room: Room, user: User) -> RoomMember | None:
    return await RoomMember.get_or_none(
        room_id=room.id, user_id=user.id, left_at=None, banned_at=None
    )


async def access_member(room: Room, user: User) -> RoomMember:
    """The acting user's membership, or :class:`Forbidden` when they are not in the room."""
    member = await get_active_member(room, user)
    if member is None:
        raise Forbidden(N_("Join the room first."))
    return member


def check_choice(enum: type[StrEnum], value: object, *, field: str) -> Any:
    if isinstance(value, str):
        try:
            return enum(value)
        except ValueError:
            pass
    choices = ", ".join(member.value for member in enum)
    raise ValidationError(field=field, reason=f"one of {choices}")
