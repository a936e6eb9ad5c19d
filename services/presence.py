"""Who is in which room right now: connections per user, their round-trip times, the grace period.

Presence lives in the ephemeral store (memory, or Redis shared by every process) as one JSON
document per room, changed under a short store lock:
``{"users": {"<userId>": {"conns": {"<connId>": rtt_ms|null}, "away": ms|null}}}``.
A user counts once however many connections they have. When the last one drops, the user
stays present for ``member_grace_seconds``; if nobody reconnects by then, they leave the room
(:func:`services.rooms.do_leave_room`, which publishes ``participant:left`` and starts the
host's grace). Nothing here touches the database except that final leave.

Keys carry the room's random code as well as its id, so state left in a shared Redis by another
database (a test run, a reset) can never be mistaken for this room's.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from models.rooms import Room, RoomMember
from models.users import User
from services.context import Services
from services.errors import N_, Conflict
from services.events import Event
from services.rooms import (
    do_join_room,
    do_leave_room,
    get_active_member,
    get_members,
    member_payload,
    room_scope,
)
from services.users import user_payload

LOCK_TTL = 5.0
LOCK_WAIT = 3.0
#: Presence documents outlive a crashed process for at most this long without any change.
PRESENCE_TTL = 24 * 3600.0
MAX_RTT_MS = 10_000.0


class RoomRef(Protocol):
    """A room as presence and playback need it: ``models.rooms.Room`` fits, so does a session."""

    @property
    def id(self) -> int: ...

    @property
    def code(self) -> str: ...


def room_key(room: RoomRef) -> str:
    return f"{room.id}:{room.code}"


def now_ms() -> float:
    return time.time() * 1000.0


@asynccontextmanager
async def state_lock(services: Services, key: str) -> AsyncIterator[None]:
    """A short mutual-exclusion lock in the ephemeral store (so across processes with Redis)."""
    lock, token = f"lock:{key}", secrets.token_hex(8)
    deadline = time.monotonic() + LOCK_WAIT
    while not await services.state.set_if_absent(lock, token, ttl=LOCK_TTL):
        if time.monotonic() > deadline:
            raise Conflict(N_("The room is busy. Try again."), field="room")
        await asyncio.sleep(0.005)
    try:
        yield
    finally:
        await services.state.release_if_owner(lock, token)


def _key(room: RoomRef) -> str:
    return f"presence:{room_key(room)}"


async def _read(services: Services, room: RoomRef) -> dict[str, Any]:
    raw = await services.state.get(_key(room))
    return json.loads(raw) if raw else {"users": {}}


async def _write(services: Services, room: RoomRef, doc: dict[str, Any]) -> None:
    if doc["users"]:
        await services.state.set(_key(room), json.dumps(doc), ttl=PRESENCE_TTL)
    else:
        await services.state.delete(_key(room))


def _away_job(room: RoomRef, user_id: int) -> str:
    return f"member-away:{room_key(room)}:{user_id}"


def check_rtt(rtt: Any) -> float | None:
    """A client-reported round trip in ms, or None when absent or nonsense."""
    if isinstance(rtt, bool) or not isinstance(rtt, (int, float)):
        return None
    if not 0 <= rtt <= MAX_RTT_MS:
        return None
    return float(rtt)


async def do_connect(
    services: Services, room: RoomRef, *, user_id: int, conn_id: str, rtt: float | None = None
) -> bool:
    """Add a connection of a user to a room. True when the user was not present before
    (neither connected nor inside the grace period): a new participant."""
    services.scheduler.cancel(_away_job(room, user_id))
    async with state_lock(services, _key(room)):
        doc = await _read(services, room)
        entry = doc["users"].get(str(user_id))
        became_present = entry is None
        if entry is None:
            entry = doc["users"][str(user_id)] = {"conns": {}, "away": None}
        entry["conns"][conn_id] = rtt
        entry["away"] = None
        await _write(services, room, doc)
    return became_present


async def do_disconnect(services: Services, room: RoomRef, *, user_id: int, conn_id: str) -> None:
    """Drop one connection. The user's last one starts the member grace period."""
    async with state_lock(services, _key(room)):
        doc = await _read(services, room)
        entry = doc["users"].get(str(user_id))
        if entry is None or conn_id not in entry["conns"]:
            return
        del entry["conns"][conn_id]
        last = not entry["conns"]
        if last:
            entry["away"] = now_ms()
        await _write(services, room, doc)
    if last:
        schedule_member_away(services, room, user_id)


