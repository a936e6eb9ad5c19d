"""Socket.IO fan-out that builds a room broadcast once and writes the same bytes to every socket.

python-socketio's stock ``AsyncManager.emit`` encodes the packet once but then creates one
asyncio task per recipient, each going through engineio's ``send_packet`` → ``socket.send`` (a
ping-timeout check, an awaited ``queue.put``, a log call), and each socket's writer task wakes
through ``asyncio.wait_for`` (one more task) to frame and write it. At rooms of 50 and 10,000
deliveries a second that saturated our hub (docs/performance.md).

Here the WebSocket frame itself is built once per broadcast (server frames are unmasked, so
every recipient gets the same bytes) and written straight to each idle socket's transport. A
socket is idle when its engineio writer is parked on an empty send queue and its transport's
buffer is small; any other socket (writer busy, client slow, upgrade not done) gets the packet on
its queue as before, so per-socket order is kept and backpressure still goes through aiohttp's
drain. WebSocket compression is off: a per-socket deflate context costs memory on every
connection and CPU on every delivery, for chat lines of a few dozen bytes.

``FrameOnceRedisManager`` keeps ``AsyncRedisManager``'s cross-process publishing: the frame-once
emit sits below the pub/sub layer in the MRO, so it runs in every process for its local sockets.
A broadcast is delivered to this process's sockets before it is published, so while Redis is
down each process's clients still hear each other (chat keeps flowing per process); publishing
then fails fast and quietly (:data:`PUBLISH_RETRY_AFTER`), and the listener re-subscribes within
:data:`LISTEN_RETRY_MAX` seconds of Redis coming back.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from typing import Any

import socketio
from aiohttp import web
from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet
from engineio.async_drivers.aiohttp import WebSocket as EngineIOWebSocket
from engineio.async_socket import AsyncSocket
from socketio import packet as sio_packet

from services.core.state.redis import fast_retry

log = logging.getLogger(__name__)

#: After a failed publish (both attempts), publishing is skipped this many seconds: a chat line
#: a millisecond must not each wait on a dead Redis and log two errors.
PUBLISH_RETRY_AFTER = 2.0
#: The listener's reconnect delay doubles from 1 s up to this (python-socketio: 60 s).
LISTEN_RETRY_MAX = 5.0
#: Connecting to Redis gives up after this long (a host that drops packets must not hang emits).
REDIS_CONNECT_TIMEOUT = 2.0

#: A socket whose transport holds more than this many unsent bytes is written through its
#: queue (and aiohttp's drain) rather than directly.
DIRECT_WRITE_LIMIT = 64 * 1024
_OPCODE_TEXT = 0x1
_FIN = 0x80


def text_frame(text: str) -> bytes:
    """One unmasked, uncompressed WebSocket text frame (RFC 6455 §5.2), as a server sends."""
    payload = text.encode()
    length = len(payload)
    first = _FIN | _OPCODE_TEXT
    if length < 126:
        header = struct.pack("!BB", first, length)
    elif length < 65536:
        header = struct.pack("!BBH", first, 126, length)
    else:
        header = struct.pack("!BBQ", first, 127, length)
    return header + payload


class _Unsent:
    """A queued packet as engineio's writer sees it: ``encode()`` hands the packet's text over
    once and lets go of the packet.

    engineio's writer keeps its last batch of packets (``packets``, ``pkt``) in its locals until
    the next batch arrives, which on a quiet socket is the next ping, 20 s later. The last
    packet a socket was sent through its queue is usually the ``room:join`` ack carrying the
    whole room (several KiB, held twice: the Socket.IO text and engineio's ``encode_cache``);
    through this wrapper the writer keeps only the empty wrapper. A broadcast packet shared by
    several queues (``FrameOnceManager.emit``) is only let go of by each wrapper, not cleared."""

    __slots__ = ("_pkt",)

    def __init__(self, pkt: Any) -> None:
        self._pkt = pkt

    def encode(self, *args: Any, **kwargs: Any) -> Any:
        pkt, self._pkt = self._pkt, None
        return pkt.encode(*args, **kwargs)


class _NoJoin:
    """Stands in for ``asyncio.Queue._finished``: nobody joins a send queue."""

    __slots__ = ()

    def set(self) -> None:
        pass

    def clear(self) -> None:
        pass


_NO_JOIN = _NoJoin()


class _SendQueue(asyncio.Queue):  # type: ignore[type-arg]
    """The send queue of a socket that is WebSocket from its first request (never polls):
    what its writer takes out is wrapped in :class:`_Unsent` (``None``, the writer's stop
    signal, is passed through).

    It is unbounded, so ``put`` never waits and the putters' deque stays empty, and nothing
    ``join()``s it: neither that deque nor the ``join`` event (with its own deque) is kept,
    ~1.6 KB per connection."""

    def __init__(self) -> None:
        super().__init__()
        self._putters = ()  # type: ignore[assignment]
        self._finished = _NO_JOIN  # type: ignore[assignment]

    async def join(self) -> None:
        raise NotImplementedError("a socket's send queue is not joined")

    def _get(self) -> Any:
        item = self._queue.popleft()  # type: ignore[attr-defined]
        return item if item is None else _Unsent(item)

    @classmethod
    def taking_over(cls, queue: asyncio.Queue[Any]) -> _SendQueue:
        new = cls()
        while not queue.empty():
            new.put_nowait(queue.get_nowait())
        return new


class DirectSocket(AsyncSocket):
    """engineio's socket for a client that opened over WebSocket directly (no long-polling
    before it), with the per-connection asyncio machinery cut down; thousands of these sit idle
    in a room for hours, so every object kept per socket counts (docs/performance.md).

    - The read loop runs in the request's own task and waits on the WebSocket under
      ``asyncio.timeout``; engineio's loop wraps every read in one more task plus
      ``asyncio.wait_for`` (a waiter future and its frame).
    - The next ping is a timer handle, not a task sleeping for ``ping_interval``.
    - The writer waits under ``asyncio.timeout`` instead of ``wait_for`` (one task less), on a
      :class:`_SendQueue`.

    The protocol is engineio's: the same packets, the same ping cycle (the next ping is
    scheduled when the client's pong arrives) and the same timeouts (no data for
    ``ping_interval + ping_timeout`` closes the socket)."""

    @classmethod
    def adopt(cls, socket: AsyncSocket) -> None:
        """Turn a socket just created for a WebSocket connection into this class; only its
        OPEN packet is queued yet and nothing waits on the queue."""
        socket.__class__ = cls
        socket.queue = _SendQueue.taking_over(socket.queue)

    def schedule_ping(self) -> None:
        # Only schedule a new ping if the previous ping cycle completed (a pong came back).
        if self.last_ping:
            self.last_ping = None
            asyncio.get_running_loop().call_later(self.server.ping_interval, self._ping)

    def _ping(self) -> None:
        if not self.closing and not self.closed:
            self.last_ping = time.time()
            self.queue.put_nowait(eio_packet.Packet(eio_packet.PING))

    async def poll(self) -> list[Any]:
        """``AsyncSocket.poll`` with ``asyncio.timeout`` instead of ``asyncio.wait_for``, which
        wraps ``queue.get()`` in one more task per socket."""
        queue = self.queue
        try:
            async with asyncio.timeout(self.server.ping_interval + self.server.ping_timeout):
                first = await queue.get()
            queue.task_done()
        except (TimeoutError, asyncio.CancelledError):
            raise eio_exceptions.QueueEmpty() from None
        if first is None:
            return []
        packets = [first]
        while True:
            try:
                pkt = queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            queue.task_done()
            if pkt is None:
                queue.put_nowait(None)
                break
            packets.append(pkt)
        return packets

    async def _websocket_handler(self, ws: Any) -> None:
        if self.connected:  # an upgrade from long-polling: engineio's own handshake
            await super()._websocket_handler(ws)
            return
        self.connected = True
        self.upgraded = True
        writer = asyncio.ensure_future(self._write_loop(ws))
        server = self.server
        timeout = server.ping_interval + server.ping_timeout
        while True:
            try:
                async with asyncio.timeout(timeout):
                    data = await ws.wait()
            except (TimeoutError, OSError, asyncio.CancelledError):
                # Silent past the ping timeout, closed (the driver raises OSError on a close
                # frame), or the server stopping: the socket ends, as in engineio's loop.
                break
            if not data or len(data) > server.max_http_buffer_size:
                break
            try:
                await self.receive(eio_packet.Packet(encoded_packet=data))
            except eio_exceptions.UnknownPacketError:
                pass
            except eio_exceptions.SocketIsClosedError:
                break
            except Exception:
                server.logger.exception("Unknown receive error")
        await self.queue.put(None)  # unlock the writer so it can exit
        await writer
        await self.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)

    async def _write_loop(self, ws: Any) -> None:
        while True:
            try:
                packets = await self.poll()
            except eio_exceptions.QueueEmpty:
                break
            if not packets:  # the reader is done
                break
            try:
                for pkt in packets:
                    await ws.send(pkt.encode())
            except Exception:  # noqa: BLE001 - any failed write ends the socket, as in engineio
                break
        await ws.close()


class DirectWebSocket(EngineIOWebSocket):
    """engineio's aiohttp WebSocket without compression, telling its engineio socket where to
    write frames directly (``direct_ws``, ``direct_transport``)."""

    async def __call__(self, environ: dict[str, Any]) -> web.WebSocketResponse:
        request: web.Request = environ["aiohttp.request"]
        self._sock = web.WebSocketResponse(
            max_msg_size=self.server.max_http_buffer_size, compress=False
        )
        await self._sock.prepare(request)
        self.environ = environ
        eio_socket = getattr(self.handler, "__self__", None)
        if eio_socket is not None and request.transport is not None:
            eio_socket.direct_ws = self._sock
            eio_socket.direct_transport = request.transport
        await self.handler(self)
        return self._sock


def install_direct_websocket(sio: socketio.AsyncServer) -> None:
    """Make ``sio``'s engineio server open its WebSockets through :class:`DirectWebSocket`, and
    make every socket that connects over WebSocket directly a :class:`DirectSocket`.

    The class is switched in engineio's ``connect`` event, which runs after the socket is
    created (its OPEN packet queued) and before its first ping is scheduled or its WebSocket
    handler starts."""
    eio = sio.eio
    eio._async = {**eio._async, "websocket": DirectWebSocket}
    on_connect = eio.handlers["connect"]

    async def connect(eio_sid: str, environ: dict[str, Any], *args: Any) -> Any:
        socket = eio.sockets.get(eio_sid)
        if socket is not None and "transport=websocket" in environ.get("QUERY_STRING", ""):
            DirectSocket.adopt(socket)
        return await on_connect(eio_sid, environ, *args)

    eio.handlers["connect"] = connect


def _write_direct(socket: Any, frame: bytes) -> bool:
    """Write ``frame`` to an idle socket's transport; ``False`` when it must be queued."""
    transport = getattr(socket, "direct_transport", None)
    if transport is None or transport.is_closing() or socket.direct_ws.closed:
        return False
    queue: asyncio.Queue[Any] = socket.queue
    # The writer is parked on queue.get() with nothing queued: nothing of this socket is
    # waiting to be written, so writing now keeps the order.
    if not queue.empty() or not queue._getters:  # type: ignore[attr-defined]
        return False
    if transport.get_write_buffer_size() > DIRECT_WRITE_LIMIT:
        return False
    transport.write(frame)
    return True


