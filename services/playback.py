"""The media queue and the playback clock of a room.

The queue is durable (``MediaItem`` rows, ordered by ``position``): the item on screen is the
one loaded (``played_at`` set, ``removed_at`` not), so a restart keeps it; an item leaves the
queue (``removed_at``) when it is removed or when the room moves past it. The clock
``{mediaId, status, position, rate, updatedAt, seq, by}`` is ephemeral (``services.state``, one
JSON document per room) and never written to the database: a command reads the room and the
member, changes the clock under a short store lock and publishes ``room:state``.

Play and seek-while-playing are scheduled a little in the future (``updatedAt = now + lead``,
lead = 2 x the highest round trip among the room's connections, 300-1500 ms) so every viewer
starts together. Events caused by one connection's command carry that connection as ``origin``
(:class:`OriginEvent`) so the transport can skip it: the ack already carries the new state.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from models.rooms import MediaItem, Room, RoomMember
from models.users import User
from services.context import Services
from services.errors import N_, NotFound, ValidationError
from services.events import Event
from services.media import parse_media_url
from services.presence import (
    get_connected_user_ids,
    get_max_rtt,
    now_ms,
    room_key,
    state_lock,
)
from services.rooms import Action, access_member, can, check_permission, now, room_scope
from services.users import user_payload

RATE_MIN, RATE_MAX = 0.25, 2.0
LEAD_MIN_MS, LEAD_MAX_MS = 300.0, 1500.0
MAX_QUEUE = 200
#: A viewer who may not control playback may still end an item once the clock is this close
#: (seconds) to its known duration; otherwise their "ended" report counts as a skip vote.
ENDED_SLACK = 3.0
STATE_TTL = 7 * 24 * 3600.0


@dataclass(frozen=True)
class OriginEvent(Event):
    """An event caused by one connection's command; transports skip ``origin`` (it has the ack)."""

    origin: str | None = None


# --- payloads and reads ------------------------------------------------------------------------


def media_payload(item: MediaItem, added_by: User | None) -> dict[str, Any]:
    return {
        "id": item.id,
        "url": item.url,
        "kind": item.kind.value,
        "sourceId": item.source_id,
        "title": item.title,
        "duration": item.duration,
        "isLive": item.is_live,
        "position": item.position,
        "addedBy": user_payload(added_by) if added_by is not None else None,
    }


async def get_current_item(room: Room) -> MediaItem | None:
    """The item on screen: the one loaded last and not removed (durable across restarts)."""
    return (
        await MediaItem.filter(room_id=room.id, removed_at=None, played_at__isnull=False)
        .order_by("-played_at", "-id")
        .first()
    )


async def _upcoming(room: Room, current: MediaItem | None) -> list[MediaItem]:
    items = MediaItem.filter(room_id=room.id, removed_at=None, played_at=None)
    if current is not None:
        items = items.exclude(id=current.id)
    return list(await items.order_by("position", "id"))


async def get_queue(room: Room) -> list[dict[str, Any]]:
    """The current item (if any) followed by the items still to play, in order."""
    current = await get_current_item(room)
    items = ([current] if current is not None else []) + await _upcoming(room, current)
    user_ids = {i.added_by_id for i in items if i.added_by_id is not None}
    users = {u.id: u for u in await User.filter(id__in=user_ids)} if user_ids else {}
    return [media_payload(i, users.get(i.added_by_id)) for i in items]


def _key(room: Room) -> str:
    return f"playback:{room_key(room)}"


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


def _start_of(item: MediaItem) -> float:
    try:
        start = parse_media_url(item.url).start
    except ValidationError:
        return 0.0
    if item.is_live or (item.duration is not None and start > item.duration):
        return 0.0
    return start


async def _read_state(services: Services, room: Room) -> dict[str, Any]:
    raw = await services.state.get(_key(room))
    if raw:
        return json.loads(raw)
    # Lost (a restart with the memory store): the durable current item, paused at its start.
    current = await get_current_item(room)
    state = _idle()
    if current is not None:
        state.update(mediaId=current.id, status="paused", position=_start_of(current))
    return state


async def _write_state(services: Services, room: Room, state: dict[str, Any]) -> None:
    await services.state.set(_key(room), json.dumps(state), ttl=STATE_TTL)


