"""The playback clock of a room: play, pause, seek and speed, scheduled so everyone starts
together.

The clock ``{mediaId, status, position, rate, updatedAt, seq, by}`` lives in the ephemeral store
(``services.state``, one JSON document per room) and, written through on every command, in the
room's row (``Room.playback``): a command reads the room and the member, changes the clock under
a short store lock, writes it to the database and then to the store, and publishes
``room:state``. When Redis lost it (restarted empty, or down) it is read back from the row, so
the position, status, media and ``seq`` survive and ``seq`` never goes backwards (clients drop a
state whose ``seq`` is lower than the one they have). After a restart of the app on the memory
store the current item is shown paused at its start, as before, with ``seq`` going on. Only
commands write the row (a few a minute per room); reads hit the database only when the store
has no copy.

Play and seek-while-playing are scheduled a little in the future (``updatedAt = now + lead``,
lead = 2 x the highest round trip among the room's connections, 300-1500 ms) so every viewer
starts together. Events caused by one connection's command carry that connection as ``origin``
(:class:`OriginEvent`) so the transport can skip it: the ack already carries the new state.
"""

import json
import math
from dataclasses import dataclass
from typing import Any

from models.rooms import MediaItem, Room
from models.users import User
from services.core.context import Services
from services.core.errors import N_, ValidationError
from services.core.events import Event
from services.core.state import STORE_ERRORS, warn_store_down
from services.rooms.access import Action, access_member, check_permission, room_scope
from services.rooms.media import parse_media_url
from services.rooms.presence import (
    get_max_rtt,
    now_ms,
    room_key,
    state_lock,
)

RATE_MIN, RATE_MAX = 0.25, 2.0
LEAD_MIN_MS, LEAD_MAX_MS = 300.0, 1500.0
STATE_TTL = 7 * 24 * 3600.0

# Abuse limits: every playback and queue command is fanned out to the whole room. Counted per
# member of a room (``PLAYBACK_RATE_MEMBER``) and per room (``PLAYBACK_RATE_ROOM``), here in the
# services, so REST, Socket.IO and the bot share them. A viewer's "ended" report is not counted
# (every player sends one at the end of an item).
MEMBER_COMMANDS_LIMITED = N_("You are controlling playback too fast. Try again in {retry_after} s.")
ROOM_COMMANDS_LIMITED = N_(
    "Too many playback commands in this room right now. Try again in {retry_after} s."
)


@dataclass(frozen=True)
class OriginEvent(Event):
    """An event caused by one connection's command; transports skip ``origin`` (it has the ack)."""

    origin: str | None = None



def clock_key(room: Room) -> str:
    return f"playback:{room_key(room)}"


async def check_command_rate(services: Services, room: Room, user: User) -> None:
    """Count one playback or queue command by ``user`` in ``room``; :class:`RateLimited` when
    over the member's or the room's limit. Call after the permission check: refused commands
    reach nobody and cost nothing."""
    settings, limiter, key = services.settings, services.limiter, room_key(room)
    await limiter.hit_many(
        settings.playback_rate_member,
        "playback",
        "member",
        key,
        str(user.id),
        message=MEMBER_COMMANDS_LIMITED,
    )
    await limiter.hit_many(
        settings.playback_rate_room, "playback", "room", key, message=ROOM_COMMANDS_LIMITED
    )


def _idle() -> dict[str, Any]:
    return {
        "mediaId": None,
        "status": "idle",
        "position": 0.0,
        "rate": 1.0,
        "updatedAt": now_ms(),
        "seq": 0,
        "by": None,
    }


async def get_current_item(room: Room) -> MediaItem | None:
    """The item on screen: the one loaded last and not removed (durable across restarts)."""
    return (
        await MediaItem.filter(room_id=room.id, removed_at=None, played_at__isnull=False)
        .order_by("-played_at", "-id")
        .first()
    )


def start_of(item: MediaItem) -> float:
    try:
        start = parse_media_url(item.url).start
    except ValidationError:
        return 0.0
    if item.is_live or (item.duration is not None and start > item.duration):
        return 0.0
    return start