class FrameOnceManager(socketio.AsyncManager):
    #: Deliveries written directly and through socket queues (for benchmarks and tests).
    direct_writes = 0
    queued_writes = 0
    #: Events after whose delivery this process disconnects the recipients it delivered to
    #: (``session:revoked``: with Redis every process delivers a room emit to its own sockets,
    #: so every process disconnects its own).
    disconnect_after: frozenset[str] = frozenset()

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        room = to or room
        if callback is not None:
            # A per-recipient ack id: each packet differs (python-socketio's own path).
            await super().emit(
                event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs
            )
            return
        if namespace not in self.rooms:
            return
        if isinstance(data, tuple):
            args = list(data)
        elif data is not None:
            args = [data]
        else:
            args = []
        skip = set(skip_sid) if isinstance(skip_sid, list) else {skip_sid}
        encoded = self.server.packet_class(
            sio_packet.EVENT, namespace=namespace, data=[event, *args]
        ).encode()
        packets = [
            eio_packet.Packet(eio_packet.MESSAGE, p)
            for p in (encoded if isinstance(encoded, list) else [encoded])
        ]
        # Only a lone text packet (no binary attachments) can go out as one prebuilt frame.
        frame = text_frame(packets[0].encode()) if len(packets) == 1 else None
        sockets = self.server.eio.sockets
        direct = queued = 0
        ending = event in self.disconnect_after
        delivered: list[str] = []
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid in skip:
                continue
            socket = sockets.get(eio_sid)
            if socket is None or socket.closed:
                continue
            if ending:
                delivered.append(sid)
            if frame is not None and _write_direct(socket, frame):
                direct += 1
                continue
            for pkt in packets:
                socket.queue.put_nowait(pkt)
            queued += 1
        FrameOnceManager.direct_writes += direct
        FrameOnceManager.queued_writes += queued
        if event in self.disconnect_after and delivered:
            await self._disconnect_all(delivered, namespace)

    async def _disconnect_all(self, sids: list[str], namespace: str) -> None:
        # After the event: the DISCONNECT packet goes through the socket's queue, behind it.
        for sid in sids:
            try:
                await self.server.disconnect(sid, namespace=namespace, ignore_queue=True)
            except Exception:  # noqa: BLE001 - one failure must not keep the others connected
                self._get_logger().exception("could not disconnect %s", sid)


