"""Room real time: join snapshot, presence, playback commands, queue (docs/rooms-protocol.md).

Handlers parse, resolve the user and the room, call one ``services`` function and return the
ack. Commands pass their socket id as ``origin`` so the hub skips that socket for the
``room:state`` they cause (its ack carries the state). Sockets leave ``room:<id>`` when their
user leaves or is kicked and when the room closes (``leave_room``/``close_room`` go through the
client manager, so through Redis to every process).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, TypeVar

from models.rooms import Room
from models.users import User
from services.accounts.users import get_user
from services.core.errors import Forbidden, ValidationError
from services.core.events import Event
from services.rooms import contract as c
from services.rooms import events as ev
from services.rooms import playback, presence, queue
from services.rooms.access import access_room, get_room, room_scope
from services.rooms.chat import forget_senders
from services.rooms.membership import do_leave_room
from services.rooms.snapshot import get_room_snapshot
from signaling.payloads import parse

if TYPE_CHECKING:
    from signaling.hub import Hub

#: A reported round trip replaces the stored one only when it moved by more than this (ms),
#: so steady ``presence:rtt`` reports do not touch the shared store.
RTT_CHANGE_MS = 20.0

E = TypeVar("E", bound=c.RoomEvent)

log = logging.getLogger(__name__)


async def room_actor(hub: Hub, sid: str, model: type[E], data: Any) -> tuple[E, User, Room]:
    """The event's payload as its contract ``model``, the acting user and the room it names
    (chat events use it too)."""
    payload = parse(model, data)
    room = await access_room(payload.room_id)
    user = await get_user(await hub.user_id(sid))
    if user is None:
        raise Forbidden()
    return payload, user, room


def _joined_room(session: dict[str, Any], ref: int | str) -> int | None:
    """The id of the room named by ``ref`` (id or code) if this socket joined it."""
    rooms: dict[int, str] = session.get("rooms", {})
    return next((i for i, c in rooms.items() if str(ref) in (str(i), c)), None)


async def _leave_sio_room(hub: Hub, sids: list[str], room_id: int) -> None:
    for sid in sids:
        await hub.sio.leave_room(sid, room_scope(room_id))


def register(hub: Hub) -> None:
    """Register the room events on the hub (see docs/rooms-protocol.md)."""
    services = hub.services

    @hub.event(ev.ROOM_JOIN, ordered=True)
    async def room_join(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        data, user, room = await room_actor(hub, sid, c.RoomJoin, data)
        await presence.do_enter_room(
            services,
            room=room,
            acting_user=user,
            conn_id=sid,
            invite_code=data.invite_code,
            rtt=presence.check_rtt(data.rtt),
        )
        await hub.sio.enter_room(sid, room_scope(room.id))
        async with hub.sio.session(sid) as session:
            session.setdefault("rooms", {})[room.id] = room.code
        if not hub.sio.manager.is_connected(sid, "/"):
            # Disconnected while joining: the disconnect hook may have run before we got here.
            await presence.do_disconnect(services, room, user_id=user.id, conn_id=sid)
            return {}
        return await get_room_snapshot(services, room, viewer=user, with_members=False)

    @hub.event(ev.ROOM_LEAVE, ordered=True)
    async def room_leave(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        _, user, room = await room_actor(hub, sid, c.RoomEvent, data)
        await do_leave_room(services, room=room, acting_user=user)
        # Not a member any more (or never was): make sure this socket is out as well.
        sids = await presence.do_forget_user(services, room, user.id)
        await _leave_sio_room(hub, [sid, *(s for s in sids if s != sid)], room.id)
        async with hub.sio.session(sid) as session:
            session.get("rooms", {}).pop(room.id, None)
        return {}

    @hub.event(ev.ROOM_UNWATCH, ordered=True)
    async def room_unwatch(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        """This socket stops watching the room (the client went back to the rooms list): the
        room's events stop reaching it, but leaving the page is not leaving the room. Its user
        stays present while the socket is connected; the member (and host) grace starts only
        when they leave or their last connection drops (the disconnect hook still covers this
        room). A room this socket is not in is a no-op (the call is idempotent)."""
        ref = parse(c.RoomEvent, data).room_id
        async with hub.sio.session(sid) as session:
            room_id = _joined_room(session, ref)
        if room_id is not None:
            await hub.sio.leave_room(sid, room_scope(room_id))
        return {}

    @hub.event(ev.PRESENCE_RTT)
    async def presence_rtt(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(c.PresenceRtt, data)
        rtt = presence.check_rtt(payload.rtt)
        if rtt is None:
            raise ValidationError(field="rtt", reason="0-10000 ms")
        ref = payload.room_id
        async with hub.sio.session(sid) as session:
            room_id = _joined_room(session, ref)
            if room_id is None:
                raise Forbidden(reason="join the room first")
            code = session["rooms"][room_id]
            last = session.setdefault("rtt", {}).get(room_id)
            if last is not None and abs(last - rtt) <= RTT_CHANGE_MS:
                return {}
            session["rtt"][room_id] = rtt
        room = presence.ref(room_id, code)
        await presence.do_set_rtt(services, room, conn_id=sid, rtt=rtt)
        return {}

    # --- playback ---

    @hub.event(ev.PLAYER_PLAY)
    async def player_play(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        data, user, room = await room_actor(hub, sid, c.PlayerPlay, data)
        state = await playback.do_play(
            services, room=room, acting_user=user, position=data.position, origin=sid
        )
        return {"playback": state}

    @hub.event(ev.PLAYER_PAUSE)
    async def player_pause(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        data, user, room = await room_actor(hub, sid, c.PlayerPlay, data)
        state = await playback.do_pause(
            services, room=room, acting_user=user, position=data.position, origin=sid
        )
        return {"playback": state}

    @hub.event(ev.PLAYER_SEEK)
    async def player_seek(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        data, user, room = await room_actor(hub, sid, c.PlayerSeek, data)
        state = await playback.do_seek(
            services, room=room, acting_user=user, position=data.position, origin=sid
        )
        return {"playback": state}

    @hub.event(ev.PLAYER_RATE)
    async def player_rate(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        data, user, room = await room_actor(hub, sid, c.PlayerRate, data)
        state = await playback.do_set_rate(
            services, room=room, acting_user=user, rate=data.rate, origin=sid
        )
        return {"playback": state}

    @hub.event(ev.PLAYER_LOAD)
    async def player_load(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        data, user, room = await room_actor(hub, sid, c.PlayerLoad, data)
        url = data.url
        state = await queue.do_load(
            services,
            room=room,
            acting_user=user,
            media_id=data.media_id if url is None else None,
            url=url,
            origin=sid,
        )
        return {"playback": state, "queue": await queue.get_queue(room)}

    @hub.event(ev.PLAYER_ENDED)
    async def player_ended(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        data, user, room = await room_actor(hub, sid, c.MediaEvent, data)
        await queue.do_media_ended(services, room=room, acting_user=user, media_id=data.media_id)
        return {}

    # --- queue ---

    @hub.event(ev.QUEUE_ADD)
    async def queue_add(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        data, user, room = await room_actor(hub, sid, c.QueueAdd, data)
        item = await queue.do_enqueue(services, room=room, acting_user=user, url=data.url)
        return {"item": queue.media_payload(item, user), "queue": await queue.get_queue(room)}

    @hub.event(ev.QUEUE_REMOVE)
    async def queue_remove(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        data, user, room = await room_actor(hub, sid, c.MediaEvent, data)
        items = await queue.do_queue_remove(
            services, room=room, acting_user=user, media_id=data.media_id
        )
        return {"queue": items}

    @hub.event(ev.QUEUE_REORDER)
    async def queue_reorder(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        data, user, room = await room_actor(hub, sid, c.QueueReorder, data)
        items = await queue.do_queue_reorder(
            services, room=room, acting_user=user, media_ids=data.media_ids
        )
        return {"queue": items}

    @hub.event(ev.QUEUE_NEXT)
    async def queue_next(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        data, user, room = await room_actor(hub, sid, c.RoomEvent, data)
        state = await queue.do_queue_next(services, room=room, acting_user=user, origin=sid)
        return {"playback": state, "queue": await queue.get_queue(room)}

    @hub.event(ev.QUEUE_VOTE_SKIP)
    async def queue_vote_skip(hub: Hub, sid: str, data: Any) -> dict[str, Any]:
        _, user, room = await room_actor(hub, sid, c.RoomEvent, data)
        return await queue.do_vote_skip(services, room=room, acting_user=user)

    # --- connection lifecycle and room membership changes ---

    async def on_disconnect(sid: str) -> None:
        session = await hub.sio.get_session(sid)
        user_id = session.get("user_id")
        for room_id, code in dict(session.get("rooms", {})).items():
            await presence.do_disconnect(
                services, presence.ref(room_id, code), user_id=user_id, conn_id=sid
            )

    async def on_user_out(event: Event) -> None:
        """Left or kicked: that user's sockets stop receiving the room's events."""
        room_id, user_id = event.payload["roomId"], event.payload["userId"]
        room = await get_room(room_id)
        if room is not None:
            sids = await presence.do_forget_user(services, room, user_id)
            await _leave_sio_room(hub, sids, room_id)

    async def on_room_closed(event: Event) -> None:
        room = await get_room(event.payload["roomId"])
        if room is not None:
            await presence.do_clear_room(services, room)
        await hub.sio.close_room(room_scope(event.payload["roomId"]))

    async def on_state_restored(event: Event) -> None:
        """The store is back (perhaps empty): put this process's connections back into each
        room's presence, the rooms' clocks back from their durable copy, and send each room's
        clock to its sockets here (their ``seq`` did not go backwards, so clients apply it)."""
        rooms: dict[tuple[int, str], dict[int, dict[str, float | None]]] = {}
        for sid, _ in list(hub.sio.manager.get_participants("/", None)):
            try:
                session = await hub.sio.get_session(sid)
            except KeyError:  # gone meanwhile
                continue
            user_id = session.get("user_id")
            if user_id is None:
                continue
            rtts = session.get("rtt", {})
            for room_id, code in dict(session.get("rooms", {})).items():
                conns = rooms.setdefault((room_id, code), {}).setdefault(int(user_id), {})
                conns[sid] = rtts.get(room_id)
        for (room_id, code), conns in rooms.items():
            ref = presence.ref(room_id, code)
            try:
                if not await presence.do_restore_connections(services, ref, conns):
                    continue  # closed, or none of these users is a member any more
                state = await playback.do_restore_clock(services, ref)  # type: ignore[arg-type]
                # Invalidations (a kick, a role change) may have missed a store that was away.
                await forget_senders(services, room_id)
            except Exception:
                log.exception("could not restore room %s after the store came back", room_id)
                continue
            # Only this process's sockets: every process restores and re-sends its own.
            await hub.sio.emit(
                ev.ROOM_STATE,
                {"roomId": room_id, "playback": state},
                room=room_scope(room_id),
                ignore_queue=True,
            )
        if rooms:
            log.info("restored the presence and clocks of %d rooms", len(rooms))

    hub.on_disconnect(on_disconnect)
    hub.after_emit(presence.STATE_RESTORED, on_state_restored)
    hub.after_emit(ev.PARTICIPANT_LEFT, on_user_out)
    hub.after_emit(ev.ROOM_KICKED, on_user_out)
    hub.after_emit(ev.ROOM_CLOSED, on_room_closed)