async def read_state(services: Services, room: Room) -> dict[str, Any]:
    try:
        raw = await services.state.get(clock_key(room))
    except STORE_ERRORS as exc:
        warn_store_down("the playback clock", exc)
        raw = None
    if raw:
        return json.loads(raw)
    # Not in the store. Redis restarted empty or is down: the durable copy the last command
    # wrote, as it was (the processes and their viewers carried on).
    durable = await read_durable_state(room)
    if durable is not None and services.state.backend != "memory":
        return durable
    # The app restarted with the memory store (every viewer reconnects), or the room was never
    # commanded: the durable current item, paused at its start; ``seq`` still goes on.
    current = await get_current_item(room)
    state = _idle()
    if durable is not None:
        state["seq"] = int(durable["seq"])
    if current is not None:
        state.update(mediaId=current.id, status="paused", position=start_of(current))
    return state


_CLOCK_FIELDS = ("mediaId", "status", "position", "rate", "updatedAt", "seq")


async def read_durable_state(room: Room) -> dict[str, Any] | None:
    """The clock as the last command wrote it to the room's row (read fresh: ``room`` may have
    been loaded before another command)."""
    rows = await Room.filter(id=room.id).values_list("playback", flat=True)
    durable = rows[0] if rows else None
    if not isinstance(durable, dict) or any(k not in durable for k in _CLOCK_FIELDS):
        return None
    return {"by": None, **durable}


async def write_state(services: Services, room: Room, state: dict[str, Any]) -> None:
    """Write the clock through: the room's row first (what survives the store), then the store."""
    await Room.filter(id=room.id).update(playback=state)
    room.playback = state
    await services.state.set(clock_key(room), json.dumps(state), ttl=STATE_TTL)


async def do_restore_clock(services: Services, room: Room) -> dict[str, Any]:
    """The store lost its data (Redis restarted empty): put the room's durable clock back in it,
    unless a command wrote a newer one meanwhile, and return the clock."""
    async with state_lock(services, clock_key(room)):
        raw = await services.state.get(clock_key(room))
        if raw:
            return json.loads(raw)
        state = await read_state(services, room)
        await services.state.set(clock_key(room), json.dumps(state), ttl=STATE_TTL)
        return state


async def get_playback(services: Services, room: Room) -> dict[str, Any]:
    """The room's playback clock (the ``Playback`` wire shape)."""
    return await read_state(services, room)


def expected_position(state: dict[str, Any], at_ms: float) -> float:
    """Where the media is at server time ``at_ms`` (a scheduled start waits at ``position``)."""
    if state["status"] != "playing":
        return float(state["position"])
    elapsed = max(0.0, at_ms - state["updatedAt"]) / 1000.0
    return float(state["position"]) + elapsed * float(state["rate"])


async def get_lead_ms(services: Services, room: Room) -> float:
    """How far ahead to schedule a start so the slowest connection hears of it in time."""
    return min(LEAD_MAX_MS, max(LEAD_MIN_MS, 2 * await get_max_rtt(services, room)))


# --- validation --------------------------------------------------------------------------------


def check_position(value: Any, item: MediaItem) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValidationError(field="position", reason="must be a number of seconds")
    if value < 0:
        raise ValidationError(field="position", reason="must be ≥ 0")
    if item.duration is not None and value > item.duration:
        raise ValidationError(field="position", reason=f"must be ≤ {item.duration:g}")
    return float(value)


