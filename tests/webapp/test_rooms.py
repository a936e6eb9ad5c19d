"""The rooms REST API (docs/rooms-protocol.md) over real HTTP: creation, the public list,
visibility, capacity, invites, moderation, settings and the host's grace period."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from composition import Server
from models.users import User
from services.core.events import Event
from tests.conftest import Account, ServerFactory, register
from tests.webapp.helpers import assert_json_error, in_server

CODE_RE = re.compile(r"^[A-HJ-NP-Za-km-z2-9]{8}$")  # no 0, O, I, l or 1
YOUTUBE = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"


async def call(
    http: aiohttp.ClientSession,
    method: str,
    path: str,
    account: Account | None,
    json: Any = None,
    params: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    headers = account.headers if account is not None else {}
    async with http.request(method, path, headers=headers, json=json, params=params) as response:
        return response.status, await response.json()


async def create_room(http: aiohttp.ClientSession, host: Account, **body: Any) -> dict[str, Any]:
    status, data = await call(http, "POST", "/api/rooms", host, body)
    assert status == 201, data
    return data["room"]


async def join(
    http: aiohttp.ClientSession, account: Account, room: dict[str, Any], **body: Any
) -> tuple[int, dict[str, Any]]:
    return await call(http, "POST", f"/api/rooms/{room['id']}/join", account, body or None)


async def joined(
    http: aiohttp.ClientSession, account: Account, room: dict[str, Any], **body: Any
) -> dict[str, Any]:
    status, data = await join(http, account, room, **body)
    assert status == 200, data
    return data["room"]


async def get_room(
    http: aiohttp.ClientSession, account: Account, ref: Any, **params: str
) -> tuple[int, dict[str, Any]]:
    return await call(http, "GET", f"/api/rooms/{ref}", account, params=params)


async def post(
    http: aiohttp.ClientSession, account: Account, room: dict[str, Any], tail: str, body: Any = None
) -> tuple[int, dict[str, Any]]:
    return await call(http, "POST", f"/api/rooms/{room['id']}/{tail}", account, body)


async def users(http: aiohttp.ClientSession, prefix: str, count: int) -> list[Account]:
    return [await register(http, f"{prefix}{i}") for i in range(count)]


def ok(result: tuple[int, dict[str, Any]]) -> dict[str, Any]:
    status, data = result
    assert status == 200, data
    return data


def expect(status: int, data: dict[str, Any], want_status: int, code: str) -> None:
    assert status == want_status, data
    assert data["error"]["code"] == code, data


# --- create -----------------------------------------------------------------------------------


async def test_create_makes_the_host_a_member(http: aiohttp.ClientSession, anna: Account) -> None:
    room = await create_room(http, anna, title="  Friday   movie ")
    assert CODE_RE.match(room["code"]), room["code"]
    assert room["title"] == "Friday movie"
    assert room["host"]["id"] == anna.id
    assert room["myRole"] == "host"
    assert room["memberCount"] == 1
    assert room["watchCount"] == 1
    assert room["visibility"] == "public"
    assert room["controlMode"] == "host"
    assert room["slowModeSeconds"] == 0
    assert room["closedAt"] is None
    assert len(room["inviteCode"]) == 16
    status, data = await get_room(http, anna, room["id"])
    assert status == 200, data
    assert data["members"] == [{"user": data["room"]["host"], "role": "host"}]
    # The code works wherever an id does.
    status, by_code = await get_room(http, anna, room["code"])
    assert status == 200, by_code
    assert by_code["room"]["id"] == room["id"]


async def test_create_titles_the_room_after_its_link(
    http: aiohttp.ClientSession, anna: Account
) -> None:
    room = await create_room(http, anna, url=YOUTUBE, visibility="private", controlMode="everyone")
    assert room["title"] == "YouTube · dQw4w9WgXcQ"
    assert room["currentKind"] == "youtube"
    assert room["visibility"] == "private"
    assert room["controlMode"] == "everyone"
    status, data = await get_room(http, anna, room["id"])
    assert status == 200, data
    if "queue" in data:  # services/playback.py present
        assert [item["sourceId"] for item in data["queue"]] == ["dQw4w9WgXcQ"]
        assert data["playback"]["mediaId"] == data["queue"][0]["id"]
    # A title given with the link wins.
    named = await create_room(http, anna, url=YOUTUBE, title="Rick")
    assert named["title"] == "Rick"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 101}, "title"),
        ({"title": 5}, "title"),
        ({"url": "https://example.com/page"}, "url"),
        ({"visibility": "secret"}, "visibility"),
        ({"controlMode": "anyone"}, "controlMode"),
    ],
)
async def test_create_validates(
    http: aiohttp.ClientSession, anna: Account, body: dict[str, Any], field: str
) -> None:
    async with http.post("/api/rooms", json=body, headers=anna.headers) as response:
        await assert_json_error(response, 400, "validation_error", field=field)


async def test_rooms_need_a_token(http: aiohttp.ClientSession, anna: Account) -> None:
    """All but the public list (see test_anyone_lists_public_rooms_without_signing_in)."""
    room = await create_room(http, anna)
    for method, path in [
        ("POST", "/api/rooms"),
        ("GET", f"/api/rooms/{room['id']}"),
        ("POST", f"/api/rooms/{room['id']}/join"),
    ]:
        async with http.request(method, path, json={}) as response:
            await assert_json_error(response, 401, "unauthorized")


# --- list -------------------------------------------------------------------------------------


async def _list(
    http: aiohttp.ClientSession, account: Account, **params: str
) -> tuple[list[str], int]:
    status, data = await call(http, "GET", "/api/rooms", account, params=params)
    assert status == 200, data
    return [room["title"] for room in data["rooms"]], data["total"]


async def test_list_shows_open_public_rooms_most_watched_first(
    http: aiohttp.ClientSession, anna: Account, boris: Account
) -> None:
    viewers = await users(http, "viewer", 3)
    quiet = await create_room(http, anna, title="Quiet evening")
    busy = await create_room(http, anna, title="Busy cinema", url=YOUTUBE)
    twitch = await create_room(http, boris, title="Stream night", url="https://twitch.tv/somebody")
    await create_room(http, anna, title="Secret cinema", visibility="private")
    closing = await create_room(http, boris, title="Closed cinema")
    for viewer in viewers:
        await joined(http, viewer, busy)
    await joined(http, viewers[0], twitch)
    assert (await post(http, boris, closing, "close"))[0] == 200

    titles, total = await _list(http, boris)
    assert titles == ["Busy cinema", "Stream night", "Quiet evening"]
    assert total == 3
    # Watch counts are of people who ever joined: leaving does not reorder the list.
    for viewer in viewers:
        assert (await post(http, viewer, busy, "leave"))[0] == 200
    assert (await _list(http, boris))[0][0] == "Busy cinema"

    assert await _list(http, boris, query="CINEMA") == (["Busy cinema"], 1)
    assert await _list(http, boris, query="nothing like it") == ([], 0)
    assert await _list(http, boris, query="%") == ([], 0)  # LIKE wildcards are literal
    assert await _list(http, boris, query="_") == ([], 0)
    assert await _list(http, boris, kind="twitch") == (["Stream night"], 1)
    assert await _list(http, boris, kind="youtube") == (["Busy cinema"], 1)
    assert await _list(http, boris, limit="2") == (["Busy cinema", "Stream night"], 3)
    assert await _list(http, boris, limit="2", offset="2") == (["Quiet evening"], 3)
    assert await _list(http, boris, offset="5") == ([], 3)
    data = ok(await call(http, "GET", "/api/rooms", boris))
    assert {room["id"] for room in data["rooms"]} == {quiet["id"], busy["id"], twitch["id"]}
    assert all("inviteCode" not in room for room in data["rooms"] if room["host"]["id"] != boris.id)


async def test_anyone_lists_public_rooms_without_signing_in(
    http: aiohttp.ClientSession, anna: Account
) -> None:
    """Seed 004: the public list is open; private fields only with a token."""
    room = await create_room(http, anna, title="Open house")
    await create_room(http, anna, title="Hidden", visibility="private")
    async with http.get("/api/rooms") as response:
        assert response.status == 200
        data = await response.json()
    assert [r["title"] for r in data["rooms"]] == ["Open house"]
    assert data["total"] == 1
    assert "inviteCode" not in data["rooms"][0]
    assert "myRole" not in data["rooms"][0]
    mine = ok(await call(http, "GET", "/api/rooms", anna))["rooms"][0]
    assert mine["id"] == room["id"]
    assert mine["myRole"] == "host"
    assert mine["inviteCode"]
    # A bad token is still refused: the client must sign in again, not see a public view.
    async with http.get("/api/rooms", headers={"Authorization": "Bearer nope"}) as response:
        await assert_json_error(response, 401, "unauthorized")


async def test_a_room_everyone_left_is_not_listed(
    http: aiohttp.ClientSession, anna: Account, boris: Account
) -> None:
    """Not "0 watching" for the length of the host's grace: gone from the list at once."""
    deserted = await create_room(http, anna, title="Deserted")
    await joined(http, boris, deserted)
    await create_room(http, boris, title="Lively")
    assert (await _list(http, boris))[0] == ["Deserted", "Lively"]
    assert (await post(http, boris, deserted, "leave"))[0] == 200
    assert (await _list(http, boris))[0] == ["Deserted", "Lively"]  # its host is still in
    assert (await post(http, anna, deserted, "leave"))[0] == 200
    assert await _list(http, boris) == (["Lively"], 1)
    # The host back inside the grace: listed again.
    await joined(http, anna, deserted)
    assert (await _list(http, boris))[0] == ["Deserted", "Lively"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "--1"}, "offset"),
        ({"offset": "1e3"}, "offset"),
        ({"offset": "9" * 13}, "offset"),
        ({"offset": "٣"}, "offset"),  # a digit, but not an ASCII one
        ({"kind": "dvd"}, "kind"),
        ({"query": "q" * 101}, "query"),
    ],
)
async def test_list_validates(
    http: aiohttp.ClientSession, anna: Account, params: dict[str, str], field: str
) -> None:
    async with http.get("/api/rooms", params=params, headers=anna.headers) as response:
        await assert_json_error(response, 400, "validation_error", field=field)