class FrameOnceRedisManager(socketio.AsyncRedisManager, FrameOnceManager):
    """Redis pub/sub across processes; each process delivers to its sockets frame-once."""

    #: Messages not published because Redis was down (for tests and metrics).
    skipped_publishes = 0

    def __init__(self, url: str, *args: Any, redis_options: Any = None, **kwargs: Any) -> None:
        options = {
            "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
            "retry": fast_retry(),
            **(redis_options or {}),
        }
        super().__init__(url, *args, redis_options=options, **kwargs)
        self._publish_down_until = 0.0

    async def _publish(self, data: Any) -> Any:
        """python-socketio's publish (two attempts, reconnecting in between: the first may hit
        a connection Redis closed when it restarted), but after both failed the next
        publishes are skipped for :data:`PUBLISH_RETRY_AFTER` s, with one warning. Local
        delivery already happened (``emit`` handles this process's sockets first)."""
        if time.monotonic() < self._publish_down_until:
            FrameOnceRedisManager.skipped_publishes += 1
            return None
        error: Exception | None = None
        for _ in range(2):
            try:
                if not self.connected:
                    self._redis_connect()
                return await self.redis.publish(self.channel, self.json.dumps(data))
            except Exception as exc:  # noqa: BLE001 - any failure: reconnect, then give up
                error = exc
                self.connected = False
        self._publish_down_until = time.monotonic() + PUBLISH_RETRY_AFTER
        FrameOnceRedisManager.skipped_publishes += 1
        log.warning(
            "Socket.IO: cannot publish to Redis (%s); delivering to this process's sockets only "
            "for %.0f s",
            type(error).__name__,
            PUBLISH_RETRY_AFTER,
        )
        return None

    async def _redis_listen_with_retries(self) -> Any:
        """python-socketio's listener loop with the reconnect delay capped at
        :data:`LISTEN_RETRY_MAX` (so cross-process delivery resumes soon after Redis is back)."""
        retry_sleep = 1.0
        subscribed = False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    await self.pubsub.subscribe(self.channel)
                    subscribed = True
                    if retry_sleep > 1.0:
                        log.info("Socket.IO: listening on Redis again")
                    retry_sleep = 1.0
                async for message in self.pubsub.listen():
                    yield message
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis away: retry, as python-socketio does
                log.warning(
                    "Socket.IO: cannot receive from Redis (%s); retrying in %.0f s",
                    type(exc).__name__,
                    retry_sleep,
                )
                subscribed = False
                await asyncio.sleep(retry_sleep)
                retry_sleep = min(LISTEN_RETRY_MAX, retry_sleep * 2)

    def _redis_connect(self) -> None:
        """python-socketio connects on the first publish and again when its listener starts
        (on the first Socket.IO connection), replacing the first client without closing it: a
        room created from the bot or the API before anyone opened a socket left a Redis
        connection behind. A client whose pub/sub has not subscribed yet is kept and used by
        the listener; a reconnect after an error still builds a new one, as python-socketio
        does, and the clients it replaces are closed (each publish or listen retry during a
        Redis outage would otherwise leave a client and its sockets behind)."""
        pubsub = self.pubsub
        if self.connected and pubsub is not None and not pubsub.subscribed:
            return
        replaced = [c for c in (pubsub, self.redis) if c is not None]
        super()._redis_connect()
        for client in replaced:
            task = asyncio.get_running_loop().create_task(_close_quietly(client))
            _closing.add(task)
            task.add_done_callback(_closing.discard)


#: Closes of replaced Redis clients still running (kept so they are not garbage-collected).
_closing: set[asyncio.Task[None]] = set()


async def _close_quietly(client: Any) -> None:
    try:
        await client.aclose()
    except Exception:  # a client of a dead connection may fail to close
        log.debug("closing a replaced Redis client failed", exc_info=True)
