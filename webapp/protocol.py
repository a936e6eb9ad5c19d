"""HTTP connection lifetimes: idle connections, slowly sent headers (and, in ``webapp.http``,
slowly sent bodies) are timed out.

aiohttp closes a connection that waits for a request longer than ``keepalive_timeout``; the
:class:`~aiohttp.web.AppRunner` we start the server with does not apply ``run_app``'s 75 s
default, so without the setting it was aiohttp's ``RequestHandler`` default of 3630 s (idle
connections were seen alive after 330 s). aiohttp has no timeout for reading a request's
headers at all: a client dripping a header byte now and then kept its connection, and its slot,
for ever.

:class:`TimedAppRunner` passes ``HTTP_IDLE_TIMEOUT`` as aiohttp's keep-alive timeout and makes
every connection a :class:`TimedRequestHandler`, which arms a deadline of
``HTTP_HEADER_TIMEOUT`` when the first byte of a request arrives and disarms it when the
request's headers are complete. Bytes of a request body, and everything after a WebSocket
upgrade (Socket.IO under ``/socket.io/``), never arm it; an upgraded connection is past
aiohttp's idle check too (it only closes a connection waiting for its next request).

A client dropped for sending nothing or for its headers is logged as one INFO line; a
keep-alive connection closed between requests is routine and logged at DEBUG only.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

log = logging.getLogger("webapp.connections")
#: How long aiohttp keeps reading (and discarding) a body its view did not read, so the client
#: gets the early answer (a 401, a 413, the 408 of a too slow body) before the connection
#: closes. aiohttp's default is 10 s, long enough for a dripping client to hold its slot.
LINGERING_SECONDS = 2.0


def _peer(handler: RequestHandler) -> str:
    peer = handler.peername if handler.transport is not None else None
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer) if peer else "unknown"


class TimedRequestHandler(RequestHandler):
    """aiohttp's connection protocol with a read deadline for each request's headers.

    Slots, like aiohttp's own: no ``__dict__`` per connection (a WebSocket keeps its
    connection's protocol for hours, and thousands of them)."""

    __slots__ = ("_header_deadline", "_header_started", "_last_payload", "header_timeout")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Set by :class:`TimedServer` before the connection is made.
        self.header_timeout = 10.0
        self._header_deadline: asyncio.TimerHandle | None = None
        self._header_started = 0.0
        self._last_payload: Any = None

    # -- headers ------------------------------------------------------------------------------

    def _reading_body_or_upgraded(self) -> bool:
        if self._upgraded or self._payload_parser is not None:
            return True
        # The last parsed request's body is still arriving: body bytes, not headers.
        payload = self._last_payload
        if payload is None:
            return False
        if payload.is_eof():
            self._last_payload = None  # do not keep a read body for the connection's life
            return False
        return True

    def data_received(self, data: bytes) -> None:
        arm = (
            self._header_deadline is None
            and not self._force_close
            and not self._close
            and not self._reading_body_or_upgraded()
        )
        count = self._request_count
        super().data_received(data)
        if self._request_count != count:
            # A request's headers are complete; its body (if any) may follow.
            self._last_payload = self._messages[-1][1] if self._messages else None
            self._cancel_header_deadline()
        elif self._upgraded or self._payload_parser is not None:
            self._cancel_header_deadline()
        elif arm and not self._force_close and self.transport is not None:
            loop = self._loop
            self._header_started = loop.time()
            self._header_deadline = loop.call_at(
                self._header_started + self.header_timeout, self._header_timed_out
            )

    def _cancel_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _header_timed_out(self) -> None:
        self._header_deadline = None
        if self._force_close or self.transport is None:
            return
        if self._request_in_progress:
            # Pipelined headers behind a request still being answered: the clock starts again
            # once that request is done (aiohttp reads them only then, too).
            self._header_deadline = self._loop.call_later(
                self.header_timeout, self._header_timed_out
            )
            return
        log.info(
            "dropped client %s: request headers not complete after %.1f s (HTTP_HEADER_TIMEOUT)",
            _peer(self),
            self._loop.time() - self._header_started,
        )
        self.force_close()

    # -- idle ---------------------------------------------------------------------------------

    def _process_keepalive(self) -> None:
        idle = (
            not self._force_close
            and self._keepalive
            and self._loop.time() >= self._next_keepalive_close_time
            and self._waiter is not None
            and not self._waiter.done()
        )
        peer = _peer(self) if idle else ""
        super()._process_keepalive()
        if not (idle and self._force_close):
            return
        dripping = self._header_deadline is not None
        self._cancel_header_deadline()
        if dripping:
            log.info(
                "dropped client %s: request headers not complete after %.1f s (HTTP_IDLE_TIMEOUT)",
                peer,
                self._loop.time() - self._header_started,
            )
        elif self._request_count == 0:
            log.info(
                "dropped client %s: no request within %.1f s (HTTP_IDLE_TIMEOUT)",
                peer,
                self._keepalive_timeout,
            )
        else:
            log.debug("closed idle keep-alive connection of %s", peer)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)


class TimedServer(web.Server):
    """``web.Server`` whose connections are :class:`TimedRequestHandler`."""

    header_timeout: float = 10.0

    def __call__(self) -> RequestHandler:
        handler = TimedRequestHandler(self, loop=self._loop, **self._kwargs)
        handler.header_timeout = self.header_timeout
        return handler


class TimedAppRunner(web.AppRunner):
    """``web.AppRunner`` with ``HTTP_IDLE_TIMEOUT`` and ``HTTP_HEADER_TIMEOUT`` applied."""

    def __init__(
        self, app: web.Application, *, idle_timeout: float, header_timeout: float, **kwargs: Any
    ) -> None:
        kwargs.setdefault("lingering_time", LINGERING_SECONDS)
        super().__init__(app, keepalive_timeout=idle_timeout, **kwargs)
        self._header_timeout = header_timeout

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # app._make_handler builds a plain web.Server (it has no __slots__): make it ours.
        server.__class__ = TimedServer
        server.header_timeout = self._header_timeout  # type: ignore[attr-defined]
        return server
