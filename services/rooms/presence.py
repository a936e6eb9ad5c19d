"""Who is in which room right now: connections per user, their round-trip times, the grace period.

Presence lives in the ephemeral store (memory, or Redis shared by every process) as one JSON
document per room, changed under a short store lock:
``{"users": {"<userId>": {"conns": {"<connId>": {"rtt": ms|null, "proc": "<processId>"}},
"away": ms|null}}}``.
A user counts once however many connections they have. When the last one drops, the user
stays present for ``member_grace_seconds``; if nobody reconnects by then, they leave the room
(:func:`services.rooms.membership.do_leave_room`, which publishes ``participant:left`` and
starts the host's grace). Nothing here touches the database except that final leave.

Processes die without cleaning up (kill -9, OOM): each connection records the process holding
it (``services.scheduler.process_id``), each process keeps a heartbeat key alive
(``presence_heartbeat_seconds``, expiring after ``presence_heartbeat_ttl_seconds``) and an
index of the rooms it has connections in, and every heartbeat sweeps the processes whose
heartbeat expired: their connections count as dropped, through the same grace path as a
disconnect (:func:`do_sweep_dead_processes`). The grace timers a dead process held are
restarted by the sweeper as well (member grace from ``away``, host grace from ``left_at``).

Redis restarted empty (or was unreachable for a while): the heartbeat notices (its own
heartbeat key is gone, or the previous beat failed) and publishes :data:`STATE_RESTORED` on the
bus; the hub answers by putting this process's live connections back
(:func:`do_restore_connections`) and the rooms' playback clocks from their durable copy
(:func:`services.rooms.playback.do_restore_clock`), and re-sends each room's clock to its
sockets here. Every process does so for its own sockets, so the room documents fill up again.

Keys carry the room's random code as well as its id, so state left in a shared Redis by another
database (a test run, a reset) can never be mistaken for this room's.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import secrets
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from models.rooms import Room, RoomMember
from models.users import User
from services.accounts.users import user_payload
from services.core.context import Services
from services.core.errors import N_, Conflict
from services.core.events import Event
from services.core.scheduler import Scheduler, alive_key
from services.core.state import STORE_ERRORS
from services.rooms.access import get_active_member, room_scope
from services.rooms.chat import remember_sender
from services.rooms.membership import do_join_room, do_leave_room, do_resume_host_grace, get_members
from services.rooms.payloads import member_payload

log = logging.getLogger(__name__)

#: A room's presence lock expires after this long (a holder that died)
LOCK_TTL = 5.0
#: and a caller waits this long for it before answering "the room is busy". A burst of joins
#: (a link posted in a big group) queues on one room while the event loops are busy with the
#: joins themselves: 3 s turned some of 5,000 joins on two processes into errors.
LOCK_WAIT = 10.0
#: Polling the lock backs off from the first to the last delay (a spinning caller is a Redis
#: round trip each time).
LOCK_POLL = (0.005, 0.05)
#: A backstop: presence documents (and the process indexes) expire this long after their last
#: change, whatever happened; crashed processes are swept much sooner (heartbeats, below).
PRESENCE_TTL = 24 * 3600.0
MAX_RTT_MS = 10_000.0
#: The set of process ids that hold (or held) connections, and per process its rooms' keys.
PROCESSES_KEY = "presence-processes"
HEARTBEAT_JOB = "presence-heartbeat"
#: Published (unscoped, in this process) when the store came back from an outage or restarted
#: empty; payload ``{"emptied": bool}``. The hub restores this process's connections.
STATE_RESTORED = "state:restored"


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
    delay, longest = LOCK_POLL
    while not await services.state.set_if_absent(lock, token, ttl=LOCK_TTL):
        if time.monotonic() > deadline:
            raise Conflict(N_("The room is busy. Try again."), field="room")
        await asyncio.sleep(delay * random.uniform(0.5, 1.5))
        delay = min(longest, delay * 2)
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


def _alive_key(process_id: str) -> str:
    return alive_key(process_id)


def _rooms_key(process_id: str) -> str:
    return f"presence-rooms:{process_id}"


def _conn(rtt: float | None, process_id: str) -> dict[str, Any]:
    return {"rtt": rtt, "proc": process_id}


def _conn_rtt(conn: Any) -> float | None:
    # Documents written before connections named their process held the bare RTT.
    return conn.get("rtt") if isinstance(conn, dict) else conn


def _conn_process(conn: Any) -> str | None:
    return conn.get("proc") if isinstance(conn, dict) else None


async def _track_room(services: Services, room: RoomRef) -> None:
    """Index the room under this process, so whoever outlives it can sweep the room."""
    process_id = services.scheduler.process_id
    await services.state.set_add(PROCESSES_KEY, process_id, ttl=PRESENCE_TTL)
    await services.state.set_add(_rooms_key(process_id), room_key(room), ttl=PRESENCE_TTL)


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
        entry["conns"][conn_id] = _conn(rtt, services.scheduler.process_id)
        entry["away"] = None
        await _write(services, room, doc)
    await _track_room(services, room)
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


def schedule_member_away(
    services: Services, room: RoomRef, user_id: int, *, delay: float | None = None
) -> None:
    """Leave the room for the user after the member grace (or ``delay`` s) unless they are back."""
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
        _away_job(room, user_id),
        services.settings.member_grace_seconds if delay is None else max(0.0, delay),
        leave_if_still_away,
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
    await services.state.set_remove(_rooms_key(services.scheduler.process_id), room_key(room))
    for user_id in doc["users"]:
        services.scheduler.cancel(_away_job(room, int(user_id)))
    return [conn for entry in doc["users"].values() for conn in entry["conns"]]


async def do_set_rtt(services: Services, room: RoomRef, *, conn_id: str, rtt: float) -> None:
    async with state_lock(services, _key(room)):
        doc = await _read(services, room)
        for entry in doc["users"].values():
            if conn_id in entry["conns"]:
                old = entry["conns"][conn_id]
                entry["conns"][conn_id] = _conn(rtt, _conn_process(old) or "")
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
    rtts = [_conn_rtt(c) for e in doc["users"].values() for c in e["conns"].values()]
    return max((rtt for rtt in rtts if rtt is not None), default=0.0)


# --- processes that died without cleaning up ---------------------------------------------------


async def start_heartbeat(services: Services) -> None:
    """Beat once now, then every ``presence_heartbeat_seconds`` (each beat also sweeps)."""
    try:
        await do_heartbeat(services)
    except Exception:  # the store may come up later; the next beat retries
        log.exception("first presence heartbeat failed")
    services.scheduler.call_every(
        HEARTBEAT_JOB,
        services.settings.presence_heartbeat_seconds,
        lambda: do_heartbeat(services),
    )


async def stop_heartbeat(services: Services) -> None:
    """A clean stop: stop beating and let the other processes take over at their next sweep
    (the grace timers this process held die with its scheduler)."""
    services.scheduler.cancel(HEARTBEAT_JOB)
    try:
        await services.state.delete(_alive_key(services.scheduler.process_id))
    except Exception:  # the heartbeat will expire on its own
        log.warning("could not remove the presence heartbeat", exc_info=True)


@dataclass
class _Beats:
    """What this process's heartbeats saw: one beat went through, the last one failed."""

    beaten: bool = False
    failed: bool = False


