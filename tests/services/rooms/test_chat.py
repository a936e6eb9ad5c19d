"""services.rooms.chat: validation, slow mode, the flood limit, history, deletion, system messages.

Rooms and members are made through the real room actions; the bus is captured (zulip's
``capture_send_event_calls``) to check what each action publishes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import pytest

from composition import Server
from models.rooms import ChatMessage, Room
from models.users import User
from services.core.errors import Forbidden, NotFound, RateLimited, ValidationError
from services.core.events import Event
from services.rooms import chat
from services.rooms.chat import (
    FLOOD_RATE,
    MAX_MESSAGE_LENGTH,
    do_delete_message,
    do_send_message,
    do_system_message,
    get_recent_messages,
    message_payload,
)
from services.rooms.membership import do_create_room, do_join_room
from services.rooms.moderation import do_kick, do_set_role, do_update_settings
from tests.conftest import Account, register
from tests.webapp.helpers import in_server

T = TypeVar("T")

MESSAGE_KEYS = {"id", "roomId", "kind", "text", "data", "user", "createdAt", "deleted"}


@dataclass
class Cast:
    """A room hosted by Anna with Boris and Carl as members and Dora outside it."""

    server: Server
    room: Room
    anna: User
    boris: User
    carl: User
    dora: User
    events: list[Event]

    async def run(self, coro: Awaitable[T]) -> T:
        """Await a service call inside the server's ORM context."""
        return await self.server.run(coro)

    async def query(self, query: Callable[[], Awaitable[T]]) -> T:
        """Build and await an ORM query inside the server's ORM context."""
        return await in_server(self.server, query)

    async def send(self, user: User, text: Any) -> ChatMessage:
        return await self.run(
            do_send_message(self.server.services, room=self.room, acting_user=user, text=text)
        )

    async def delete(self, user: User, message_id: Any) -> None:
        await self.run(
            do_delete_message(
                self.server.services, room=self.room, acting_user=user, message_id=message_id
            )
        )

    async def set_slow_mode(self, seconds: int) -> None:
        self.room = await self.run(
            do_update_settings(
                self.server.services,
                room=self.room,
                acting_user=self.anna,
                slow_mode_seconds=seconds,
            )
        )

    def published(self, event_type: str) -> list[Event]:
        return [e for e in self.events if e.type == event_type]


@pytest.fixture
async def cast(server: Server, http: aiohttp.ClientSession, anna: Account, boris: Account) -> Cast:
    carl = await register(http, "carl")
    dora = await register(http, "dora")
    services = server.services
    assert services is not None

    async def setup() -> Cast:
        users = {u.id: u for u in await User.filter(id__in=[anna.id, boris.id, carl.id, dora.id])}
        room = await do_create_room(services, acting_user=users[anna.id], title="Film night")
        for account in (boris, carl):
            await do_join_room(services, room=room, acting_user=users[account.id])
        return Cast(
            server, room, users[anna.id], users[boris.id], users[carl.id], users[dora.id], []
        )

    result = await server.run(setup())

    async def capture(event: Event) -> None:
        result.events.append(event)

    services.events.subscribe("*", capture)
    return result


# --- sending -----------------------------------------------------------------------------------


