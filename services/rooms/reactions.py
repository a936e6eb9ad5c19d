"""Emoji reactions over the video: a burst for everyone watching now, and a replay later.

Each reaction is stored with the media item and the second of it it was sent at, so whoever
watches the same item later sees the reactions at the same moments.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from models.rooms import MediaItem, Reaction, Room
from models.users import User
from services.accounts.users import user_payload
from services.core.context import Services
from services.core.errors import N_, MediaChanged, ValidationError
from services.core.events import Event
from services.rooms.access import Action, access_member, check_id, check_permission, room_scope
from services.rooms.playback import get_playback

#: The reactions clients may send, in picker order.
ALLOWED_EMOJI = ("👍", "❤️", "😂", "😮", "😢", "🔥", "👏", "🎉", "😍", "🤔", "👀", "💯")
VARIATION_SELECTOR = "\ufe0f"
#: Per user and room: bursts are the point, floods are not.
REACTION_RATE = "10/5second"
REPLAY_LIMIT = 500
MAX_REPLAY_LIMIT = 2000
#: The histogram reads at most this many rows; longer spans should be asked for in pieces.
HISTOGRAM_ROW_LIMIT = 20000


def reaction_payload(reaction: Reaction, user: User) -> dict[str, Any]:
    return {
        "id": reaction.id,
        "roomId": reaction.room_id,
        "mediaId": reaction.media_id,
        "emoji": reaction.emoji,
        "mediaTime": reaction.media_time,
        "user": user_payload(user),
        "createdAt": reaction.created_at.isoformat(),
    }


def check_emoji(emoji: Any) -> str:
    """One of :data:`ALLOWED_EMOJI`; "❤" without the variation selector counts as "❤️"."""
    if isinstance(emoji, str):
        if emoji in ALLOWED_EMOJI:
            return emoji
        if emoji + VARIATION_SELECTOR in ALLOWED_EMOJI:
            return emoji + VARIATION_SELECTOR
    raise ValidationError(field="emoji", reason="not an allowed reaction")


def check_media_time(value: Any, *, field: str = "mediaTime") -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValidationError(field=field, reason="seconds ≥ 0")
    return float(value)


async def _current_media(services: Services, room: Room, expected: int | None) -> MediaItem:
    """The item loaded in the room's player now (whether playing or paused). When the client
    said which item it reacts to (``expected``) and that is not the one on screen any more,
    :class:`MediaChanged` (``details.currentMediaId``: the one on screen, or null)."""
    media_id = (await get_playback(services, room))["mediaId"]
    item = None
    if media_id is not None:
        item = await MediaItem.get_or_none(id=media_id, room_id=room.id, removed_at=None)
    if expected is not None and (item is None or item.id != expected):
        raise MediaChanged(field="mediaId", currentMediaId=item.id if item else None)
    if item is None:
        raise ValidationError(
            N_("Nothing is playing in this room."), field="mediaId", reason="nothing is playing"
        )
    return item


async def do_react(
    services: Services,
    *,
    room: Room,
    acting_user: User,
    emoji: Any,
    media_time: Any,
    media_id: Any = None,
) -> Reaction:
    """Store a reaction at ``media_time`` seconds of the current item and burst it to the room.
    ``media_id``, when given, is the item the client reacts to: if the room has moved on to
    another one since, the reaction is refused (:class:`MediaChanged`), never stored on it."""
    member = await access_member(room, acting_user)
    check_permission(room, member, Action.REACT)
    emoji = check_emoji(emoji)
    media_time = check_media_time(media_time)
    expected = None if media_id is None else check_id(media_id, field="mediaId")
    media = await _current_media(services, room, expected)
    if media.duration is not None and not media.is_live and media_time > media.duration:
        raise ValidationError(field="mediaTime", reason="past the end of the video")
    await services.limiter.hit(REACTION_RATE, "reaction", str(room.id), str(acting_user.id))
    reaction = await Reaction.create(
        room=room, media=media, user=acting_user, emoji=emoji, media_time=media_time
    )
    await services.events.publish(
        Event("reaction", reaction_payload(reaction, acting_user), scope=room_scope(room.id))
    )
    return reaction


def _check_span(start: Any, end: Any) -> tuple[float, float]:
    start = check_media_time(start, field="from")
    end = check_media_time(end, field="to")
    if end < start:
        raise ValidationError(field="to", reason="before from")
    return start, end


async def get_reactions(
    room: Room, media_id: int, start: float, end: float, limit: int = REPLAY_LIMIT
) -> list[dict[str, Any]]:
    """Reactions to ``media_id`` sent between ``start`` and ``end`` seconds (inclusive) of it,
    by media time, for the replay. Callers check membership (``access_member``) first."""
    check_id(media_id, field="mediaId")
    start, end = _check_span(start, end)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_REPLAY_LIMIT:
        raise ValidationError(field="limit", reason=f"1-{MAX_REPLAY_LIMIT}")
    reactions = (
        await Reaction.filter(
            room_id=room.id, media_id=media_id, media_time__gte=start, media_time__lte=end
        )
        .order_by("media_time", "id")
        .limit(limit)
        .prefetch_related("user")
    )
    return [reaction_payload(r, r.user) for r in reactions]


async def get_reaction_histogram(
    room: Room, media_id: int, start: float, end: float, *, bucket: float = 1.0
) -> list[dict[str, Any]]:
    """Counts per emoji per ``bucket`` seconds of media time, for a cheap replay or a heat strip:
    ``[{"t": bucket start, "counts": {emoji: n}}]`` by ``t``, empty buckets left out."""
    check_id(media_id, field="mediaId")
    start, end = _check_span(start, end)
    if isinstance(bucket, bool) or not isinstance(bucket, (int, float)) or not bucket >= 0.1:
        raise ValidationError(field="bucket", reason="at least 0.1 s")
    rows = (
        await Reaction.filter(
            room_id=room.id, media_id=media_id, media_time__gte=start, media_time__lte=end
        )
        .limit(HISTOGRAM_ROW_LIMIT)
        .values_list("media_time", "emoji")
    )
    buckets: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for media_time, emoji in rows:
        buckets[math.floor(media_time / bucket)][emoji] += 1
    return [
        {"t": round(index * bucket, 3), "counts": dict(counts)}
        for index, counts in sorted(buckets.items())
    ]
