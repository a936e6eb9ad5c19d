"""Presence in the ephemeral store: one person however many connections, RTTs, forgetting."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from pathlib import Path

import pytest

from services.core.context import Services
from services.core.scheduler import Scheduler
from services.rooms.presence import (
    check_rtt,
    do_clear_room,
    do_connect,
    do_disconnect,
    do_forget_user,
    do_heartbeat,
    do_set_rtt,
    do_sweep_dead_processes,
    get_connected_user_ids,
    get_max_rtt,
    get_present_user_ids,
    ref,
    state_lock,
)
from tests.conftest import REDIS_URL
from tests.conftest import test_settings as make_settings


@pytest.fixture
async def services(tmp_path: Path):
    built = Services.build(make_settings(tmp_path, member_grace_seconds=60))
    yield built
    await built.close()


async def test_connections_of_one_user_count_once(services: Services) -> None:
    room = ref(1, "AbCdEfGh")
    assert await do_connect(services, room, user_id=7, conn_id="a") is True
    assert await do_connect(services, room, user_id=7, conn_id="b") is False
    assert await do_connect(services, room, user_id=8, conn_id="c", rtt=120) is True
    assert sorted(await get_present_user_ids(services, room)) == [7, 8]

    await do_disconnect(services, room, user_id=7, conn_id="a")
    assert await get_connected_user_ids(services, room) == {7, 8}
    await do_disconnect(services, room, user_id=7, conn_id="b")
    # Last connection gone: still a participant during the grace, but not connected.
    assert sorted(await get_present_user_ids(services, room)) == [7, 8]
    assert await get_connected_user_ids(services, room) == {8}
    assert services.scheduler.pending("member-away:1:AbCdEfGh:7")
    # Coming back inside the grace is not a new arrival and cancels the leave.
    assert await do_connect(services, room, user_id=7, conn_id="d") is False
    assert not services.scheduler.pending("member-away:1:AbCdEfGh:7")


async def test_rtt_and_forgetting(services: Services) -> None:
    room = ref(2, "ZyXwVuTs")
    await do_connect(services, room, user_id=1, conn_id="a", rtt=80)
    await do_connect(services, room, user_id=2, conn_id="b")
    assert await get_max_rtt(services, room) == 80
    await do_set_rtt(services, room, conn_id="b", rtt=250)
    assert await get_max_rtt(services, room) == 250
    assert await do_forget_user(services, room, 2) == ["b"]
    assert await get_max_rtt(services, room) == 80
    assert await do_clear_room(services, room) == ["a"]
    assert await get_present_user_ids(services, room) == []


async def test_rooms_with_the_same_id_but_another_code_do_not_mix(services: Services) -> None:
    await do_connect(services, ref(3, "OldRoom1"), user_id=1, conn_id="a")
    assert await get_present_user_ids(services, ref(3, "NewRoom2")) == []


async def test_sweep_drops_the_connections_of_a_dead_process_only(
    services: Services, tmp_path: Path
) -> None:
    short = make_settings(
        tmp_path, presence_heartbeat_seconds=0.05, presence_heartbeat_ttl_seconds=0.1
    )
    other = dataclasses.replace(services, settings=short, scheduler=Scheduler())
    room = ref(4, "SweepMe2")
    await do_heartbeat(other)
    await do_heartbeat(services)
    await do_connect(other, room, user_id=1, conn_id="x", rtt=90)
    await do_connect(other, room, user_id=2, conn_id="y", rtt=300)
    await do_connect(services, room, user_id=2, conn_id="z", rtt=40)
    assert await do_sweep_dead_processes(services) == []  # both alive
    await asyncio.sleep(0.15)  # the other one's heartbeat expires

    assert await do_sweep_dead_processes(services) == [other.scheduler.process_id]
    # User 1 lost his only connection: away, inside the grace (this process holds the timer).
    assert await get_connected_user_ids(services, room) == {2}
    assert sorted(await get_present_user_ids(services, room)) == [1, 2]
    assert services.scheduler.pending("member-away:4:SweepMe2:1")
    assert await get_max_rtt(services, room) == 40
    assert await do_sweep_dead_processes(services) == []  # once
    await other.scheduler.close()


@pytest.mark.parametrize(
    ("raw", "value"),
    [(0, 0.0), (35.5, 35.5), (-1, None), (True, None), ("9", None), (10_001, None)],
)
def test_check_rtt(raw: object, value: float | None) -> None:
    assert check_rtt(raw) == value


async def test_a_join_waits_out_a_slow_holder_of_the_room_lock(services: Services) -> None:
    """A busy process can hold a room's presence for seconds during a join storm; the next
    join queues behind it instead of answering "the room is busy"."""
    room = ref(3, "SlowLock")
    entered = asyncio.Event()

    async def slow_holder() -> None:
        async with state_lock(services, "presence:3:SlowLock"):
            entered.set()
            await asyncio.sleep(3.5)

    holder = asyncio.create_task(slow_holder())
    await entered.wait()
    assert await do_connect(services, room, user_id=5, conn_id="late") is True
    await holder
    assert await get_connected_user_ids(services, room) == {5}


@pytest.mark.redis
async def test_a_burst_of_joins_on_redis_counts_everyone(tmp_path: Path) -> None:
    built = Services.build(make_settings(tmp_path, redis_url=REDIS_URL))
    try:
        room = ref(4, "Burst" + secrets.token_hex(3))
        joined = await asyncio.gather(
            *(do_connect(built, room, user_id=u, conn_id=f"c{u}") for u in range(1, 101))
        )
        assert all(joined)
        assert await get_connected_user_ids(built, room) == set(range(1, 101))
        await do_clear_room(built, room)
    finally:
        await built.close()