async def test_send_persists_and_publishes_the_message_to_the_room(cast: Cast) -> None:
    message = await cast.send(cast.boris, "  Hello, everyone!  ")
    row = await cast.query(lambda: ChatMessage.get(id=message.id))
    assert (row.text, row.kind, row.user_id, row.room_id) == (
        "Hello, everyone!",
        "text",
        cast.boris.id,
        cast.room.id,
    )
    [event] = cast.published("chat:message")
    assert event.scope == f"room:{cast.room.id}"
    payload = event.payload
    assert set(payload) == MESSAGE_KEYS
    assert payload["id"] == message.id
    assert payload["roomId"] == cast.room.id
    assert payload["text"] == "Hello, everyone!"
    assert payload["kind"] == "text"
    assert payload["data"] is None
    assert payload["deleted"] is False
    assert payload["user"]["id"] == cast.boris.id
    assert payload["user"]["username"] == "boris"
    assert payload == message_payload(message, cast.boris)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "required"),
        ("  \n\t ", "required"),
        ("x" * (MAX_MESSAGE_LENGTH + 1), "too long"),
        ("bell\x07", "contains control characters"),
        ("nul\x00byte", "contains control characters"),
        ("del\x7f", "contains control characters"),
        ("c1\x85next line", "contains control characters"),
        (None, "must be a string"),
        (42, "must be a string"),
        (["hi"], "must be a string"),
    ],
)
async def test_invalid_text_is_refused_and_nothing_is_stored(
    cast: Cast, text: Any, reason: str
) -> None:
    with pytest.raises(ValidationError) as info:
        await cast.send(cast.boris, text)
    assert info.value.code == "validation_error"
    assert info.value.http_status == 400
    assert info.value.data["field"] == "text"
    assert info.value.data["reason"] == reason
    assert await cast.query(lambda: ChatMessage.filter(kind="text").count()) == 0
    assert cast.published("chat:message") == []


async def test_text_at_the_limit_with_newlines_and_emoji_is_kept(cast: Cast) -> None:
    long = "я" * MAX_MESSAGE_LENGTH
    assert (await cast.send(cast.boris, long)).text == long
    text = await cast.send(cast.boris, "line one\r\nline two\rthree\ttab 👨‍👩‍👧 ❤️")
    assert text.text == "line one\nline two\nthree\ttab 👨‍👩‍👧 ❤️"


async def test_outsider_cannot_send(cast: Cast) -> None:
    with pytest.raises(Forbidden):
        await cast.send(cast.dora, "let me in")
    assert await cast.query(lambda: ChatMessage.filter(kind="text").count()) == 0


async def test_kicked_member_cannot_send(cast: Cast) -> None:
    await cast.send(cast.boris, "before")
    await cast.run(
        do_kick(
            cast.server.services, room=cast.room, acting_user=cast.anna, target_id=cast.boris.id
        )
    )
    with pytest.raises(Forbidden):
        await cast.send(cast.boris, "after")
    texts = await cast.query(lambda: ChatMessage.filter(kind="text").values_list("text", flat=True))
    assert texts == ["before"]


async def test_member_who_left_cannot_send(cast: Cast) -> None:
    from services.rooms.membership import do_leave_room

    await cast.run(do_leave_room(cast.server.services, room=cast.room, acting_user=cast.carl))
    with pytest.raises(Forbidden):
        await cast.send(cast.carl, "hello?")


# --- slow mode and the flood limit -------------------------------------------------------------


async def test_slow_mode_limits_members_with_the_time_left(cast: Cast) -> None:
    await cast.set_slow_mode(30)
    await cast.send(cast.boris, "first")
    with pytest.raises(RateLimited) as info:
        await cast.send(cast.boris, "second")
    assert info.value.code == "rate_limited"
    assert info.value.http_status == 429
    assert info.value.data["seconds"] == 30
    assert 29 <= info.value.retry_after <= 30
    assert info.value.to_dict()["details"]["retry_after"] == info.value.retry_after
    # Per person: Carl is not held back by Boris's message.
    await cast.send(cast.carl, "mine")
    assert len(cast.published("chat:message")) == 2


async def test_slow_mode_retry_after_counts_down_and_then_lets_through(cast: Cast) -> None:
    await cast.set_slow_mode(2)
    await cast.send(cast.boris, "one")
    with pytest.raises(RateLimited) as first:
        await cast.send(cast.boris, "two")
    assert first.value.retry_after == 2
    await asyncio.sleep(1.1)
    with pytest.raises(RateLimited) as second:
        await cast.send(cast.boris, "two")
    assert second.value.retry_after == 1
    await asyncio.sleep(1.0)
    assert (await cast.send(cast.boris, "two")).text == "two"


