"""services.rooms.reactions: the allowed set, media time checks, the current item, the rate limit,
the burst event and the replay (list and histogram)."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import pytest

from composition import Server
from models.rooms import MediaItem, Reaction, Room
from models.users import User
from services.core.errors import Forbidden, MediaChanged, RateLimited, ValidationError
from services.core.events import Event
from services.rooms.membership import do_create_room, do_join_room
from services.rooms.moderation import do_kick
from services.rooms.queue import do_enqueue, do_load, do_queue_remove
from services.rooms.reactions import (
    ALLOWED_EMOJI,
    REACTION_RATE,
    do_react,
    get_reaction_histogram,
    get_reactions,
    reaction_payload,
)
from tests.conftest import Account, register
from tests.webapp.helpers import in_server

T = TypeVar("T")

REACTION_KEYS = {"id", "roomId", "mediaId", "emoji", "mediaTime", "user", "createdAt"}


@dataclass
class Cast:
    """Anna hosts a room, Boris is in it, Dora is not."""

    server: Server
    room: Room
    anna: User
    boris: User
    dora: User
    events: list[Event]

    async def run(self, coro: Awaitable[T]) -> T:
        return await self.server.run(coro)

    async def query(self, query: Callable[[], Awaitable[T]]) -> T:
        return await in_server(self.server, query)

    async def react(
        self, user: User, emoji: Any = "🔥", media_time: Any = 12.5, **extra: Any
    ) -> Reaction:
        return await self.run(
            do_react(
                self.server.services,
                room=self.room,
                acting_user=user,
                emoji=emoji,
                media_time=media_time,
                **extra,
            )
        )

    async def add_media(self, name: str, *, duration: float | None = 600.0) -> MediaItem:
        """Queue a link as the host (the first one is loaded at once) with a known duration."""
        item = await self.run(
            do_enqueue(
                self.server.services,
                room=self.room,
                acting_user=self.anna,
                url=f"https://example.com/{name}.mp4",
            )
        )
        await self.query(lambda: MediaItem.filter(id=item.id).update(duration=duration))
        item.duration = duration
        return item

    async def load(self, item: MediaItem) -> None:
        await self.run(
            do_load(self.server.services, room=self.room, acting_user=self.anna, media_id=item.id)
        )

    async def remove(self, item: MediaItem) -> None:
        await self.run(
            do_queue_remove(
                self.server.services, room=self.room, acting_user=self.anna, media_id=item.id
            )
        )

    def published(self) -> list[Event]:
        return [e for e in self.events if e.type == "reaction"]


@pytest.fixture
async def cast(server: Server, http: aiohttp.ClientSession, anna: Account, boris: Account) -> Cast:
    dora = await register(http, "dora")
    services = server.services
    assert services is not None

    async def setup() -> Cast:
        users = {u.id: u for u in await User.filter(id__in=[anna.id, boris.id, dora.id])}
        room = await do_create_room(services, acting_user=users[anna.id], title="Film night")
        await do_join_room(services, room=room, acting_user=users[boris.id])
        return Cast(server, room, users[anna.id], users[boris.id], users[dora.id], [])

    result = await server.run(setup())

    async def capture(event: Event) -> None:
        result.events.append(event)

    services.events.subscribe("*", capture)
    return result


async def test_reaction_is_stored_and_burst_to_the_room(cast: Cast) -> None:
    media = await cast.add_media("a")
    reaction = await cast.react(cast.boris, "😂", 42.25)
    row = await cast.query(lambda: Reaction.get(id=reaction.id))
    assert (row.room_id, row.media_id, row.user_id, row.emoji, row.media_time) == (
        cast.room.id,
        media.id,
        cast.boris.id,
        "😂",
        42.25,
    )
    [event] = cast.published()
    assert event.scope == f"room:{cast.room.id}"
    assert set(event.payload) == REACTION_KEYS
    assert event.payload["mediaId"] == media.id
    assert event.payload["emoji"] == "😂"
    assert event.payload["mediaTime"] == 42.25
    assert event.payload["user"]["id"] == cast.boris.id
    assert event.payload == reaction_payload(reaction, cast.boris)


async def test_every_allowed_emoji_and_a_bare_heart(cast: Cast) -> None:
    await cast.add_media("a")
    assert len(ALLOWED_EMOJI) == 12
    for emoji in ALLOWED_EMOJI[:10]:
        await cast.react(cast.boris, emoji)
    for emoji in ALLOWED_EMOJI[10:]:
        await cast.react(cast.anna, emoji)
    heart = await cast.react(cast.anna, "\u2764")  # without the variation selector
    assert heart.emoji == "❤️"


@pytest.mark.parametrize("emoji", ["💩", "👍👍", "", None, 1, "like", "❤️\ufe0f"])
async def test_other_emoji_are_refused(cast: Cast, emoji: Any) -> None:
    await cast.add_media("a")
    with pytest.raises(ValidationError) as info:
        await cast.react(cast.boris, emoji)
    assert info.value.data["field"] == "emoji"
    assert await cast.query(lambda: Reaction.all().count()) == 0
    assert cast.published() == []


@pytest.mark.parametrize("media_time", [-0.1, math.nan, math.inf, None, "12", True, 600.5])
async def test_bad_media_times_are_refused(cast: Cast, media_time: Any) -> None:
    await cast.add_media("a", duration=600.0)
    with pytest.raises(ValidationError) as info:
        await cast.react(cast.boris, media_time=media_time)
    assert info.value.data["field"] == "mediaTime"
    assert await cast.query(lambda: Reaction.all().count()) == 0


async def test_media_time_bounds(cast: Cast) -> None:
    await cast.add_media("a", duration=600.0)
    assert (await cast.react(cast.boris, media_time=0)).media_time == 0.0
    assert (await cast.react(cast.boris, media_time=600)).media_time == 600.0


async def test_unknown_duration_takes_any_time(cast: Cast) -> None:
    await cast.add_media("a", duration=None)
    assert (await cast.react(cast.boris, media_time=99999)).media_time == 99999.0


async def test_nothing_playing_is_refused(cast: Cast) -> None:
    with pytest.raises(ValidationError) as info:
        await cast.react(cast.boris)
    assert info.value.data["reason"] == "nothing is playing"
    item = await cast.add_media("only")
    await cast.react(cast.boris)
    await cast.remove(item)  # the room goes idle
    with pytest.raises(ValidationError):
        await cast.react(cast.boris)
    assert await cast.query(lambda: Reaction.all().count()) == 1


async def test_reaction_goes_to_the_item_loaded_now(cast: Cast) -> None:
    first = await cast.add_media("first")
    second = await cast.add_media("second")
    third = await cast.add_media("third")
    assert (await cast.react(cast.boris)).media_id == first.id  # the first link loads at once
    await cast.load(third)
    assert (await cast.react(cast.boris)).media_id == third.id
    await cast.load(second)
    assert (await cast.react(cast.boris)).media_id == second.id
    assert [e.payload["mediaId"] for e in cast.published()] == [first.id, third.id, second.id]


async def test_reaction_to_an_item_no_longer_on_screen_is_refused(cast: Cast) -> None:
    first = await cast.add_media("first")
    second = await cast.add_media("second")
    assert (await cast.react(cast.boris, media_id=first.id)).media_id == first.id
    await cast.load(second)  # the room moved on while Boris's reaction was on its way
    with pytest.raises(MediaChanged) as info:
        await cast.react(cast.boris, "😂", 590.0, media_id=first.id)
    assert info.value.code == "media_changed"
    assert info.value.http_status == 409
    assert info.value.to_dict()["details"] == {"field": "mediaId", "currentMediaId": second.id}
    assert (await cast.react(cast.boris, media_id=second.id)).media_id == second.id
    await cast.remove(second)  # nothing on screen: an item named is not there either
    with pytest.raises(MediaChanged) as info:
        await cast.react(cast.boris, media_id=second.id)
    assert info.value.data["currentMediaId"] is None
    for garbage in ("1", True, -1, 2**40):
        with pytest.raises(ValidationError) as bad:
            await cast.react(cast.boris, media_id=garbage)
        assert bad.value.data["field"] == "mediaId"
    assert [e.payload["mediaId"] for e in cast.published()] == [first.id, second.id]
    assert await cast.query(lambda: Reaction.all().count()) == 2


async def test_outsiders_and_kicked_members_cannot_react(cast: Cast) -> None:
    await cast.add_media("a")
    with pytest.raises(Forbidden):
        await cast.react(cast.dora)
    await cast.run(
        do_kick(
            cast.server.services, room=cast.room, acting_user=cast.anna, target_id=cast.boris.id
        )
    )
    with pytest.raises(Forbidden):
        await cast.react(cast.boris)
    assert await cast.query(lambda: Reaction.all().count()) == 0


async def test_reactions_are_rate_limited_per_person(cast: Cast) -> None:
    assert REACTION_RATE == "10/5second"
    await cast.add_media("a")
    for _ in range(10):
        await cast.react(cast.boris)
    with pytest.raises(RateLimited) as info:
        await cast.react(cast.boris)
    assert 1 <= info.value.retry_after <= 5
    await cast.react(cast.anna)
    assert await cast.query(lambda: Reaction.filter(user_id=cast.boris.id).count()) == 10


async def test_replay_by_media_time_within_the_span(cast: Cast) -> None:
    media = await cast.add_media("main")
    other = await cast.add_media("other")
    for emoji, at in [("🔥", 30.0), ("👍", 10.0), ("😂", 20.0), ("🎉", 40.0), ("👀", 9.99)]:
        await cast.react(cast.boris, emoji, at)
    await cast.load(other)
    await cast.react(cast.anna, "💯", 15.0)  # the other item: not in the replay

    replay = await cast.run(get_reactions(cast.room, media.id, 10, 30))
    assert [(r["emoji"], r["mediaTime"]) for r in replay] == [
        ("👍", 10.0),
        ("😂", 20.0),
        ("🔥", 30.0),
    ]
    assert all(set(r) == REACTION_KEYS for r in replay)
    assert replay[0]["user"]["id"] == cast.boris.id
    limited = await cast.run(get_reactions(cast.room, media.id, 0, 1000, limit=2))
    assert [r["mediaTime"] for r in limited] == [9.99, 10.0]
    assert await cast.run(get_reactions(cast.room, other.id, 0, 14.9)) == []


async def test_replay_keeps_to_its_room(cast: Cast) -> None:
    media = await cast.add_media("a")
    await cast.react(cast.boris, "🔥", 5)
    other = await cast.run(
        do_create_room(cast.server.services, acting_user=cast.dora, title="Elsewhere")
    )
    assert await cast.run(get_reactions(other, media.id, 0, 10)) == []


@pytest.mark.parametrize(
    ("args", "kwargs", "field"),
    [
        ((1, 20, 10), {}, "to"),
        ((1, -1, 10), {}, "from"),
        ((1, 0, math.inf), {}, "to"),
        (("1", 0, 10), {}, "mediaId"),
        ((1, 0, 10), {"limit": 0}, "limit"),
        ((1, 0, 10), {"limit": 5000}, "limit"),
    ],
)
async def test_replay_validates_its_arguments(
    cast: Cast, args: tuple[Any, ...], kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        await cast.run(get_reactions(cast.room, *args, **kwargs))
    assert info.value.data["field"] == field


async def test_histogram_counts_per_emoji_per_bucket(cast: Cast) -> None:
    media = await cast.add_media("a")
    for emoji, at in [("🔥", 1.2), ("🔥", 1.9), ("😂", 1.5), ("🔥", 3.0), ("👍", 7.0)]:
        await cast.react(cast.boris, emoji, at)
    assert await cast.run(get_reaction_histogram(cast.room, media.id, 0, 5)) == [
        {"t": 1.0, "counts": {"🔥": 2, "😂": 1}},
        {"t": 3.0, "counts": {"🔥": 1}},
    ]
    assert await cast.run(get_reaction_histogram(cast.room, media.id, 0, 10, bucket=5)) == [
        {"t": 0.0, "counts": {"🔥": 3, "😂": 1}},
        {"t": 5.0, "counts": {"👍": 1}},
    ]
    with pytest.raises(ValidationError):
        await cast.run(get_reaction_histogram(cast.room, media.id, 0, 10, bucket=0))
