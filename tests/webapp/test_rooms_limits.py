"""Abuse limits on the rooms REST API: room creation per user; invites per inviter and per
invitee, and a repeated identical invite notifying nobody (429 + Retry-After, a clear
message in the user's language)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

import services.rooms.membership
from composition import Server
from services.core.events import Event
from tests.conftest import Account, ServerFactory, register
from tests.webapp.helpers import assert_json_error


async def _create(http: aiohttp.ClientSession, host: Account) -> aiohttp.ClientResponse:
    async with http.post(
        "/api/rooms", json={"title": "Movie night"}, headers=host.headers
    ) as response:
        await response.read()
        return response


async def _invite(
    http: aiohttp.ClientSession, host: Account, room: dict[str, Any], invitee: Account
) -> aiohttp.ClientResponse:
    async with http.post(
        f"/api/rooms/{room['id']}/invite", json={"userId": invitee.id}, headers=host.headers
    ) as response:
        await response.read()
        return response


async def _room(http: aiohttp.ClientSession, host: Account, **body: Any) -> dict[str, Any]:
    async with http.post(
        "/api/rooms", json={"title": "Movie night", **body}, headers=host.headers
    ) as response:
        data = await response.json()
        assert response.status == 201, data
        return data["room"]


async def _limited(response: aiohttp.ClientResponse, *, at_most: int) -> str:
    """The response is a 429 with Retry-After (and details.retry_after); its message."""
    error = await assert_json_error(response, 429, "rate_limited")
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= at_most, retry_after
    assert error["details"]["retry_after"] == retry_after
    return str(error["message"])


def _capture_invites(server: Server) -> list[Event]:
    events: list[Event] = []

    async def capture(event: Event) -> None:
        events.append(event)

    assert server.services is not None
    server.services.events.subscribe("room:invited", capture)
    return events


# --- room creation ----------------------------------------------------------------------------


async def test_room_creation_is_limited_per_user(make_server: ServerFactory) -> None:
    server = await make_server(room_create_rate="2/3seconds;3/day")
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna, boris = await register(http, "anna"), await register(http, "boris")
        assert [(await _create(http, anna)).status for _ in range(2)] == [201, 201]
        message = await _limited(await _create(http, anna), at_most=3)
        assert message in {
            f"You are creating rooms too often. Try again in {n} s." for n in (1, 2, 3)
        }, message
        # In the user's language.
        async with http.patch(
            "/api/users/me", json={"language": "ru"}, headers=anna.headers
        ) as response:
            assert response.status == 200, await response.text()
        ru = await _limited(await _create(http, anna), at_most=3)
        assert ru.startswith("Вы создаёте комнаты слишком часто. Повторите через "), ru
        # Someone else is not affected.
        assert (await _create(http, boris)).status == 201

        # After the window she may create again: the third of the day...
        await asyncio.sleep(3.1)
        assert (await _create(http, anna)).status == 201
        # ...and then the day's limit holds.
        response = await _create(http, anna)
        await assert_json_error(response, 429, "rate_limited")
        assert int(response.headers["Retry-After"]) > 3600


# --- invites ----------------------------------------------------------------------------------


async def test_a_repeated_identical_invite_notifies_nobody(
    make_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services.rooms.membership, "INVITE_REPEAT_SECONDS", 1.5)
    server = await make_server(invite_rate_inviter="3/minute", invite_rate_invitee="3/minute")
    events = _capture_invites(server)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna, boris, carl = [await register(http, n) for n in ("anna", "boris", "carl")]
        room = await _room(http, anna, visibility="private")

        # 20 identical invites, one after another: all answered ok, one notification, and
        # the budget is spent once (they do not use up the inviter's 3 an hour).
        assert {(await _invite(http, anna, room, boris)).status for _ in range(20)} == {200}
        await asyncio.sleep(0.05)
        assert [e.payload["inviteeId"] for e in events] == [boris.id]
        # Another invitee is another invite.
        assert (await _invite(http, anna, room, carl)).status == 200
        assert [e.payload["inviteeId"] for e in events] == [boris.id, carl.id]

        # After the window the same invite notifies again.
        await asyncio.sleep(1.6)
        assert (await _invite(http, anna, room, boris)).status == 200
        assert [e.payload["inviteeId"] for e in events] == [boris.id, carl.id, boris.id]


async def test_invites_are_limited_per_inviter(make_server: ServerFactory) -> None:
    server = await make_server(invite_rate_inviter="2/2seconds")
    events = _capture_invites(server)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
        guests = [await register(http, f"guest{i}") for i in range(4)]
        room = await _room(http, anna)
        assert [(await _invite(http, anna, room, g)).status for g in guests[:2]] == [200, 200]
        message = await _limited(await _invite(http, anna, room, guests[2]), at_most=2)
        assert message.startswith("You are sending too many invites.")
        assert len(events) == 2
        await asyncio.sleep(2.1)
        assert (await _invite(http, anna, room, guests[2])).status == 200
        assert len(events) == 3


async def test_invites_are_limited_per_invitee_from_anyone(make_server: ServerFactory) -> None:
    server = await make_server(invite_rate_invitee="2/2seconds")
    events = _capture_invites(server)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        hosts = [await register(http, f"host{i}") for i in range(3)]
        dana, emil = await register(http, "dana"), await register(http, "emil")
        rooms = [await _room(http, host) for host in hosts]
        assert (await _invite(http, hosts[0], rooms[0], dana)).status == 200
        assert (await _invite(http, hosts[1], rooms[1], dana)).status == 200
        message = await _limited(await _invite(http, hosts[2], rooms[2], dana), at_most=2)
        assert message.startswith("This person has received too many invites lately.")
        # Others may still be invited by the same host.
        assert (await _invite(http, hosts[2], rooms[2], emil)).status == 200
        assert [e.payload["inviteeId"] for e in events] == [dana.id, dana.id, emil.id]
        await asyncio.sleep(2.1)
        assert (await _invite(http, hosts[2], rooms[2], dana)).status == 200
        assert len(events) == 4
