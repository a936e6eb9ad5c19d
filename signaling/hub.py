"""The Socket.IO server: one connection per client, JWT in the ``auth`` payload.

Every client event is acknowledged with ``{"ok": true, ...}`` or ``{"ok": false, "error":
{code, message}}``; :func:`event` is the one place Socket.IO maps domain errors. Domain events
published on the bus with a ``scope`` are emitted to that Socket.IO room.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import socketio
from aiohttp import WSCloseCode

from services.accounts.auth import authenticate
from services.accounts.users import pick_language
from services.core import text
from services.core.context import Services
from services.core.contract import SESSION_EXPIRED, SESSION_REVOKED
from services.core.db import as_unavailable
from services.core.errors import N_, AppError, Unauthorized, UnknownEvent
from services.core.events import Event
from services.core.i18n import error_body, load_translations, negotiate
from services.core.languages import DEFAULT_LANGUAGE
from signaling import chat, clock, messenger, rooms, wallet
from signaling.manager import (
    FrameOnceManager,
    FrameOnceRedisManager,
    install_direct_websocket,
)

log = logging.getLogger(__name__)

EventHandler = Callable[["Hub", str, Any], Awaitable[dict[str, Any] | None]]
DisconnectHook = Callable[[str], Awaitable[None]]
ConnectHook = Callable[[str, int], Awaitable[None]]
EventHook = Callable[[Event], Awaitable[None]]


#: What a socket's WSGI-style environ keeps once it is connected (see :func:`_trim_environ`).
ENVIRON_KEPT = frozenset(
    {
        "REQUEST_METHOD",
        "PATH_INFO",
        "QUERY_STRING",
        "REMOTE_ADDR",
        "HTTP_X_FORWARDED_FOR",
        "HTTP_X_REAL_IP",
        "HTTP_USER_AGENT",
        "aiohttp.request",
    }
)


def _trim_environ(environ: dict[str, Any]) -> None:
    """Drop all but :data:`ENVIRON_KEPT` from a connected socket's environ, in place.

    engineio builds the environ (every request header again, as ``HTTP_*`` strings) and
    python-socketio keeps it for the socket's lifetime (``sio.get_environ``), ~1.5 KB per
    connection; nothing here reads it after ``connect``. ``clear()`` frees the dict's table."""
    kept = {key: environ[key] for key in ENVIRON_KEPT if key in environ}
    environ.clear()
    environ.update(kept)


def socketio_channel(redis_url: str) -> str:
    """The pub/sub channel of the processes of one deployment. Redis shares pub/sub across its
    database numbers, so deployments on one server with different databases (``/1``, ``/2``)
    must not share a channel: each would deliver the other's room events."""
    db = urlsplit(redis_url).path.strip("/") or "0"
    return "vmeste-socketio" if db == "0" else f"vmeste-socketio-db{db}"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