def check_rate(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValidationError(field="rate", reason="must be a number")
    if not RATE_MIN <= value <= RATE_MAX:
        raise ValidationError(field="rate", reason=f"must be {RATE_MIN:g}-{RATE_MAX:g}")
    return float(value)


def _check_not_live(item: MediaItem, field: str) -> None:
    if item.is_live:
        raise ValidationError(
            N_("A live stream can only be played or paused."), field=field, reason="live stream"
        )


async def loaded_item(room: Room, state: dict[str, Any]) -> MediaItem:
    item = None
    if state["mediaId"] is not None:
        item = await MediaItem.get_or_none(id=state["mediaId"], room_id=room.id, removed_at=None)
    if item is None:
        raise ValidationError(N_("Nothing is loaded."), field="mediaId", reason="nothing loaded")
    return item



async def publish_state(
    services: Services, room: Room, state: dict[str, Any], origin: str | None
) -> None:
    await services.events.publish(
        OriginEvent(
            "room:state",
            {"roomId": room.id, "playback": state},
            scope=room_scope(room.id),
            origin=origin,
        )
    )



def next_state(state: dict[str, Any], by: User | None, **changes: Any) -> dict[str, Any]:
    new = {**state, "updatedAt": now_ms(), **changes}
    new["seq"] = int(state["seq"]) + 1
    new["by"] = by.id if by is not None else None
    return new



async def _command(
    services: Services,
    room: Room,
    acting_user: User,
    origin: str | None,
    change: Any,
) -> dict[str, Any]:
    member = await access_member(room, acting_user)
    check_permission(room, member, Action.PLAYBACK)
    await check_command_rate(services, room, acting_user)
    async with state_lock(services, clock_key(room)):
        state = await read_state(services, room)
        item = await loaded_item(room, state)
        changes = await change(state, item)
        new = next_state(state, acting_user, **changes)
        await write_state(services, room, new)
        await publish_state(services, room, new, origin)
    return new


async def do_play(
    services: Services,
    *,
    room: Room,
    acting_user: User,
    position: float | None = None,
    origin: str | None = None,
) -> dict[str, Any]:
    """Play from ``position`` (default: where it is), starting ``lead`` ms from now."""

    async def change(state: dict[str, Any], item: MediaItem) -> dict[str, Any]:
        at = now_ms()
        if item.is_live:
            start = 0.0
        elif position is not None:
            start = check_position(position, item)
        else:
            start = expected_position(state, at)
        return {
            "status": "playing",
            "position": start,
            "updatedAt": at + await get_lead_ms(services, room),
        }

    return await _command(services, room, acting_user, origin, change)


async def do_pause(
    services: Services,
    *,
    room: Room,
    acting_user: User,
    position: float | None = None,
    origin: str | None = None,
) -> dict[str, Any]:
    """Pause at ``position`` (default: where the clock says it is now)."""

    async def change(state: dict[str, Any], item: MediaItem) -> dict[str, Any]:
        at = now_ms()
        if item.is_live:
            at_pos = 0.0
        elif position is not None:
            at_pos = check_position(position, item)
        else:
            at_pos = expected_position(state, at)
            if item.duration is not None:
                at_pos = min(at_pos, item.duration)
        return {"status": "paused", "position": at_pos, "updatedAt": at}

    return await _command(services, room, acting_user, origin, change)


async def do_seek(
    services: Services,
    *,
    room: Room,
    acting_user: User,
    position: float,
    origin: str | None = None,
) -> dict[str, Any]:
    """Jump to ``position``; while playing, everyone resumes from it ``lead`` ms from now."""

    async def change(state: dict[str, Any], item: MediaItem) -> dict[str, Any]:
        _check_not_live(item, "position")
        target = check_position(position, item)
        at = now_ms()
        if state["status"] == "playing":
            at += await get_lead_ms(services, room)
        return {"position": target, "updatedAt": at}

    return await _command(services, room, acting_user, origin, change)


async def do_set_rate(
    services: Services,
    *,
    room: Room,
    acting_user: User,
    rate: float,
    origin: str | None = None,
) -> dict[str, Any]:
    async def change(state: dict[str, Any], item: MediaItem) -> dict[str, Any]:
        _check_not_live(item, "rate")
        new_rate = check_rate(rate)
        at = now_ms()
        if state["status"] == "playing" and at < state["updatedAt"]:
            return {"rate": new_rate}  # a scheduled start stays scheduled
        return {"rate": new_rate, "position": expected_position(state, at), "updatedAt": at}

    return await _command(services, room, acting_user, origin, change)


