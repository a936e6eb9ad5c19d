"""The media queue of a room: add, remove, reorder, skip, vote to skip, the end of an item.

The queue is durable (``MediaItem`` rows, ordered by ``position``): the item on screen is the
one loaded (``played_at`` set, ``removed_at`` not), so a restart keeps it; an item leaves the
queue (``removed_at``) when it is removed or when the room moves past it. Loading an item resets
the clock (:mod:`services.rooms.playback`) and publishes ``media:loaded`` (the chat announces
it).
"""

import json
from typing import Any

from tortoise.transactions import in_transaction

from models.rooms import MediaItem, Room, RoomMember
from models.users import User
from services.accounts.users import user_payload
from services.core.context import Services
from services.core.errors import N_, NotFound, ValidationError
from services.core.events import Event
from services.rooms.access import Action, access_member, can, check_permission, now, room_scope
from services.rooms.media import parse_media_url
from services.rooms.playback import (
    STATE_TTL,
    check_command_rate,
    clock_key,
    expected_position,
    get_current_item,
    get_lead_ms,
    loaded_item,
    next_state,
    publish_state,
    read_state,
    start_of,
    write_state,
)
from services.rooms.presence import (
    get_connected_user_ids,
    now_ms,
    room_key,
    state_lock,
)

MAX_QUEUE = 200
#: A viewer who may not control playback may still end an item once the clock is this close
#: (seconds) to its known duration; otherwise their "ended" report counts as a skip vote.
ENDED_SLACK = 3.0


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



async def _publish_queue(services: Services, room: Room) -> list[dict[str, Any]]:
    queue = await get_queue(room)
    await services.events.publish(
        Event("queue:updated", {"roomId": room.id, "queue": queue}, scope=room_scope(room.id))
    )
    return queue



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
    new = next_state(state, by, mediaId=item.id, status=status, position=start_of(item), rate=1.0)
    new["updatedAt"] = updated
    await write_state(services, room, new)
    return new


async def _announce_load(services: Services, room: Room, item: MediaItem) -> None:
    """A new item is on screen (the chat announces it)."""
    await services.events.publish(
        Event(
            "media:loaded",
            {"room": room, "item": item},
        )
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
    new = next_state(state, by, mediaId=None, status="idle", position=0.0, rate=1.0)
    await write_state(services, room, new)
    return new, None



# --- queue -------------------------------------------------------------------------------------


async def do_enqueue(services: Services, *, room: Room, acting_user: User, url: str) -> MediaItem:
    """Add a link to the queue. With nothing loaded it is loaded at once, paused at its start."""
    member = await access_member(room, acting_user)
    check_permission(room, member, Action.QUEUE)
    await check_command_rate(services, room, acting_user)
    return await _enqueue(services, room=room, acting_user=acting_user, url=url)


async def do_enqueue_created_link(
    services: Services, *, room: Room, host: User, url: str
) -> MediaItem:
    """The link a room was created with becomes its first item (``room:created``). Not a
    command: creating the room was limited already (membership's ``ROOM_CREATE_RATE``)."""
    return await _enqueue(services, room=room, acting_user=host, url=url)


async def _enqueue(services: Services, *, room: Room, acting_user: User, url: str) -> MediaItem:
    if not isinstance(url, str):
        raise ValidationError(field="url", reason="required")
    source = parse_media_url(url)
    queued = await MediaItem.filter(room_id=room.id, removed_at=None, played_at=None).count()
    if queued >= MAX_QUEUE:
        raise ValidationError(field="url", reason=f"the queue holds at most {MAX_QUEUE} items")
    async with state_lock(services, clock_key(room)):
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
        state = await read_state(services, room)
        loaded = None
        if state["mediaId"] is None:
            loaded = await _load(services, room, state, item, by=acting_user, play=False)
            await publish_state(services, room, loaded, None)
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
    await check_command_rate(services, room, acting_user)
    item = await _access_item(room, media_id)
    loaded = None
    async with state_lock(services, clock_key(room)):
        state = await read_state(services, room)
        current = await get_current_item(room)
        if current is not None and current.id == item.id:
            new, loaded = await _advance(
                services, room, state, by=acting_user, play=state["status"] == "playing"
            )
            await publish_state(services, room, new, None)
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
    await check_command_rate(services, room, acting_user)
    if not isinstance(media_ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in media_ids
    ):
        raise ValidationError(field="mediaIds", reason="must be a list of integers")
    async with state_lock(services, clock_key(room)):
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
    await check_command_rate(services, room, acting_user)
    async with state_lock(services, clock_key(room)):
        state = await read_state(services, room)
        new, loaded = await _advance(
            services, room, state, by=acting_user, play=state["status"] == "playing"
        )
        await publish_state(services, room, new, origin)
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
        check_permission(room, member, Action.QUEUE)
    await check_command_rate(services, room, acting_user)  # one command, even with a new link
    if url is not None:
        item = await _enqueue(services, room=room, acting_user=acting_user, url=url)
    else:
        item = await _access_item(room, media_id)
    async with state_lock(services, clock_key(room)):
        state = await read_state(services, room)
        new = state
        if state["mediaId"] != item.id or url is None:
            new = await _load(services, room, state, item, by=acting_user, play=False)
            await publish_state(services, room, new, origin)
    if new is not state:
        await _announce_load(services, room, item)
        await _publish_queue(services, room)
    return new



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
    await check_command_rate(services, room, acting_user)
    loaded = None
    async with state_lock(services, clock_key(room)):
        state = await read_state(services, room)
        await loaded_item(room, state)
        media_id = state["mediaId"]
        votes, needed, skipped = await _vote(services, room, state, acting_user)
        if skipped:
            new, loaded = await _advance(
                services, room, state, by=None, play=state["status"] == "playing"
            )
            await publish_state(services, room, new, None)
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
    async with state_lock(services, clock_key(room)):
        state = await read_state(services, room)
        if state["mediaId"] != media_id or state["status"] == "idle":
            return False  # already moved on
        item = await loaded_item(room, state)
        trusted = can(room, member.role, Action.PLAYBACK)
        if not trusted and item.duration is not None:
            trusted = expected_position(state, now_ms()) >= item.duration - ENDED_SLACK
        if not trusted and can(room, member.role, Action.VOTE_SKIP):
            trusted = (await _vote(services, room, state, acting_user))[2]
        if trusted:
            new, loaded = await _advance(services, room, state, by=None, play=True)
            await publish_state(services, room, new, None)
            advanced = True
    if advanced:
        if loaded is not None:
            await _announce_load(services, room, loaded)
        await _publish_queue(services, room)
    return advanced
