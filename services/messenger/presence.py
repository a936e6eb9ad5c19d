"""Who is online in the messenger: ``user:online`` when a user's first connection opens,
``user:offline`` (and ``User.last_seen_at``) when the last one has been closed for the grace
period (``member_grace_seconds``, as in rooms: a reload does not flap), sent only to the
people who share a chat with them.

State lives in the ephemeral store (memory, or Redis shared by every process): per user a set
of connection ids (``<processId>:<sid>``) and an "online" flag. The flag is taken with
``set_if_absent``, so across processes exactly one connection announces a user online. The
grace timer runs on the process that saw the last connection close and re-checks the set
before anyone hears the user is gone.

Processes die without cleaning up (kill -9): each process indexes the users it holds
connections of (``msg-proc-users:<processId>``, and itself in ``msg-processes``), and every
live process sweeps, every ``presence_heartbeat_seconds``, the processes whose heartbeat key
(:func:`services.core.scheduler.alive_key`, kept by the presence heartbeat every process runs)
expired: their connections count as closed, through the same grace as a disconnect
(:func:`do_sweep_dead_processes`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from models.users import User
from services.core.context import Services
from services.core.scheduler import alive_key
from services.core.state import STORE_ERRORS, warn_store_down
from services.messenger import events as ev
from services.messenger.access import get_contact_ids, now

#: A backstop: connection sets and flags expire this long after their last change.
PRESENCE_TTL = 24 * 3600.0


def _conns_key(user_id: int) -> str:
    return f"msg-conns:{user_id}"


def _online_key(user_id: int) -> str:
    return f"msg-online:{user_id}"


PROCESSES_KEY = "msg-processes"
SWEEP_JOB = "msg-presence-sweep"


def _users_key(process_id: str) -> str:
    return f"msg-proc-users:{process_id}"


def _away_job(user_id: int) -> str:
    return f"msg-away:{user_id}"


def _conn(services: Services, conn_id: str) -> str:
    return f"{services.scheduler.process_id}:{conn_id}"


def presence_payload(user_id: int, *, online: bool, last_seen_at: Any) -> dict[str, Any]:
    return {
        "userId": user_id,
        "isOnline": online,
        "lastSeenAt": last_seen_at.isoformat() if last_seen_at is not None else None,
    }


async def is_online(services: Services, user_id: int) -> bool:
    try:
        return await services.state.get(_online_key(user_id)) is not None
    except STORE_ERRORS as exc:
        warn_store_down("messenger presence", exc)
        return False


async def get_online(services: Services, user_ids: list[int]) -> set[int]:
    flags = await asyncio.gather(*(is_online(services, uid) for uid in user_ids))
    return {uid for uid, online in zip(user_ids, flags, strict=True) if online}


async def _tell_contacts(services: Services, user_id: int, event_type: str, payload: dict) -> None:
    contacts = await get_contact_ids(user_id)
    await asyncio.gather(
        *(
            services.events.publish(ev.OriginEvent(event_type, payload, scope=ev.user_scope(c)))
            for c in contacts
        )
    )


async def do_connect(services: Services, *, user_id: int, conn_id: str) -> bool:
    """A connection of ``user_id`` opened. True when it made them online (their contacts hear
    ``user:online``); a reconnect inside the grace period changes nothing."""
    services.scheduler.cancel(_away_job(user_id))
    process_id = services.scheduler.process_id
    await services.state.set_add(PROCESSES_KEY, process_id, ttl=PRESENCE_TTL)
    await services.state.set_add(_users_key(process_id), str(user_id), ttl=PRESENCE_TTL)
    await services.state.set_add(_conns_key(user_id), _conn(services, conn_id), ttl=PRESENCE_TTL)
    became = await services.state.set_if_absent(_online_key(user_id), "1", ttl=PRESENCE_TTL)
    if became:
        await _tell_contacts(
            services,
            user_id,
            ev.USER_ONLINE,
            presence_payload(user_id, online=True, last_seen_at=None),
        )
    return became


async def do_disconnect(services: Services, *, user_id: int, conn_id: str) -> None:
    """A connection closed; the user's last one starts the grace period."""
    await services.state.set_remove(_conns_key(user_id), _conn(services, conn_id))
    if not await services.state.set_members(_conns_key(user_id)):
        _schedule_away(services, user_id)


def _schedule_away(services: Services, user_id: int) -> None:
    services.scheduler.call_later(
        _away_job(user_id),
        services.settings.member_grace_seconds,
        lambda: do_go_offline_if_away(services, user_id),
    )


async def do_go_offline_if_away(services: Services, user_id: int) -> bool:
    """After the grace: offline unless a connection (on any process) came back. True when
    the user went offline."""
    conns = _conns_key(user_id)
    if await services.state.set_members(conns):
        return False
    await services.state.delete(_online_key(user_id))
    if await services.state.set_members(conns):
        # Reconnected meanwhile: put the flag back (whoever took it already said online).
        await services.state.set_if_absent(_online_key(user_id), "1", ttl=PRESENCE_TTL)
        return False
    seen = now()
    await User.filter(id=user_id).update(last_seen_at=seen)
    await _tell_contacts(
        services,
        user_id,
        ev.USER_OFFLINE,
        presence_payload(user_id, online=False, last_seen_at=seen),
    )
    return True


# --- processes that died without cleaning up ---------------------------------------------------


def start_sweeping(services: Services) -> None:
    """Sweep dead processes every ``presence_heartbeat_seconds`` (composition, at start)."""
    services.scheduler.call_every(
        SWEEP_JOB,
        services.settings.presence_heartbeat_seconds,
        lambda: do_sweep_dead_processes(services),
    )


async def do_sweep_dead_processes(services: Services) -> list[str]:
    """Treat the connections of every process whose heartbeat expired as closed: users left
    without a connection go offline after the grace (this process holds their timers now).
    Returns the swept process ids. Safe on several processes at once: the grace re-checks."""
    me = services.scheduler.process_id
    swept = []
    try:
        processes = await services.state.set_members(PROCESSES_KEY)
    except STORE_ERRORS as exc:
        warn_store_down("messenger presence", exc)
        return swept
    for process_id in processes:
        if process_id == me or await services.state.get(alive_key(process_id)) is not None:
            continue
        prefix = f"{process_id}:"
        for raw in await services.state.set_members(_users_key(process_id)):
            if not raw.isdigit():
                continue
            user_id = int(raw)
            conns = await services.state.set_members(_conns_key(user_id))
            for conn in [c for c in conns if c.startswith(prefix)]:
                await services.state.set_remove(_conns_key(user_id), conn)
            if not await services.state.set_members(_conns_key(user_id)):
                _schedule_away(services, user_id)
        await services.state.delete(_users_key(process_id))
        await services.state.set_remove(PROCESSES_KEY, process_id)
        swept.append(process_id)
    return swept