async def get_playback(services: Services, room: Room) -> dict[str, Any]:
    """The room's playback clock (the ``Playback`` wire shape)."""
    return await _read_state(services, room)


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


async def _loaded_item(room: Room, state: dict[str, Any]) -> MediaItem:
    item = None
    if state["mediaId"] is not None:
        item = await MediaItem.get_or_none(id=state["mediaId"], room_id=room.id, removed_at=None)
    if item is None:
        raise ValidationError(N_("Nothing is loaded."), field="mediaId", reason="nothing loaded")
    return item


# --- events ------------------------------------------------------------------------------------


async def _publish_state(
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


async def _publish_queue(services: Services, room: Room) -> list[dict[str, Any]]:
    queue = await get_queue(room)
    await services.events.publish(
        Event("queue:updated", {"roomId": room.id, "queue": queue}, scope=room_scope(room.id))
    )
    return queue


def _next_state(state: dict[str, Any], by: User | None, **changes: Any) -> dict[str, Any]:
    new = {**state, "updatedAt": now_ms(), **changes}
    new["seq"] = int(state["seq"]) + 1
    new["by"] = by.id if by is not None else None
    return new


async def _load(
    services: Services,
    room: Room,
    state: dict[str, Any],
    item: MediaItem,
    *,
    by: User | None,
    play: bool,
) -> dict[str, Any]:
    """Put ``item`` on screen (under the room's lock). Writes the durable marks; no publishing
    of the state itself."""
    at = now_ms()
    async with in_transaction():
        # What was on screen before leaves the queue; the loaded item becomes the current one.
        await (
            MediaItem.filter(room_id=room.id, removed_at=None, played_at__isnull=False)
            .exclude(id=item.id)
            .update(removed_at=now())
        )
        await MediaItem.filter(id=item.id).update(played_at=now())
        await Room.filter(id=room.id).update(current_kind=item.kind, current_title=item.title)
    room.current_kind, room.current_title = item.kind, item.title
    await services.state.delete(_votes_key(room, item.id))
    status = "playing" if play else "paused"
    updated = at + await get_lead_ms(services, room) if play else at
    new = _next_state(state, by, mediaId=item.id, status=status, position=_start_of(item), rate=1.0)
    new["updatedAt"] = updated
    await _write_state(services, room, new)
    return new


async def _announce_load(services: Services, room: Room, item: MediaItem) -> None:
    from services.chat import do_system_message

    await do_system_message(
        services,
        room,
        "now_playing",
        data={"mediaId": item.id, "title": item.title, "kind": item.kind.value, "url": item.url},
    )


async def _advance(
    services: Services, room: Room, state: dict[str, Any], *, by: User | None, play: bool
) -> tuple[dict[str, Any], MediaItem | None]:
    """Move to the next queued item, or go idle when there is none (under the room's lock)."""
    current = await get_current_item(room)
    upcoming = await _upcoming(room, current)
    if upcoming:
        item = upcoming[0]
        return await _load(services, room, state, item, by=by, play=play), item
    if current is not None:
        # Played through with nothing after it: it leaves the queue.
        await MediaItem.filter(id=current.id).update(removed_at=now())
    await Room.filter(id=room.id).update(current_kind=None, current_title=None)
    room.current_kind = room.current_title = None
    new = _next_state(state, by, mediaId=None, status="idle", position=0.0, rate=1.0)
    await _write_state(services, room, new)
    return new, None


# --- queue -------------------------------------------------------------------------------------


async def do_enqueue(services: Services, *, room: Room, acting_user: User, url: str) -> MediaItem:
    """Add a link to the queue. With nothing loaded it is loaded at once, paused at its start."""
    member = await access_member(room, acting_user)
    check_permission(room, member, Action.QUEUE)
    if not isinstance(url, str):
        raise ValidationError(field="url", reason="required")
    source = parse_media_url(url)
    queued = await MediaItem.filter(room_id=room.id, removed_at=None, played_at=None).count()
    if queued >= MAX_QUEUE:
        raise ValidationError(field="url", reason=f"the queue holds at most {MAX_QUEUE} items")
    async with state_lock(services, _key(room)):
        last = await MediaItem.filter(room_id=room.id).order_by("-position").first()
        top = last.position if last is not None else 0
        item = await MediaItem.create(
            room=room,
            url=source.url,
            kind=source.kind,
            source_id=source.source_id,
            title=source.title,
            is_live=source.is_live,
            position=top + 1,
            added_by=acting_user,
        )
        state = await _read_state(services, room)
        loaded = None
        if state["mediaId"] is None:
            loaded = await _load(services, room, state, item, by=acting_user, play=False)
            await _publish_state(services, room, loaded, None)
    if loaded is not None:
        await _announce_load(services, room, item)
    await _publish_queue(services, room)
    return item


async def _access_item(room: Room, media_id: Any) -> MediaItem:
    if isinstance(media_id, bool) or not isinstance(media_id, int):
        raise ValidationError(field="mediaId", reason="must be an integer")
    item = await MediaItem.get_or_none(id=media_id, room_id=room.id, removed_at=None)
    if item is None:
        raise NotFound(N_("This item is not in the queue."))
    return item


async def do_queue_remove(
    services: Services, *, room: Room, acting_user: User, media_id: int, origin: str | None = None
) -> list[dict[str, Any]]:
    """Remove an item; removing the one on screen moves on to the next (keeping play/pause)."""
    member = await access_member(room, acting_user)
    check_permission(room, member, Action.QUEUE)
    item = await _access_item(room, media_id)
    loaded = None
    async with state_lock(services, _key(room)):
        state = await _read_state(services, room)
        current = await get_current_item(room)
        if current is not None and current.id == item.id:
            new, loaded = await _advance(
                services, room, state, by=acting_user, play=state["status"] == "playing"
            )
            await _publish_state(services, room, new, None)
        await MediaItem.filter(id=item.id).update(removed_at=now())
    if loaded is not None:
        await _announce_load(services, room, loaded)
    return await _publish_queue(services, room)


async def do_queue_reorder(
    services: Services, *, room: Room, acting_user: User, media_ids: Any
) -> list[dict[str, Any]]:
    """Reorder the items still to play. ``media_ids`` lists all of them (the item on screen may
    be included; its place is ignored)."""
    member = await access_member(room, acting_user)
    check_permission(room, member, Action.QUEUE)
    if not isinstance(media_ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in media_ids
    ):
        raise ValidationError(field="mediaIds", reason="must be a list of integers")
    async with state_lock(services, _key(room)):
        current = await get_current_item(room)
        upcoming = await _upcoming(room, current)
        wanted = [i for i in media_ids if current is None or i != current.id]
        if len(wanted) != len(set(wanted)) or set(wanted) != {i.id for i in upcoming}:
            raise ValidationError(field="mediaIds", reason="must list every queued item once")
        slots = sorted(i.position for i in upcoming)
        async with in_transaction():
            for media_id, slot in zip(wanted, slots, strict=True):
                await MediaItem.filter(id=media_id).update(position=slot)
    return await _publish_queue(services, room)


async def do_queue_next(
    services: Services, *, room: Room, acting_user: User, origin: str | None = None
) -> dict[str, Any]:
    """Skip to the next item (idle when there is none); a playing room keeps playing."""
    member = await access_member(room, acting_user)
    check_permission(room, member, Action.QUEUE)
    async with state_lock(services, _key(room)):
        state = await _read_state(services, room)
        new, loaded = await _advance(
            services, room, state, by=acting_user, play=state["status"] == "playing"
        )
        await _publish_state(services, room, new, origin)
    if loaded is not None:
        await _announce_load(services, room, loaded)
    await _publish_queue(services, room)
    return new


# --- playback commands -------------------------------------------------------------------------


async def do_load(
    services: Services,
    *,
    room: Room,
    acting_user: User,
    media_id: int | None = None,
    url: str | None = None,
    origin: str | None = None,
) -> dict[str, Any]:
    """Show a queued item (or a new link, added to the queue first), paused at its start."""
    member = await access_member(room, acting_user)
    check_permission(room, member, Action.PLAYBACK)
    if url is not None:
        item = await do_enqueue(services, room=room, acting_user=acting_user, url=url)
    else:
        item = await _access_item(room, media_id)
    async with state_lock(services, _key(room)):
        state = await _read_state(services, room)
        new = state
        if state["mediaId"] != item.id or url is None:
            new = await _load(services, room, state, item, by=acting_user, play=False)
            await _publish_state(services, room, new, origin)
    if new is not state:
        await _announce_load(services, room, item)
        await _publish_queue(services, room)
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
    async with state_lock(services, _key(room)):
        state = await _read_state(services, room)
        item = await _loaded_item(room, state)
        changes = await change(state, item)
        new = _next_state(state, acting_user, **changes)
        await _write_state(services, room, new)
        await _publish_state(services, room, new, origin)
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


# --- end of item, vote skip --------------------------------------------------------------------


def _votes_key(room: Room, media_id: int) -> str:
    return f"votes:{room_key(room)}:{media_id}"


async def _vote(
    services: Services, room: Room, state: dict[str, Any], user: User
) -> tuple[int, int, bool]:
    """Record ``user``'s skip vote for the loaded item (under the room's lock)."""
    key = _votes_key(room, state["mediaId"])
    raw = await services.state.get(key)
    votes = set(json.loads(raw)) if raw else set()
    votes.add(user.id)
    await services.state.set(key, json.dumps(sorted(votes)), ttl=STATE_TTL)
    present = await get_connected_user_ids(services, room)
    counted = len(votes & present) if present else len(votes)
    needed = max(len(present), 1) // 2 + 1
    return counted, needed, counted >= needed


async def do_vote_skip(services: Services, *, room: Room, acting_user: User) -> dict[str, Any]:
    """Vote to skip the item on screen; it is skipped when more than half of the connected
    participants voted. Votes count per item."""
    member = await access_member(room, acting_user)
    check_permission(room, member, Action.VOTE_SKIP)
    loaded = None
    async with state_lock(services, _key(room)):
        state = await _read_state(services, room)
        await _loaded_item(room, state)
        media_id = state["mediaId"]
        votes, needed, skipped = await _vote(services, room, state, acting_user)
        if skipped:
            new, loaded = await _advance(
                services, room, state, by=None, play=state["status"] == "playing"
            )
            await _publish_state(services, room, new, None)
    await services.events.publish(
        Event(
            "queue:votes",
            {"roomId": room.id, "mediaId": media_id, "votes": votes, "needed": needed},
            scope=room_scope(room.id),
        )
    )
    if skipped:
        if loaded is not None:
            await _announce_load(services, room, loaded)
        await _publish_queue(services, room)
    return {"votes": votes, "needed": needed, "skipped": skipped}


async def do_media_ended(
    services: Services, *, room: Room, acting_user: User, media_id: int
) -> bool:
    """A viewer's player reached the end of ``media_id``. The room moves on exactly once per
    item however many viewers report it. Reports from viewers who may not control playback
    count only near the item's known end; otherwise they count as skip votes."""
    member: RoomMember = await access_member(room, acting_user)
    if isinstance(media_id, bool) or not isinstance(media_id, int):
        raise ValidationError(field="mediaId", reason="must be an integer")
    advanced = False
    loaded = None
    async with state_lock(services, _key(room)):
        state = await _read_state(services, room)
        if state["mediaId"] != media_id or state["status"] == "idle":
            return False  # already moved on
        item = await _loaded_item(room, state)
        trusted = can(room, member.role, Action.PLAYBACK)
        if not trusted and item.duration is not None:
            trusted = expected_position(state, now_ms()) >= item.duration - ENDED_SLACK
        if not trusted and can(room, member.role, Action.VOTE_SKIP):
            trusted = (await _vote(services, room, state, acting_user))[2]
        if trusted:
            new, loaded = await _advance(services, room, state, by=None, play=True)
            await _publish_state(services, room, new, None)
            advanced = True
    if advanced:
        if loaded is not None:
            await _announce_load(services, room, loaded)
        await _publish_queue(services, room)
    return advanced


__all__ = [
    "OriginEvent",
    "do_enqueue",
    "do_load",
    "do_media_ended",
    "do_pause",
    "do_play",
    "do_queue_next",
    "do_queue_remove",
    "do_queue_reorder",
    "do_seek",
    "do_set_rate",
    "do_vote_skip",
    "get_playback",
    "get_queue",
    "media_payload",
]