async def test_host_and_moderators_skip_slow_mode(cast: Cast) -> None:
    await cast.set_slow_mode(60)
    await cast.run(
        do_set_role(
            cast.server.services,
            room=cast.room,
            acting_user=cast.anna,
            target_id=cast.carl.id,
            moderator=True,
        )
    )
    for text in ("a", "b", "c"):
        await cast.send(cast.anna, text)
        await cast.send(cast.carl, text)
    await cast.send(cast.boris, "a")
    with pytest.raises(RateLimited):
        await cast.send(cast.boris, "b")


async def test_flood_limit_allows_a_burst_of_five_then_limits(cast: Cast) -> None:
    assert FLOOD_RATE == "5/5second"
    for i in range(5):
        await cast.send(cast.anna, f"burst {i}")  # the host too: slow mode is off anyway
    with pytest.raises(RateLimited) as info:
        await cast.send(cast.anna, "one too many")
    assert 1 <= info.value.retry_after <= 5
    assert len(cast.published("chat:message")) == 5
    # Someone else's bucket is untouched.
    await cast.send(cast.boris, "still fine")


async def test_a_flooded_message_does_not_start_the_slow_mode_wait(cast: Cast) -> None:
    await cast.set_slow_mode(30)
    services = cast.server.services
    assert services is not None
    # Fill Boris's flood window directly, as five earlier messages would have.
    for _ in range(5):
        await services.limiter.hit(FLOOD_RATE, "chat", str(cast.room.id), str(cast.boris.id))
    with pytest.raises(RateLimited) as info:
        await cast.send(cast.boris, "flooded")
    assert "seconds" not in info.value.data  # the flood limit, not slow mode
    assert await services.state.get(f"slow:{cast.room.id}:{cast.boris.id}") is None


# --- history -----------------------------------------------------------------------------------


async def test_history_is_the_last_fifty_oldest_first_with_tombstones(cast: Cast) -> None:
    async def fill() -> list[int]:
        ids = []
        for i in range(55):
            row = await ChatMessage.create(room=cast.room, user=cast.boris, text=f"m{i}")
            ids.append(row.id)
        return ids

    await cast.query(lambda: ChatMessage.all().delete())  # the "joined" messages from the set-up
    ids = await cast.run(fill())
    await cast.delete(cast.anna, ids[-1])

    history = await cast.run(get_recent_messages(cast.room))
    assert [m["id"] for m in history] == ids[5:]
    assert [m["text"] for m in history[:-1]] == [f"m{i}" for i in range(5, 54)]
    tombstone = history[-1]
    assert set(tombstone) == MESSAGE_KEYS
    assert tombstone["deleted"] is True
    assert tombstone["text"] == ""
    assert tombstone["user"]["id"] == cast.boris.id

    older = await cast.run(get_recent_messages(cast.room, before=ids[5], limit=3))
    assert [m["text"] for m in older] == ["m2", "m3", "m4"]