class Hub:
    def __init__(self, services: Services) -> None:
        self.services = services
        #: Error messages go out in the user's language (stored in the session at connect).
        self.translations = load_translations()
        self._connect_hooks: list[ConnectHook] = []
        self._disconnect_hooks: list[DisconnectHook] = []
        self._after_emit: dict[str, list[EventHook]] = {}
        self._ordered: dict[str, asyncio.Lock] = {}
        #: Each socket's disconnect at its token's ``exp`` (cancelled when it disconnects).
        self._expiry: dict[str, asyncio.TimerHandle] = {}
        #: The context the expiry timers run in (the server's, with its ORM): one for all,
        #: instead of a copy per timer (call_at's default; ~0.1 KB per socket).
        self._timer_context = contextvars.copy_context()
        self._ending: set[asyncio.Task[None]] = set()
        manager = (
            FrameOnceRedisManager(
                services.settings.redis_url, channel=socketio_channel(services.settings.redis_url)
            )
            if services.settings.redis_url
            else FrameOnceManager()
        )
        self.sio = socketio.AsyncServer(
            async_mode="aiohttp",
            client_manager=manager,
            transports=["websocket"],
            max_http_buffer_size=64 * 1024,
            ping_interval=20,
            ping_timeout=20,
        )
        install_direct_websocket(self.sio)
        # Signing out everywhere: every process, once it delivered session:revoked to its
        # sockets in user:<id>, disconnects them (the event reaches them all through Redis).
        manager.disconnect_after = frozenset({SESSION_REVOKED})
        self.sio.on("connect", self._connect)
        self.sio.on("disconnect", self._disconnect)
        # Any event nobody registered: an error ack, not silence (the client would wait for
        # its timeout). The catch-all of every namespace (``namespace="*"``), so the default
        # namespace's handlers stay exactly the declared events; python-socketio calls it with
        # the event name and the namespace first, and only for events without a handler.
        self.sio.on("*", self._unknown_event, namespace="*")
        services.events.subscribe("*", self._fan_out)
        clock.register(self)
        rooms.register(self)
        chat.register(self)
        wallet.register(self)
        messenger.register(self)

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        accept = environ.get("HTTP_ACCEPT_LANGUAGE") if isinstance(environ, dict) else None
        refused_in = self.translations[negotiate(None, accept)]
        if not isinstance(token, str) or not token:
            error = Unauthorized(N_("A token is required in auth.token."))
            body = error_body(error, refused_in)
            raise socketio.exceptions.ConnectionRefusedError(body["message"], body)
        try:
            user, claims = await authenticate(self.services, token)
        except Unauthorized as exc:
            # The JS client sees err.message and err.data ({code, message}).
            body = error_body(exc, refused_in)
            raise socketio.exceptions.ConnectionRefusedError(body["message"], body) from None
        except Exception:
            # Anything else escaping here would leave the client waiting for its timeout.
            log.exception("socket connect failed")
            body = {"code": "internal_error", "message": "Internal server error."}
            raise socketio.exceptions.ConnectionRefusedError(body["message"], body) from None
        await self.sio.save_session(sid, {"user_id": user.id, "lang": pick_language(user)})
        await self.sio.enter_room(sid, user_room(user.id))
        if isinstance(environ, dict):
            _trim_environ(environ)
        self._schedule_expiry(sid, claims.expires_at)
        for hook in self._connect_hooks:
            try:
                await hook(sid, user.id)
            except Exception:  # presence is not worth refusing the connection for
                log.exception("connect hook failed for %s", sid)

    def _schedule_expiry(self, sid: str, expires_at: float) -> None:
        """Disconnect ``sid`` when its token expires: a socket lives no longer than the token
        it connected with (the client refreshes the token and connects again)."""
        loop = asyncio.get_running_loop()
        delay = max(0.0, expires_at - time.time())
        previous = self._expiry.pop(sid, None)
        if previous is not None:
            previous.cancel()
        self._expiry[sid] = loop.call_at(
            loop.time() + delay, self._expire, sid, context=self._timer_context
        )

    def _expire(self, sid: str) -> None:
        self._expiry.pop(sid, None)
        task = asyncio.get_running_loop().create_task(self._end_session(sid, "expired"))
        self._ending.add(task)
        task.add_done_callback(self._ending.discard)

    async def _end_session(self, sid: str, reason: str) -> None:
        """Tell the socket why (``session:expired``), then disconnect it (the client sees
        "io server disconnect" and reconnects with a fresh token)."""
        if not self.sio.manager.is_connected(sid, "/"):
            return
        try:
            await self.sio.emit(SESSION_EXPIRED, {"reason": reason}, to=sid, ignore_queue=True)
            await self.sio.disconnect(sid, ignore_queue=True)
        except Exception:
            log.exception("could not end the session of socket %s", sid)

    async def _disconnect(self, sid: str, reason: Any = None) -> None:
        self._ordered.pop(sid, None)
        expiry = self._expiry.pop(sid, None)
        if expiry is not None:
            expiry.cancel()
        for hook in self._disconnect_hooks:
            try:
                await hook(sid)
            except Exception:
                log.exception("disconnect hook failed for %s", sid)

    async def _unknown_event(
        self, event: Any, namespace: str, sid: str, *args: Any
    ) -> dict[str, Any]:
        name = text.clean(event[:64]) if isinstance(event, str) else "?"
        return {"ok": False, "error": await self._error_body(sid, UnknownEvent(event=name))}

    async def _error_body(self, sid: str, exc: AppError) -> dict[str, Any]:
        session = await self.sio.get_session(sid)
        return error_body(exc, self.translations[session.get("lang", DEFAULT_LANGUAGE)])

    def on_connect(self, hook: ConnectHook) -> None:
        """Run ``hook(sid, user_id)`` once a socket is connected (in ``user:<id>``)."""
        self._connect_hooks.append(hook)

    def on_disconnect(self, hook: DisconnectHook) -> None:
        """Run ``hook(sid)`` when a socket disconnects (its session is still readable)."""
        self._disconnect_hooks.append(hook)

    def after_emit(self, event_type: str, hook: EventHook) -> None:
        """Run ``hook(event)`` after a bus event of that type was emitted to its scope."""
        self._after_emit.setdefault(event_type, []).append(hook)

    async def user_id(self, sid: str) -> int:
        session = await self.sio.get_session(sid)
        return int(session["user_id"])

    def event(self, name: str, *, ordered: bool = False) -> Callable[[EventHandler], EventHandler]:
        """Register a client event whose result or domain error becomes the ack.

        python-socketio runs every event in its own task, so two events from one socket may
        interleave. ``ordered`` events of a socket run one after another, in arrival order
        (joining, leaving and unwatching a room: an unwatch followed at once by a join must
        not end with the socket out of the room)."""

        def decorator(fn: EventHandler) -> EventHandler:
            async def handle(sid: str, data: Any) -> dict[str, Any]:
                try:
                    result = await fn(self, sid, data)
                except AppError as exc:
                    return {"ok": False, "error": await self._error_body(sid, exc)}
                except Exception as exc:
                    unavailable = as_unavailable(exc)
                    if unavailable is not None:
                        log.warning("socket event %s: %s (%s)", name, unavailable.code, exc)
                        return {"ok": False, "error": await self._error_body(sid, unavailable)}
                    log.exception("socket event %s failed", name)
                    return {
                        "ok": False,
                        "error": {"code": "internal_error", "message": "Internal server error."},
                    }
                return {"ok": True, **(result or {})}

            # Extra arguments (``emit(name, a, b)``) are ignored rather than a TypeError that
            # would leave the client without an ack.
            async def handler(sid: str, data: Any = None, *_extra: Any) -> dict[str, Any]:
                if not ordered:
                    return await handle(sid, data)
                lock = self._ordered.get(sid)
                if lock is None:
                    lock = self._ordered[sid] = asyncio.Lock()
                async with lock:
                    return await handle(sid, data)

            self.sio.on(name, handler)
            return fn

        return decorator

    async def _fan_out(self, event: Event) -> None:
        if event.scope is not None:
            # Echo suppression: the connection whose command caused it has the result in its ack.
            origin = getattr(event, "origin", None)
            await self.sio.emit(event.type, event.payload, room=event.scope, skip_sid=origin)
        for hook in self._after_emit.get(event.type, ()):
            await hook(event)