async def test_mine_lists_my_open_rooms(
    http: aiohttp.ClientSession, anna: Account, boris: Account
) -> None:
    own = await create_room(http, anna, title="Mine")
    other = await create_room(http, boris, title="Boris's", visibility="private")
    left = await create_room(http, boris, title="Left")
    await joined(http, anna, other, inviteCode=other["inviteCode"])
    await joined(http, anna, left)
    await post(http, anna, left, "leave")
    status, data = await call(http, "GET", "/api/rooms/mine", anna)
    assert status == 200, data
    assert [room["id"] for room in data["rooms"]] == [own["id"], other["id"]]
    assert data["rooms"][1]["myRole"] == "member"


class QueryCounter(logging.Handler):
    """Counts the SQL statements Tortoise runs (it logs each one on ``tortoise.db_client``)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
            self.statements.append(message)


@contextmanager
def counting_queries() -> Iterator[QueryCounter]:
    logger = logging.getLogger("tortoise.db_client")
    counter, level, propagate = QueryCounter(), logger.level, logger.propagate
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # keep the statements out of pytest's captured log
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
        logger.propagate = propagate


async def _queries_for(http: aiohttp.ClientSession, account: Account, path: str) -> int:
    with counting_queries() as counter:
        status, data = await call(http, "GET", path, account)
    assert status == 200, data
    return len(counter.statements)


async def test_lists_cost_the_same_queries_for_two_rooms_or_twenty(db_server: Server) -> None:
    async with aiohttp.ClientSession(base_url=db_server.url) as http:
        anna, boris, vera = await users(http, "lister", 3)
        first = await create_room(http, anna, title="Room 0", url=YOUTUBE)
        second = await create_room(http, boris, title="Room 1")
        await joined(http, anna, second)
        await joined(http, vera, second)
        few = {
            path: await _queries_for(http, anna, path) for path in ("/api/rooms", "/api/rooms/mine")
        }
        for i in range(2, 20):
            room = await create_room(http, boris if i % 2 else vera, title=f"Room {i}")
            await joined(http, anna, room)
        many = {
            path: await _queries_for(http, anna, path) for path in ("/api/rooms", "/api/rooms/mine")
        }
        assert many == few
        assert many["/api/rooms"] <= 6, many  # user, count, page, hosts, members, my roles
        assert many["/api/rooms/mine"] <= 5, many

        # The list shows each room exactly as its own page does.
        data = ok(await call(http, "GET", "/api/rooms", anna))
        assert len(data["rooms"]) == 20
        for listed in data["rooms"]:
            own = ok(await get_room(http, anna, listed["id"]))["room"]
            assert listed == own
        by_id = {room["id"]: room for room in data["rooms"]}
        assert by_id[second["id"]]["memberCount"] == 3
        assert by_id[second["id"]]["host"]["id"] == boris.id
        assert by_id[second["id"]]["myRole"] == "member"
        assert by_id[first["id"]]["myRole"] == "host"
        assert by_id[first["id"]]["currentKind"] == "youtube"
        assert by_id[first["id"]]["inviteCode"] == first["inviteCode"]
        mine = ok(await call(http, "GET", "/api/rooms/mine", vera))["rooms"]
        assert {room["id"] for room in mine} == {second["id"]} | {
            room["id"] for room in data["rooms"] if room["host"]["id"] == vera.id
        }
        outsider = ok(await call(http, "GET", "/api/rooms", vera))["rooms"]
        assert all(("inviteCode" in room) == (room["myRole"] is not None) for room in outsider)


# --- get and private rooms --------------------------------------------------------------------


async def test_get_shows_invite_code_to_members_only(
    http: aiohttp.ClientSession, anna: Account, boris: Account
) -> None:
    room = await create_room(http, anna)
    status, data = await get_room(http, boris, room["id"])
    assert status == 200, data
    assert data["room"]["myRole"] is None
    assert "inviteCode" not in data["room"]
    await joined(http, boris, room)
    status, data = await get_room(http, boris, room["id"])
    assert data["room"]["myRole"] == "member"
    assert data["room"]["inviteCode"] == room["inviteCode"]
    assert [m["role"] for m in data["members"]] == ["host", "member"]
    assert data["room"]["memberCount"] == 2


async def test_private_room_is_hidden_without_invite(
    http: aiohttp.ClientSession, anna: Account, boris: Account
) -> None:
    room = await create_room(http, anna, visibility="private", title="Family")
    expect(*await get_room(http, boris, room["id"]), 403, "forbidden")
    expect(*await get_room(http, boris, room["code"]), 403, "forbidden")
    expect(*await get_room(http, boris, room["id"], invite="wrong-code-00000"), 403, "forbidden")
    status, data = await get_room(http, boris, room["id"], invite=room["inviteCode"])
    assert status == 200, data
    assert "inviteCode" not in data["room"]  # holding the code is not membership
    assert await _list(http, boris) == ([], 0)
    # Once a member, always welcome back (unless kicked).
    await joined(http, boris, room, inviteCode=room["inviteCode"])
    await post(http, boris, room, "leave")
    assert (await get_room(http, boris, room["id"]))[0] == 200
    assert (await joined(http, boris, room))["myRole"] == "member"
    expect(*await get_room(http, boris, 999_999), 404, "not_found")
    expect(*await get_room(http, boris, "NoSuchCd"), 404, "not_found")
    expect(*await get_room(http, boris, "9" * 15), 404, "not_found")


async def test_private_room_lets_in_by_invite_or_code_only(
    http: aiohttp.ClientSession, anna: Account, boris: Account
) -> None:
    carl, dora = await users(http, "carl", 2)
    room = await create_room(http, anna, visibility="private")
    expect(*await join(http, boris, room), 403, "forbidden")
    expect(*await join(http, boris, room, inviteCode="x" * 16), 403, "forbidden")
    expect(*await join(http, boris, room, inviteCode=5), 400, "validation_error")

    # An invite by user id lets in, and shows the room before joining.
    assert await post(http, anna, room, "invite", {"userId": boris.id}) == (200, {"ok": True})
    assert (await get_room(http, boris, room["id"]))[0] == 200
    assert (await joined(http, boris, room))["myRole"] == "member"
    # A member may invite too.
    assert (await post(http, boris, room, "invite", {"userId": carl.id}))[0] == 200
    await joined(http, carl, room)
    # The invite code lets in.
    assert (await joined(http, dora, room, inviteCode=room["inviteCode"]))["memberCount"] == 4


async def test_invite_checks_the_invitee(
    http: aiohttp.ClientSession, anna: Account, boris: Account
) -> None:
    room = await create_room(http, anna, visibility="private")
    expect(*await post(http, anna, room, "invite", {"userId": 999_999}), 404, "not_found")
    expect(*await post(http, anna, room, "invite", {"userId": anna.id}), 400, "validation_error")
    expect(*await post(http, anna, room, "invite", {"userId": 0}), 400, "validation_error")
    expect(*await post(http, anna, room, "invite", {"userId": "2"}), 400, "validation_error")
    expect(*await post(http, anna, room, "invite", {}), 400, "validation_error")
    # Outsiders cannot invite.
    carl = await register(http, "carl")
    expect(*await post(http, boris, room, "invite", {"userId": carl.id}), 403, "forbidden")


async def test_invite_notifies_the_invitee(
    server: Server, http: aiohttp.ClientSession, anna: Account, boris: Account
) -> None:
    events: list[Event] = []

    async def capture(event: Event) -> None:
        events.append(event)

    assert server.services is not None
    server.services.events.subscribe("room:invited", capture)
    room = await create_room(http, anna, visibility="private")
    await post(http, anna, room, "invite", {"userId": boris.id})
    [event] = events
    assert event.scope == f"user:{boris.id}"
    assert event.payload["roomCode"] == room["code"]
    assert event.payload["inviteCode"] == room["inviteCode"]
    assert event.payload["from"]["id"] == anna.id


# --- join and capacity ------------------------------------------------------------------------


async def test_join_is_idempotent(
    http: aiohttp.ClientSession, anna: Account, boris: Account
) -> None:
    room = await create_room(http, anna)
    first = await joined(http, boris, room)
    second = await joined(http, boris, room)
    assert first["memberCount"] == second["memberCount"] == 2
    assert second["watchCount"] == 2
    assert (await joined(http, anna, room))["memberCount"] == 2  # the host, again
    # Leaving and coming back does not count as a new viewer.
    await post(http, boris, room, "leave")
    assert (await get_room(http, anna, room["id"]))[1]["room"]["memberCount"] == 1
    again = await joined(http, boris, room)
    assert (again["memberCount"], again["watchCount"]) == (2, 2)
    status, data = await call(http, "GET", f"/api/rooms/{room['id']}/messages", anna)
    assert status == 200, data
    assert [m["kind"] for m in data["messages"]] == ["joined", "joined"]


async def test_a_room_holds_free_room_limit_people(make_server: ServerFactory) -> None:
    server = await make_server(free_room_limit=3)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        host, *guests = await users(http, "guest", 5)
        room = await create_room(http, host)
        await joined(http, guests[0], room)
        await joined(http, guests[1], room)
        status, data = await join(http, guests[2], room)
        expect(status, data, 409, "room_full")
        assert data["error"]["details"]["limit"] == 3
        # A place frees up when someone leaves.
        await post(http, guests[0], room, "leave")
        await joined(http, guests[2], room)
        expect(*await join(http, guests[3], room), 409, "room_full")
        # The host always gets back into their own room.
        await post(http, host, room, "leave")
        await joined(http, guests[3], room)
        assert (await joined(http, host, room))["memberCount"] == 4


async def test_concurrent_joins_never_overfill(
    database_url: str | None, make_server: ServerFactory
) -> None:
    overrides: dict[str, Any] = {"free_room_limit": 5}
    if database_url is not None:
        overrides["database_url"] = database_url
    server = await make_server(**overrides)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        host, *guests = await users(http, "racer", 11)
        room = await create_room(http, host)
        results = await asyncio.gather(*(join(http, guest, room) for guest in guests))
        statuses = sorted(status for status, _ in results)
        assert statuses == [200] * 4 + [409] * 6, results
        # The same person racing themselves joins once.
        late = await register(http, "late")
        winner = next(
            guest for guest, (status, _) in zip(guests, results, strict=True) if status == 200
        )
        assert (await post(http, host, room, f"kick/{winner.id}"))[0] == 200
        results = await asyncio.gather(*(join(http, late, room) for _ in range(5)))
        assert [status for status, _ in results] == [200] * 5, results
        data = ok(await get_room(http, host, room["id"]))
        assert data["room"]["memberCount"] == 5
        assert len(data["members"]) == 5


async def _set_user(server: Server, user_id: int, **fields: Any) -> None:
    await in_server(server, lambda: User.filter(id=user_id).update(**fields))


async def test_premium_host_gets_the_hard_cap(make_server: ServerFactory) -> None:
    server = await make_server(free_room_limit=2, room_hard_cap=4)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        host, *guests = await users(http, "premium", 6)
        room = await create_room(http, host)
        await joined(http, guests[0], room)
        expect(*await join(http, guests[1], room), 409, "room_full")
        await _set_user(server, host.id, premium_until=datetime.now(UTC) + timedelta(days=30))
        await joined(http, guests[1], room)
        await joined(http, guests[2], room)
        status, data = await join(http, guests[3], room)
        expect(status, data, 409, "room_full")
        assert data["error"]["details"]["limit"] == 4
        # Expired premium is the free limit again.
        await _set_user(server, host.id, premium_until=datetime.now(UTC) - timedelta(days=1))
        await post(http, guests[2], room, "leave")
        expect(*await join(http, guests[2], room), 409, "room_full")


async def test_channel_subscriber_host_gets_the_hard_cap_cached(
    make_server: ServerFactory,
) -> None:
    server = await make_server(
        free_room_limit=2, room_hard_cap=4, subscriber_channel_id="@vmeste_news"
    )
    assert server.services is not None
    calls: list[int] = []

    async def checker(telegram_id: int) -> bool:
        calls.append(telegram_id)
        return telegram_id == 4242

    server.services.channel_checker = checker
    async with aiohttp.ClientSession(base_url=server.url) as http:
        host, other_host, *guests = await users(http, "fan", 7)
        await _set_user(server, host.id, telegram_id=4242)
        await _set_user(server, other_host.id, telegram_id=4343)
        room = await create_room(http, host)
        for guest in guests[:3]:
            await joined(http, guest, room)
        status, data = await join(http, guests[3], room)
        expect(status, data, 409, "room_full")
        assert data["error"]["details"]["limit"] == 4
        assert calls == [4242]  # asked Telegram once, then the cache answered

        # A host who is not subscribed keeps the free limit.
        small = await create_room(http, other_host)
        await joined(http, guests[4], small)
        expect(*await join(http, guests[3], small), 409, "room_full")
        assert calls == [4242, 4343]


async def test_unreachable_channel_check_means_the_free_limit(
    make_server: ServerFactory,
) -> None:
    server = await make_server(free_room_limit=2, subscriber_channel_id="@vmeste_news")
    assert server.services is not None

    async def checker(telegram_id: int) -> bool:
        raise RuntimeError("Telegram is down")

    server.services.channel_checker = checker
    async with aiohttp.ClientSession(base_url=server.url) as http:
        host, *guests = await users(http, "down", 3)
        await _set_user(server, host.id, telegram_id=4242)
        room = await create_room(http, host)
        await joined(http, guests[0], room)
        expect(*await join(http, guests[1], room), 409, "room_full")


# --- kick and moderators ----------------------------------------------------------------------


async def test_kick_rules(http: aiohttp.ClientSession, anna: Account, boris: Account) -> None:
    carl, dora, eve = await users(http, "kick", 3)
    room = await create_room(http, anna, visibility="private")
    for person in (boris, carl, dora):
        await joined(http, person, room, inviteCode=room["inviteCode"])
    # A member cannot kick.
    expect(*await post(http, boris, room, f"kick/{carl.id}"), 403, "forbidden")
    # A moderator kicks a member, not the host nor another moderator.
    assert (await post(http, anna, room, f"moderators/{boris.id}"))[0] == 200
    assert (await post(http, anna, room, f"moderators/{dora.id}"))[0] == 200
    assert await post(http, boris, room, f"kick/{carl.id}") == (200, {"ok": True})
    expect(*await post(http, boris, room, f"kick/{anna.id}"), 403, "forbidden")
    expect(*await post(http, boris, room, f"kick/{dora.id}"), 403, "forbidden")
    # Outsiders and unknown targets.
    expect(*await post(http, eve, room, f"kick/{boris.id}"), 403, "forbidden")
    expect(*await post(http, anna, room, f"kick/{eve.id}"), 404, "not_found")
    expect(*await post(http, anna, room, "kick/abc"), 400, "validation_error")
    # The kicked one is out and stays out, invite code, invite or not.
    data = ok(await get_room(http, anna, room["id"]))
    assert carl.id not in [m["user"]["id"] for m in data["members"]]
    expect(*await join(http, carl, room, inviteCode=room["inviteCode"]), 403, "forbidden")
    expect(*await post(http, anna, room, "invite", {"userId": carl.id}), 403, "forbidden")
    expect(*await get_room(http, carl, room["id"], invite=room["inviteCode"]), 403, "forbidden")
    expect(*await post(http, anna, room, f"kick/{carl.id}"), 404, "not_found")
    # The host kicks a moderator.
    assert (await post(http, anna, room, f"kick/{dora.id}"))[0] == 200


async def test_kicked_cannot_rejoin_a_public_room(
    server: Server, http: aiohttp.ClientSession, anna: Account, boris: Account
) -> None:
    events: list[Event] = []

    async def capture(event: Event) -> None:
        events.append(event)

    assert server.services is not None
    server.services.events.subscribe("room:kicked", capture)
    room = await create_room(http, anna)
    await joined(http, boris, room)
    await post(http, anna, room, f"kick/{boris.id}")
    expect(*await join(http, boris, room), 403, "forbidden")
    assert [(e.scope, e.payload["roomId"]) for e in events] == [(f"user:{boris.id}", room["id"])]


async def test_moderators_are_named_by_the_host_only(
    http: aiohttp.ClientSession, anna: Account, boris: Account
) -> None:
    carl = await register(http, "carl")
    room = await create_room(http, anna)
    await joined(http, boris, room)
    await joined(http, carl, room)
    expect(*await post(http, boris, room, f"moderators/{carl.id}"), 403, "forbidden")
    status, data = await post(http, anna, room, f"moderators/{boris.id}")
    assert status == 200, data
    assert data["member"]["role"] == "moderator"
    assert data["member"]["user"]["id"] == boris.id
    # A moderator cannot name moderators either.
    expect(*await post(http, boris, room, f"moderators/{carl.id}"), 403, "forbidden")
    expect(*await post(http, anna, room, f"moderators/{anna.id}"), 400, "validation_error")
    expect(*await post(http, anna, room, "moderators/999999"), 404, "not_found")
    status, data = await call(
        http, "DELETE", f"/api/rooms/{room['id']}/moderators/{boris.id}", carl
    )
    expect(status, data, 403, "forbidden")
    status, data = await call(
        http, "DELETE", f"/api/rooms/{room['id']}/moderators/{boris.id}", anna
    )
    assert status == 200, data
    assert data["member"]["role"] == "member"
    expect(*await post(http, boris, room, f"kick/{carl.id}"), 403, "forbidden")


async def test_handover(http: aiohttp.ClientSession, anna: Account, boris: Account) -> None:
    carl, dora = await users(http, "hand", 2)
    room = await create_room(http, anna)
    for person in (boris, carl):
        await joined(http, person, room)
    expect(*await post(http, boris, room, "handover", {"userId": carl.id}), 403, "forbidden")
    expect(*await post(http, anna, room, "handover", {"userId": dora.id}), 404, "not_found")
    expect(*await post(http, anna, room, "handover", {"userId": anna.id}), 400, "validation_error")
    status, data = await post(http, anna, room, "handover", {"userId": boris.id})
    assert status == 200, data
    assert data["room"]["host"]["id"] == boris.id
    assert data["room"]["myRole"] == "moderator"
    status, data = await get_room(http, carl, room["id"])
    roles = {m["user"]["id"]: m["role"] for m in data["members"]}
    assert roles == {boris.id: "host", anna.id: "moderator", carl.id: "member"}
    assert data["members"][0]["user"]["id"] == boris.id
    # The old host is a moderator now: no settings, no handover back; the new host rules.
    status, data = await call(http, "PATCH", f"/api/rooms/{room['id']}", anna, {"title": "Mine"})
    expect(status, data, 403, "forbidden")
    expect(*await post(http, anna, room, "handover", {"userId": anna.id}), 403, "forbidden")
    expect(*await post(http, anna, room, f"kick/{boris.id}"), 403, "forbidden")
    assert (await post(http, boris, room, f"kick/{anna.id}"))[0] == 200
    # The new host's leaving now closes the room; the old host's would not have.
    assert (await post(http, boris, room, "close"))[0] == 200


# --- settings ---------------------------------------------------------------------------------


async def _patch(
    http: aiohttp.ClientSession, account: Account, room: dict[str, Any], body: Any
) -> tuple[int, dict[str, Any]]:
    return await call(http, "PATCH", f"/api/rooms/{room['id']}", account, body)


async def test_settings_permissions(
    server: Server, http: aiohttp.ClientSession, anna: Account, boris: Account
) -> None:
    events: list[Event] = []

    async def capture(event: Event) -> None:
        events.append(event)

    assert server.services is not None
    server.services.events.subscribe("room:updated", capture)
    carl = await register(http, "carl")
    room = await create_room(http, anna)
    await joined(http, boris, room)
    await joined(http, carl, room)
    await post(http, anna, room, f"moderators/{boris.id}")

    expect(*await _patch(http, carl, room, {"slowModeSeconds": 10}), 403, "forbidden")
    status, data = await _patch(http, boris, room, {"slowModeSeconds": 10})
    assert status == 200, data
    assert data["room"]["slowModeSeconds"] == 10
    for body in ({"title": "Boris"}, {"visibility": "private"}, {"controlMode": "everyone"}):
        expect(*await _patch(http, boris, room, body), 403, "forbidden")
    # A refused change changes nothing, not even the part that was allowed.
    expect(*await _patch(http, boris, room, {"slowModeSeconds": 0, "title": "B"}), 403, "forbidden")
    status, data = await _patch(
        http,
        anna,
        room,
        {"title": "Late show", "visibility": "private", "controlMode": "everyone"},
    )
    assert status == 200, data
    assert (data["room"]["title"], data["room"]["visibility"], data["room"]["controlMode"]) == (
        "Late show",
        "private",
        "everyone",
    )
    assert data["room"]["slowModeSeconds"] == 10
    expect(*await _patch(http, anna, {"id": 999_999}, {"title": "x"}), 404, "not_found")
    expect(
        *await _patch(http, await register(http, "dora"), room, {"title": "x"}), 403, "forbidden"
    )
    assert [e.payload["title"] for e in events] == [room["title"], "Late show"]
    assert events[-1].scope == f"room:{room['id']}"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slowModeSeconds": -1}, "slowModeSeconds"),
        ({"slowModeSeconds": 3601}, "slowModeSeconds"),
        ({"slowModeSeconds": "5"}, "slowModeSeconds"),
        ({"slowModeSeconds": True}, "slowModeSeconds"),
        ({"visibility": "secret"}, "visibility"),
        ({"controlMode": "anyone"}, "controlMode"),
        ({"title": ""}, "title"),
        ({"title": "x" * 101}, "title"),
        ({"title": "ok", "slowModeSeconds": 99999}, "slowModeSeconds"),
    ],
)
async def test_settings_validate(
    http: aiohttp.ClientSession, anna: Account, body: dict[str, Any], field: str
) -> None:
    room = await create_room(http, anna, title="Unchanged")
    async with http.patch(f"/api/rooms/{room['id']}", json=body, headers=anna.headers) as response:
        await assert_json_error(response, 400, "validation_error", field=field)
    data = ok(await get_room(http, anna, room["id"]))
    assert (data["room"]["title"], data["room"]["slowModeSeconds"]) == ("Unchanged", 0)


# --- leaving and closing ----------------------------------------------------------------------


@pytest.fixture
async def graceful(make_server: ServerFactory) -> Server:
    return await make_server(host_grace_seconds=0.3)


async def test_room_closes_when_the_host_stays_away(graceful: Server) -> None:
    closed: list[Event] = []

    async def capture(event: Event) -> None:
        closed.append(event)

    assert graceful.services is not None
    graceful.services.events.subscribe("room:closed", capture)
    async with aiohttp.ClientSession(base_url=graceful.url) as http:
        host, guest = await users(http, "away", 2)
        room = await create_room(http, host)
        await joined(http, guest, room)
        assert await post(http, host, room, "leave") == (200, {"ok": True})
        # Still open inside the grace period, for reconnects.
        assert (await get_room(http, guest, room["id"]))[0] == 200
        assert closed == []
        await asyncio.sleep(0.6)
        expect(*await get_room(http, guest, room["id"]), 404, "not_found")
        expect(*await join(http, guest, room), 404, "not_found")
        assert await _list(http, guest) == ([], 0)
        data = ok(await call(http, "GET", "/api/rooms/mine", guest))
        assert data["rooms"] == []
        assert [(e.scope, e.payload) for e in closed] == [
            (f"room:{room['id']}", {"roomId": room["id"], "reason": "host_left"})
        ]


async def test_host_back_within_grace_keeps_the_room(graceful: Server) -> None:
    async with aiohttp.ClientSession(base_url=graceful.url) as http:
        host, guest = await users(http, "back", 2)
        room = await create_room(http, host)
        await joined(http, guest, room)
        await post(http, host, room, "leave")
        await asyncio.sleep(0.1)
        assert (await joined(http, host, room))["myRole"] == "host"
        await asyncio.sleep(0.5)
        assert (await get_room(http, guest, room["id"]))[0] == 200
        # A member leaving closes nothing.
        await post(http, guest, room, "leave")
        await asyncio.sleep(0.5)
        assert (await get_room(http, guest, room["id"]))[0] == 200
        assert await _list(http, guest) == ([room["title"]], 1)


async def test_close_by_host(http: aiohttp.ClientSession, anna: Account, boris: Account) -> None:
    room = await create_room(http, anna)
    await joined(http, boris, room)
    expect(*await post(http, boris, room, "close"), 403, "forbidden")
    assert await post(http, anna, room, "close") == (200, {"ok": True})
    expect(*await get_room(http, anna, room["id"]), 404, "not_found")
    expect(*await join(http, boris, room), 404, "not_found")
    expect(*await post(http, anna, room, "close"), 404, "not_found")


# --- history ----------------------------------------------------------------------------------


async def test_messages_are_for_members(
    http: aiohttp.ClientSession, anna: Account, boris: Account
) -> None:
    room = await create_room(http, anna)
    path = f"/api/rooms/{room['id']}/messages"
    expect(*await call(http, "GET", path, boris), 403, "forbidden")
    await joined(http, boris, room)
    status, data = await call(http, "GET", path, boris)
    assert status == 200, data
    [message] = data["messages"]
    assert (message["kind"], message["data"]["userId"]) == ("joined", boris.id)
    status, data = await call(http, "GET", path, boris, params={"before": str(message["id"])})
    assert data["messages"] == []
    expect(*await call(http, "GET", path, boris, params={"limit": "0"}), 400, "validation_error")
    expect(*await call(http, "GET", path, boris, params={"before": "x"}), 400, "validation_error")


async def test_reactions_are_for_members(
    http: aiohttp.ClientSession, anna: Account, boris: Account
) -> None:
    room = await create_room(http, anna, url=YOUTUBE)
    path = f"/api/rooms/{room['id']}/reactions"
    expect(*await call(http, "GET", path, boris, params={"mediaId": "1"}), 403, "forbidden")
    status, data = await call(http, "GET", path, anna, params={"mediaId": "1", "to": "60"})
    assert status == 200, data
    assert data["reactions"] == []
    expect(*await call(http, "GET", path, anna), 400, "validation_error")
    params = {"mediaId": "1", "from": "9", "to": "3"}
    expect(*await call(http, "GET", path, anna, params=params), 400, "validation_error")
