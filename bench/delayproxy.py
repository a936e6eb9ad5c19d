"""A TCP proxy on loopback that delays every chunk by a fixed latency plus jitter, each way.

Used by bench/sync.py to give each browser its own network delay to the app (HTTP and the
Socket.IO WebSocket alike). Ordering is preserved: a chunk is never released before the one
before it.
"""

from __future__ import annotations

import asyncio
import random


class DelayProxy:
    def __init__(self, target_port: int, delay_ms: float, jitter_ms: float, seed: int = 0) -> None:
        self.target_port = target_port
        self.delay = delay_ms / 1000
        self.jitter = jitter_ms / 1000
        self._random = random.Random(seed)
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        try:
            await asyncio.gather(
                self._pipe(reader, up_writer),
                self._pipe(up_reader, writer),
                return_exceptions=True,
            )
        except asyncio.CancelledError:
            # The proxy is closing: drop the connection quietly.
            writer.close()
            up_writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def release() -> None:
            last = 0.0
            while True:
                due, chunk = await queue.get()
                due = max(due, last)  # keep order
                last = due
                await asyncio.sleep(max(0.0, due - loop.time()))
                if not chunk:
                    writer.close()
                    return
                writer.write(chunk)
                await writer.drain()

        releaser = asyncio.create_task(release())
        try:
            while True:
                chunk = await reader.read(65536)
                delay = max(0.0, self.delay + self._random.uniform(-self.jitter, self.jitter))
                queue.put_nowait((loop.time() + delay, chunk))
                if not chunk:
                    break
            await releaser
        finally:
            releaser.cancel()