_beats: weakref.WeakKeyDictionary[Scheduler, _Beats] = weakref.WeakKeyDictionary()


async def do_heartbeat(services: Services) -> None:
    """Say this process is alive, then sweep the processes that stopped saying so.

    A beat that finds its own heartbeat key gone (it outlives the beat interval) means the store
    lost its data (Redis restarted empty); a beat after a failed one means it was away. Either
    way :data:`STATE_RESTORED` is published so this process puts its live state back."""
    process_id = services.scheduler.process_id
    ttl = services.settings.presence_heartbeat_ttl_seconds
    beats = _beats.setdefault(services.scheduler, _Beats())
    try:
        previous = await services.state.get(_alive_key(process_id))
        await services.state.set(_alive_key(process_id), "1", ttl=ttl)
        await services.state.set_add(PROCESSES_KEY, process_id, ttl=PRESENCE_TTL)
    except STORE_ERRORS as exc:
        if not beats.failed:
            log.warning("presence heartbeat: the store is unavailable (%s)", type(exc).__name__)
        beats.failed = True
        return
    emptied = beats.beaten and previous is None
    came_back = beats.failed
    beats.beaten, beats.failed = True, False
    if emptied or came_back:
        log.warning(
            "the ephemeral store is back (%s); restoring this process's presence and clocks",
            "restarted empty" if emptied else "after an outage",
        )
        await services.events.publish(Event(STATE_RESTORED, {"emptied": emptied}))
    await do_sweep_dead_processes(services)


