"""The playback clock and queue as services: clock arithmetic, bounds, lead, restart recovery."""

from __future__ import annotations

import aiohttp
import pytest

from models.users import User
from services.core.errors import ValidationError
from services.core.events import Event
from services.rooms.membership import do_create_room
from services.rooms.playback import (
    check_rate,
    do_play,
    expected_position,
    get_lead_ms,
    get_playback,
)
from services.rooms.presence import do_connect
from services.rooms.queue import do_enqueue, do_load, get_queue
from tests.conftest import ServerFactory, register
from tests.signaling.test_rooms import YT, YT2, in_server


def test_expected_position_waits_for_a_scheduled_start() -> None:
    state = {"status": "playing", "position": 10.0, "rate": 2.0, "updatedAt": 1_000_000.0}
    assert expected_position(state, 999_000.0) == 10.0  # before the scheduled start
    assert expected_position(state, 1_001_500.0) == 13.0
    paused = {**state, "status": "paused"}
    assert expected_position(paused, 2_000_000.0) == 10.0


@pytest.mark.parametrize("rate", [0.25, 1, 2])
def test_rate_inside_bounds(rate: float) -> None:
    assert check_rate(rate) == rate


@pytest.mark.parametrize("rate", [0.2, 2.5, -1, "1", True, float("nan")])
def test_rate_outside_bounds(rate: object) -> None:
    with pytest.raises(ValidationError):
        check_rate(rate)


async def test_lead_is_twice_the_highest_rtt_within_bounds(make_server: ServerFactory) -> None:
    server = await make_server()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")

    async def scenario() -> list[float]:
        services = server.services
        room = await do_create_room(services, acting_user=await User.get(id=anna.id))
        leads = [await get_lead_ms(services, room)]
        await do_connect(services, room, user_id=anna.id, conn_id="a", rtt=100)
        leads.append(await get_lead_ms(services, room))
        await do_connect(services, room, user_id=anna.id, conn_id="b", rtt=400)
        leads.append(await get_lead_ms(services, room))
        await do_connect(services, room, user_id=anna.id, conn_id="c", rtt=5000)
        leads.append(await get_lead_ms(services, room))
        return leads

    assert await in_server(server, scenario) == [300, 300, 800, 1500]


async def test_commands_publish_state_with_their_origin(make_server: ServerFactory) -> None:
    server = await make_server()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")
    seen: list[Event] = []

    async def scenario() -> dict:
        services = server.services

        async def record(event: Event) -> None:
            seen.append(event)

        services.events.subscribe("room:state", record)
        user = await User.get(id=anna.id)
        room = await do_create_room(services, acting_user=user, media_url=YT)
        return await do_play(services, room=room, acting_user=user, origin="sid-1")

    state = await in_server(server, scenario)
    assert [getattr(e, "origin", None) for e in seen] == [None, "sid-1"]
    assert seen[-1].payload["playback"] == state


async def test_restart_keeps_the_current_item(make_server: ServerFactory) -> None:
    server = await make_server()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna")

    async def before() -> tuple[int, int]:
        services = server.services
        user = await User.get(id=anna.id)
        room = await do_create_room(services, acting_user=user, media_url=YT)
        second = await do_enqueue(services, room=room, acting_user=user, url=YT2 + "?t=42")
        await do_load(services, room=room, acting_user=user, media_id=second.id)
        await do_play(services, room=room, acting_user=user)
        return room.id, second.id

    room_id, second_id = await in_server(server, before)
    await server.stop()
    again = await make_server()  # same database, fresh memory store

    async def after() -> tuple[dict, list]:
        from models.rooms import Room

        room = await Room.get(id=room_id)
        return await get_playback(again.services, room), await get_queue(room)

    playback, queue = await in_server(again, after)
    assert playback["mediaId"] == second_id
    assert playback["status"] == "paused"
    assert playback["position"] == 42
    assert [item["id"] for item in queue] == [second_id]
