"""``python -m bot``: the whole app (HTTP API, Mini App, Socket.IO, bot) in one event loop."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from services.config import SettingsError, load_settings


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"vmeste: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    return asyncio.run(_serve(settings))


async def _serve(settings: object) -> int:
    from webapp.server import Server

    server = Server(settings)  # type: ignore[arg-type]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    await stop.wait()
    logging.getLogger("vmeste").info("shutting down")
    await server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