async def test_history_keeps_to_its_room(cast: Cast) -> None:
    other = await cast.run(
        do_create_room(cast.server.services, acting_user=cast.dora, title="Elsewhere")
    )
    await cast.run(
        do_send_message(cast.server.services, room=other, acting_user=cast.dora, text="not here")
    )
    await cast.send(cast.boris, "here")
    texts = [m["text"] for m in await cast.run(get_recent_messages(cast.room))]
    assert "here" in texts
    assert "not here" not in texts


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"before": "x"}, "before")],
)
async def test_history_validates_paging(cast: Cast, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        await cast.run(get_recent_messages(cast.room, **kwargs))
    assert info.value.data["field"] == field


# --- deletion ----------------------------------------------------------------------------------


async def test_author_deletes_own_message(cast: Cast) -> None:
    message = await cast.send(cast.boris, "oops")
    await cast.delete(cast.boris, message.id)
    row = await cast.query(lambda: ChatMessage.get(id=message.id))
    assert row.deleted_at is not None
    assert row.deleted_by_id == cast.boris.id
    [event] = cast.published("chat:deleted")
    assert event.scope == f"room:{cast.room.id}"
    assert event.payload == {"roomId": cast.room.id, "messageId": message.id}


async def test_member_cannot_delete_someone_elses_message(cast: Cast) -> None:
    message = await cast.send(cast.boris, "mine")
    with pytest.raises(Forbidden):
        await cast.delete(cast.carl, message.id)
    assert (await cast.query(lambda: ChatMessage.get(id=message.id))).deleted_at is None
    assert cast.published("chat:deleted") == []


async def test_host_and_moderator_delete_any_message(cast: Cast) -> None:
    await cast.run(
        do_set_role(
            cast.server.services,
            room=cast.room,
            acting_user=cast.anna,
            target_id=cast.carl.id,
            moderator=True,
        )
    )
    first = await cast.send(cast.boris, "rude")
    second = await cast.send(cast.boris, "ruder")
    await cast.delete(cast.anna, first.id)
    await cast.delete(cast.carl, second.id)
    rows = await cast.query(lambda: ChatMessage.filter(id__in=[first.id, second.id]).order_by("id"))
    assert [r.deleted_by_id for r in rows] == [cast.anna.id, cast.carl.id]
    assert [e.payload["messageId"] for e in cast.published("chat:deleted")] == [
        first.id,
        second.id,
    ]


async def test_moderators_do_not_delete_the_hosts_or_other_moderators_messages(
    cast: Cast,
) -> None:
    for user in (cast.boris, cast.carl):
        await cast.run(
            do_set_role(
                cast.server.services,
                room=cast.room,
                acting_user=cast.anna,
                target_id=user.id,
                moderator=True,
            )
        )
    hosts = await cast.send(cast.anna, "house rules")
    peers = await cast.send(cast.boris, "a moderator's note")
    for message in (hosts, peers):
        with pytest.raises(Forbidden) as info:
            await cast.delete(cast.carl, message.id)
        assert info.value.message == "You cannot delete this person's messages."
    rows = await cast.query(lambda: ChatMessage.filter(id__in=[hosts.id, peers.id]))
    assert [r.deleted_at for r in rows] == [None, None]
    assert cast.published("chat:deleted") == []
    # The host deletes anyone's, moderators' included; everyone deletes their own.
    await cast.delete(cast.anna, peers.id)
    await cast.delete(cast.anna, hosts.id)
    assert [e.payload["messageId"] for e in cast.published("chat:deleted")] == [peers.id, hosts.id]


async def test_only_moderators_delete_system_messages(cast: Cast) -> None:
    joined = await cast.query(lambda: ChatMessage.filter(kind="joined").first())
    assert joined is not None
    with pytest.raises(Forbidden):
        await cast.delete(cast.boris, joined.id)
    await cast.delete(cast.anna, joined.id)
    [tombstone] = [m for m in await cast.run(get_recent_messages(cast.room)) if m["deleted"]]
    assert tombstone["id"] == joined.id
    assert (tombstone["kind"], tombstone["text"], tombstone["data"]) == ("joined", "", None)


async def test_deleting_twice_elsewhere_or_garbage(cast: Cast) -> None:
    message = await cast.send(cast.boris, "once")
    await cast.delete(cast.boris, message.id)
    with pytest.raises(NotFound):
        await cast.delete(cast.boris, message.id)
    other = await cast.run(do_create_room(cast.server.services, acting_user=cast.anna, title="B"))
    foreign = await cast.run(
        do_send_message(cast.server.services, room=other, acting_user=cast.anna, text="there")
    )
    with pytest.raises(NotFound):
        await cast.delete(cast.anna, foreign.id)  # host here, but the message is in another room
    for garbage in (None, "1", True, -1, 2**40):
        with pytest.raises(ValidationError):
            await cast.delete(cast.anna, garbage)
    with pytest.raises(Forbidden):
        await cast.delete(cast.dora, message.id)
    assert len(cast.published("chat:deleted")) == 1


# --- system messages ---------------------------------------------------------------------------


async def test_joining_posts_a_system_message_with_data(cast: Cast) -> None:
    history = await cast.run(get_recent_messages(cast.room))
    joined = [m for m in history if m["kind"] == "joined"]
    assert [m["data"] for m in joined] == [
        {"userId": cast.boris.id, "name": cast.boris.display_name},
        {"userId": cast.carl.id, "name": cast.carl.display_name},
    ]
    assert joined[0]["user"] is None
    assert joined[0]["text"] == f"{cast.boris.display_name} joined"


async def test_kick_posts_a_system_message(cast: Cast) -> None:
    await cast.run(
        do_kick(cast.server.services, room=cast.room, acting_user=cast.anna, target_id=cast.carl.id)
    )
    [event] = [e for e in cast.published("chat:message") if e.payload["kind"] == "kicked"]
    assert event.scope == f"room:{cast.room.id}"
    assert event.payload["data"] == {"userId": cast.carl.id, "name": cast.carl.display_name}
    assert event.payload["user"] is None


async def test_now_playing_system_message(cast: Cast) -> None:
    message = await cast.run(
        do_system_message(
            cast.server.services,
            cast.room,
            "now_playing",
            data={"mediaId": 7, "title": "Big {Buck} Bunny"},
        )
    )
    assert message.text == "Now playing: Big {Buck} Bunny"
    [event] = cast.published("chat:message")
    assert set(event.payload) == MESSAGE_KEYS
    assert event.payload["kind"] == "now_playing"
    assert event.payload["data"] == {"mediaId": 7, "title": "Big {Buck} Bunny"}
    with pytest.raises(ValueError, match="kind"):
        await cast.run(do_system_message(cast.server.services, cast.room, "text"))


# --- the sender cache (one look-up per room and user, dropped on every change) -----------------


async def test_a_sender_cached_before_slow_mode_is_held_by_it(cast: Cast) -> None:
    await cast.send(cast.boris, "cached")
    await cast.set_slow_mode(30)
    await cast.send(cast.boris, "first in slow mode")
    with pytest.raises(RateLimited):
        await cast.send(cast.boris, "second in slow mode")


async def test_a_sender_promoted_after_caching_skips_slow_mode(cast: Cast) -> None:
    await cast.set_slow_mode(30)
    await cast.send(cast.carl, "as a member")
    with pytest.raises(RateLimited):
        await cast.send(cast.carl, "held")
    await cast.run(
        do_set_role(
            cast.server.services,
            room=cast.room,
            acting_user=cast.anna,
            target_id=cast.carl.id,
            moderator=True,
        )
    )
    assert (await cast.send(cast.carl, "as a moderator")).text == "as a moderator"


async def test_a_cached_sender_who_left_cannot_send(cast: Cast) -> None:
    from services.rooms.membership import do_leave_room

    await cast.send(cast.carl, "bye soon")
    await cast.run(do_leave_room(cast.server.services, room=cast.room, acting_user=cast.carl))
    with pytest.raises(Forbidden):
        await cast.send(cast.carl, "still here?")


async def test_a_sender_cached_just_before_a_kick_is_dropped_again(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A send that read the membership just before the kick and cached it just after: the
    second deletion removes it."""
    monkeypatch.setattr(chat, "REDELETE_AFTER", 0.2)
    services = cast.server.services
    stale = await cast.run(chat.access_sender(services, cast.room.id, cast.boris.id))
    await cast.run(
        do_kick(services, room=cast.room, acting_user=cast.anna, target_id=cast.boris.id)
    )
    await cast.run(
        services.state.set(
            chat._sender_key(cast.room.id, cast.boris.id), stale.dumps(), ttl=chat.SENDER_TTL
        )
    )
    await asyncio.sleep(0.4)
    with pytest.raises(Forbidden):
        await cast.send(cast.boris, "sneaking in")
