"""A process that dies without cleaning up (kill -9): its heartbeat expires, a live process
sweeps its connections, and the room sees what a disconnect would have shown: the member leaves
after the grace, the host's absence closes the room. With the in-memory store and with Redis.

The dead process is simulated in the test: the server's services with a scheduler of its own
(another process id) write presence into the same store, beat once, and then never again.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from composition import Server
from models.users import User
from services.core.context import Services
from services.core.scheduler import Scheduler
from services.rooms.membership import do_leave_room
from services.rooms.presence import do_disconnect, do_enter_room, do_heartbeat
from signaling.hub import close_sio
from tests.conftest import REDIS_URL, Account, ServerFactory, SioFactory
from tests.signaling.test_rooms import connect, create_room, eventually, in_server, join
from tests.signaling.test_rooms_redis import subscribed
from webapp.keys import SIO

FAST = {
    "presence_heartbeat_seconds": 0.1,
    "presence_heartbeat_ttl_seconds": 0.4,
    "member_grace_seconds": 0.2,
    "host_grace_seconds": 0.3,
}


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def fast_server(
    request: pytest.FixtureRequest, make_server: ServerFactory
) -> AsyncIterator[Server]:
    if request.param == "memory":
        yield await make_server(**FAST)
        return
    server = await make_server(redis_url=REDIS_URL, **FAST)
    yield server
    await close_sio(server.app[SIO])


@pytest.fixture
async def dead_process(fast_server: Server) -> AsyncIterator[Services]:
    """Another process on the same store (same bus and database in this test). It beats until
    the test kills it (:func:`kill`): a single beat could expire during a slow set-up (a busy
    machine, tests in parallel), and a process swept before it entered the room would never
    be swept again."""
    assert fast_server.services is not None
    other = dataclasses.replace(fast_server.services, scheduler=Scheduler())
    assert other.scheduler.process_id != fast_server.services.scheduler.process_id

    async def beat() -> None:  # in the server's context: a sweep reads the database
        await do_heartbeat(other)
        other.scheduler.call_every(
            "test-heartbeat", FAST["presence_heartbeat_seconds"], lambda: do_heartbeat(other)
        )

    await fast_server.run(beat())
    yield other
    await other.scheduler.close()


async def kill(process: Services) -> None:
    """kill -9: no more beats, and the timers it held are gone."""
    await process.scheduler.close()


async def connect_first(server: Server, sio_client: SioFactory, account: Account) -> Any:
    """A socket on the live server; with Redis, wait for its pub/sub listener before any emit."""
    rec = await connect(sio_client, account, url=server.url)
    if server.settings.redis_url:
        await subscribed(server)
    return rec


async def enter_elsewhere(
    server: Server, other: Services, room: Any, account: Account, conn_id: str
) -> None:
    async def go() -> None:
        user = await User.get(id=account.id)
        await do_enter_room(other, room=room, acting_user=user, conn_id=conn_id)

    await in_server(server, go)


async def test_member_of_a_dead_process_leaves_after_the_grace(
    fast_server: Server,
    dead_process: Services,
    sio_client: SioFactory,
    anna: Account,
    boris: Account,
) -> None:
    host = await connect_first(fast_server, sio_client, anna)
    room = await create_room(fast_server, anna)
    await join(host, room)
    await enter_elsewhere(fast_server, dead_process, room, boris, "ghost-1")
    await eventually(lambda: len(host.of("participant:joined")) == 1)
    snap = await join(host, room)
    assert {p["user"]["id"] for p in snap["participants"]} == {anna.id, boris.id}

    # Its heartbeat holds: Boris is present.
    await asyncio.sleep(0.15)
    assert host.of("participant:left") == []
    await kill(dead_process)

    # No more beats: within TTL + a sweep + the member grace he is gone, as after a disconnect.
    await eventually(
        lambda: host.of("participant:left") == [{"roomId": room.id, "userId": boris.id}],
        within=3.0,
    )
    snap = await join(host, room)
    assert [p["user"]["id"] for p in snap["participants"]] == [anna.id]
    assert snap["room"]["memberCount"] == 1


async def test_host_of_a_dead_process_closes_the_room_after_the_host_grace(
    fast_server: Server,
    dead_process: Services,
    sio_client: SioFactory,
    anna: Account,
    boris: Account,
) -> None:
    guest = await connect_first(fast_server, sio_client, boris)
    room = await create_room(fast_server, anna)
    await enter_elsewhere(fast_server, dead_process, room, anna, "ghost-host")
    await join(guest, room)
    await kill(dead_process)
    await eventually(
        lambda: guest.of("participant:left") == [{"roomId": room.id, "userId": anna.id}],
        within=3.0,
    )
    assert guest.of("room:closed") == []
    await eventually(
        lambda: guest.of("room:closed") == [{"roomId": room.id, "reason": "host_left"}],
        within=3.0,
    )
    ack = await guest.call("room:join", {"roomId": room.id})
    assert ack["error"]["code"] == "not_found"


async def test_grace_timer_lost_with_its_process_is_taken_over(
    fast_server: Server,
    dead_process: Services,
    sio_client: SioFactory,
    anna: Account,
    boris: Account,
) -> None:
    """Boris dropped while his process lived; it died before his grace ran out."""
    host = await connect_first(fast_server, sio_client, anna)
    room = await create_room(fast_server, anna)
    await join(host, room)
    await enter_elsewhere(fast_server, dead_process, room, boris, "ghost-2")
    await fast_server.run(do_disconnect(dead_process, room, user_id=boris.id, conn_id="ghost-2"))
    await kill(dead_process)
    await eventually(
        lambda: host.of("participant:left") == [{"roomId": room.id, "userId": boris.id}],
        within=3.0,
    )


async def test_host_grace_lost_with_its_process_is_taken_over(
    fast_server: Server,
    dead_process: Services,
    sio_client: SioFactory,
    anna: Account,
    boris: Account,
) -> None:
    """Anna (host) left through the dead process; it died before her grace ran out."""
    guest = await connect_first(fast_server, sio_client, boris)
    room = await create_room(fast_server, anna)
    await enter_elsewhere(fast_server, dead_process, room, anna, "ghost-3")
    await join(guest, room)

    async def leave() -> None:
        await do_leave_room(dead_process, room=room, acting_user=await User.get(id=anna.id))

    await in_server(fast_server, leave)
    await kill(dead_process)  # its host-away timer dies with it
    await eventually(
        lambda: guest.of("room:closed") == [{"roomId": room.id, "reason": "host_left"}],
        within=3.0,
    )


async def test_a_live_process_is_never_swept(
    fast_server: Server, sio_client: SioFactory, anna: Account, boris: Account
) -> None:
    host = await connect_first(fast_server, sio_client, anna)
    room = await create_room(fast_server, anna)
    await join(host, room)
    assert fast_server.services is not None
    # A connection of this very process, written straight into presence: it beats, so it stays.
    await enter_elsewhere(fast_server, fast_server.services, room, boris, "quiet-socket")
    await asyncio.sleep(1.0)  # more than twice the heartbeat TTL
    assert host.of("participant:left") == []
    snap = await join(host, room)
    assert boris.id in {p["user"]["id"] for p in snap["participants"]}
