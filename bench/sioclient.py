"""A minimal Socket.IO v5 / Engine.IO v4 WebSocket client for load generation.

python-socketio's client costs too much CPU per connection to drive thousands of sockets from
one process; this speaks just enough of the protocol (open, connect with auth, events, acks,
ping/pong) on one aiohttp WebSocket per connection.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any

import aiohttp

Handler = Callable[[str, Any], None]


class SioConnection:
    def __init__(self, session: aiohttp.ClientSession, url: str, token: str) -> None:
        self._session = session
        self._url = url.rstrip("/") + "/socket.io/?EIO=4&transport=websocket"
        self._token = token
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._connected = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self.on_event: Handler | None = None
        self.error: str | None = None

    async def connect(self, wait_s: float = 30) -> None:
        self._ws = await self._session.ws_connect(self._url, heartbeat=None)
        opening = await self._ws.receive(timeout=wait_s)
        if not str(opening.data).startswith("0"):
            raise ConnectionError(f"unexpected open packet {opening.data!r}")
        await self._ws.send_str("40" + json.dumps({"token": self._token}))
        self._reader = asyncio.create_task(self._read())
        await asyncio.wait_for(self._connected.wait(), wait_s)
        if self.error:
            raise ConnectionError(self.error)

    async def _read(self) -> None:
        assert self._ws is not None
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data: str = message.data
            if data == "2":
                await self._ws.send_str("3")
            elif data.startswith("40"):
                self._connected.set()
            elif data.startswith("44"):
                self.error = data[2:]
                self._connected.set()
            elif data.startswith("42"):
                if self.on_event is not None:
                    name, *args = json.loads(data[2:])
                    self.on_event(name, args[0] if args else None)
            elif data.startswith("43"):
                body = data[2:]
                split = next(i for i, c in enumerate(body) if not c.isdigit())
                future = self._acks.pop(int(body[:split]), None)
                if future is not None and not future.done():
                    future.set_result(json.loads(body[split:])[0])
        self._connected.set()

    async def call(self, event: str, data: Any, wait_s: float = 30) -> Any:
        assert self._ws is not None
        ack_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        await self._ws.send_str(f"42{ack_id}" + json.dumps([event, data]))
        return await asyncio.wait_for(future, wait_s)

    async def emit(self, event: str, data: Any) -> None:
        assert self._ws is not None
        await self._ws.send_str("42" + json.dumps([event, data]))

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