async def do_restore_connections(
    services: Services, room: RoomRef, conns: dict[int, dict[str, float | None]]
) -> list[int]:
    """Put this process's live connections of a room back (``{userId: {connId: rtt}}``) after
    the store lost them; connections already there are kept. Only active members of an open
    room count (a socket's session still names rooms its user left or was kicked from, and
    closed rooms). Returns the users kept (nobody else is told: their clients never saw them
    leave); none when the room closed."""
    active = set(
        await RoomMember.filter(
            room_id=room.id,
            room__closed_at=None,
            user_id__in=list(conns),
            left_at=None,
            banned_at=None,
        ).values_list("user_id", flat=True)
    )
    conns = {user_id: c for user_id, c in conns.items() if user_id in active}
    if not conns:
        return []
    process_id = services.scheduler.process_id
    async with state_lock(services, _key(room)):
        doc = await _read(services, room)
        for user_id, user_conns in conns.items():
            entry = doc["users"].get(str(user_id))
            if entry is None:
                entry = doc["users"][str(user_id)] = {"conns": {}, "away": None}
            for conn_id, rtt in user_conns.items():
                if conn_id not in entry["conns"]:
                    entry["conns"][conn_id] = _conn(rtt, process_id)
            entry["away"] = None
        await _write(services, room, doc)
    for user_id in conns:
        services.scheduler.cancel(_away_job(room, user_id))
    await _track_room(services, room)
    return list(conns)


async def do_sweep_dead_processes(services: Services) -> list[str]:
    """Treat the connections of every process whose heartbeat expired as dropped; return the
    swept process ids. Safe to run on several processes at once: each room changes under its
    lock, and the grace timers re-check before anyone leaves."""
    me = services.scheduler.process_id
    swept = []
    for process_id in await services.state.set_members(PROCESSES_KEY):
        if process_id == me or await services.state.get(_alive_key(process_id)) is not None:
            continue
        for key in await services.state.set_members(_rooms_key(process_id)):
            room_id, _, code = key.partition(":")
            if room_id.isdigit() and code:
                await _sweep_room(services, _Ref(int(room_id), code), process_id)
        await services.state.delete(_rooms_key(process_id))
        await services.state.set_remove(PROCESSES_KEY, process_id)
        log.info("swept the presence of dead process %s", process_id)
        swept.append(process_id)
    return swept


async def _sweep_room(services: Services, room: RoomRef, dead: str) -> None:
    """Drop the dead process's connections in one room and (re)start the grace timers of
    everyone left without a connection; they ran on the dead process, if anywhere."""
    away: list[tuple[int, float]] = []
    async with state_lock(services, _key(room)):
        doc = await _read(services, room)
        for user_id, entry in doc["users"].items():
            for conn_id in [c for c, v in entry["conns"].items() if _conn_process(v) == dead]:
                del entry["conns"][conn_id]
            if not entry["conns"]:
                entry["away"] = entry.get("away") or now_ms()
                away.append((int(user_id), entry["away"]))
        if doc["users"]:
            await _write(services, room, doc)
    if away:
        await _track_room(services, room)  # this process holds those timers now
    grace = services.settings.member_grace_seconds
    for user_id, since in away:
        delay = grace - (now_ms() - since) / 1000.0
        schedule_member_away(services, room, user_id, delay=delay)
    try:
        await do_resume_host_grace(services, room_id=room.id, code=room.code)
    except Exception:  # e.g. the database is away; presence is still swept
        log.exception("could not resume the host grace of room %s", room.id)


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
    await remember_sender(services, room, acting_user, member)
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