#: How long a stopping server waits for its sockets' close handshakes and disconnect hooks.
CLOSE_WAIT_SECONDS = 5.0


async def close_connections(sio: socketio.AsyncServer) -> None:
    """Close every WebSocket with 1001 (going away) before the web server stops, and wait for
    their disconnects to run (at app shutdown).

    Clients reconnect at once (to another process, or to this one after a restart) inside
    the presence grace period, and each socket's disconnect hook runs while the database and
    Redis are still open. Without it aiohttp waits on the open handlers, then cancels them."""
    sockets = [s for s in sio.eio.sockets.values() if getattr(s, "direct_ws", None) is not None]
    # The read loop sees the client's close reply and ends its socket the usual way.
    closes = [
        s.direct_ws.close(code=WSCloseCode.GOING_AWAY, message=b"server restart") for s in sockets
    ]
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(CLOSE_WAIT_SECONDS):
            await asyncio.gather(*closes, return_exceptions=True)
            while any(not s.closed for s in sockets):  # noqa: ASYNC110 - no event to wait on
                await asyncio.sleep(0.05)


async def close_sio(sio: socketio.AsyncServer) -> None:
    """Stop the Redis client manager's listener and close its connections (at app cleanup):
    python-socketio's ``AsyncRedisManager`` never does, which leaks two Redis connections."""
    manager = sio.manager
    task = getattr(manager, "thread", None)
    if isinstance(task, asyncio.Task):
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    pubsub = getattr(manager, "pubsub", None)
    if pubsub is not None:
        await pubsub.aclose()
    redis = getattr(manager, "redis", None)
    if redis is not None:
        await redis.aclose()


def create_sio(services: Services) -> socketio.AsyncServer:
    return Hub(services).sio
