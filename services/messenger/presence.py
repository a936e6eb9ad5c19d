"""Who is online in the messenger: ``user:online`` when a user's first connection opens,
``user:offline`` (and ``User.last_seen_at``) when the last one has been closed for the grace
period (``member_grace_seconds``, as in rooms: a reload does not flap), sent only to the
people who share a chat with them.

State lives in the ephemeral store (memory, or Redis shared by every process): per user a set
of connection ids (``<processId>:<sid>``) and an "online" flag. The flag is taken with
``set_if_absent``, so across processes exactly one connection announces a user online. The
grace timer runs on the process that saw the last connection close and re-checks the set
before anyone hears the user is gone.

Not built yet: a process killed without closing its sockets leaves its connections in the set
(the rooms' presence sweeps dead processes by heartbeat; the messenger does not yet), so such a
user shows online until the set expires (:data:`PRESENCE_TTL`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from models.users import User
from services.core.context import Services
from services.core.state import STORE_ERRORS, warn_store_down
from services.messenger import events as ev
from services.messenger.access import get_contact_ids, now

#: A backstop: connection sets and flags expire this long after their last change.
PRESENCE_TTL = 24 * 3600.0


def _conns_key(user_id: int) -> str:
    return f"msg-conns:{user_id}"


def _online_key(user_id: int) -> str:
    return f"msg-online:{user_id}"


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