def schedule_member_away(services: Services, room: RoomRef, user_id: int) -> None:
    room_id = room.id
    code = room.code

    async def leave_if_still_away() -> None:
        ref = _Ref(room_id, code)
        async with state_lock(services, _key(ref)):
            doc = await _read(services, ref)
            entry = doc["users"].get(str(user_id))
            if entry is None or entry["conns"]:
                return  # reconnected (perhaps through another process) or already gone
            del doc["users"][str(user_id)]
            await _write(services, ref, doc)
        fresh = await Room.get_or_none(id=room_id, code=code, closed_at=None)
        user = await User.get_or_none(id=user_id)
        if fresh is not None and user is not None:
            await do_leave_room(services, room=fresh, acting_user=user)

    services.scheduler.call_later(
        _away_job(room, user_id), services.settings.member_grace_seconds, leave_if_still_away
    )


class _Ref:
    __slots__ = ("code", "id")

    def __init__(self, room_id: int, code: str) -> None:
        self.id = room_id
        self.code = code


def ref(room_id: int, code: str) -> RoomRef:
    """A room reference without a database row (e.g. from a socket's session)."""
    return _Ref(room_id, code)


async def do_forget_user(services: Services, room: RoomRef, user_id: int) -> list[str]:
    """The user is out of the room (left, kicked): drop them; return their connection ids."""
    services.scheduler.cancel(_away_job(room, user_id))
    async with state_lock(services, _key(room)):
        doc = await _read(services, room)
        entry = doc["users"].pop(str(user_id), None)
        if entry is None:
            return []
        await _write(services, room, doc)
    return list(entry["conns"])


async def do_clear_room(services: Services, room: RoomRef) -> list[str]:
    """The room closed: forget everyone; return every connection id that was in it."""
    async with state_lock(services, _key(room)):
        doc = await _read(services, room)
        await services.state.delete(_key(room))
    for user_id in doc["users"]:
        services.scheduler.cancel(_away_job(room, int(user_id)))
    return [conn for entry in doc["users"].values() for conn in entry["conns"]]


async def do_set_rtt(services: Services, room: RoomRef, *, conn_id: str, rtt: float) -> None:
    async with state_lock(services, _key(room)):
        doc = await _read(services, room)
        for entry in doc["users"].values():
            if conn_id in entry["conns"]:
                entry["conns"][conn_id] = rtt
                await _write(services, room, doc)
                return


async def get_present_user_ids(services: Services, room: RoomRef) -> list[int]:
    """Participants: users with a connection or inside their grace period."""
    doc = await _read(services, room)
    return [int(user_id) for user_id in doc["users"]]


async def get_connected_user_ids(services: Services, room: RoomRef) -> set[int]:
    """Users with at least one live connection (vote-skip counts these)."""
    doc = await _read(services, room)
    return {int(user_id) for user_id, entry in doc["users"].items() if entry["conns"]}


async def get_max_rtt(services: Services, room: RoomRef) -> float:
    """The highest known round trip (ms) among the room's live connections, 0 if none known."""
    doc = await _read(services, room)
    rtts = [rtt for e in doc["users"].values() for rtt in e["conns"].values() if rtt is not None]
    return max(rtts, default=0.0)


# --- use cases the transports call -------------------------------------------------------------


async def do_enter_room(
    services: Services,
    *,
    room: Room,
    acting_user: User,
    conn_id: str,
    invite_code: str | None = None,
    rtt: float | None = None,
) -> RoomMember:
    """A connection enters a room: membership (:func:`do_join_room`) and presence. Others hear
    ``participant:joined`` once per person, not per connection or reconnection."""
    was_member = await get_active_member(room, acting_user) is not None
    member = await do_join_room(
        services, room=room, acting_user=acting_user, invite_code=invite_code
    )
    became_present = await do_connect(
        services, room, user_id=acting_user.id, conn_id=conn_id, rtt=rtt
    )
    if became_present and was_member:
        # A new member was announced by do_join_room; a returning one is announced here.
        await services.events.publish(
            Event(
                "participant:joined",
                {"roomId": room.id, **member_payload(member, acting_user)},
                scope=room_scope(room.id),
            )
        )
    return member


async def get_participants(services: Services, room: Room) -> list[dict[str, Any]]:
    """Members present now (connected or within their grace period): ``Participant`` shapes."""
    present = set(await get_present_user_ids(services, room))
    if not present:
        return []
    return [
        {"user": user_payload(user), "role": member.role.value, "online": True}
        for member, user in await get_members(room)
        if user.id in present
    ]
