"""HTTP connection lifetimes (issue #9, "Connections"): an idle keep-alive connection, a client
dripping its headers and one dripping its body are cut after HTTP_IDLE_TIMEOUT,
HTTP_HEADER_TIMEOUT and HTTP_BODY_TIMEOUT; a client dropped mid-body is one INFO line without
a traceback; Socket.IO's WebSocket is not cut by any of them.

The tests talk raw HTTP/1.1 over TCP (aiohttp's client would not drip)."""

from __future__ import annotations

import asyncio
import logging
import re
import time

import aiohttp
import pytest

from composition import Server
from tests.conftest import ServerFactory, SioFactory, register
from tests.signaling.test_rooms import Recorder

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def open_raw(server: Server) -> Stream:
    return await asyncio.open_connection(server.settings.host, server.port)


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    status = int(head.split(b" ", 2)[1])
    match = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    body = await asyncio.wait_for(reader.readexactly(int(match.group(1))), 5) if match else b""
    return status, body


async def closed_after(reader: asyncio.StreamReader, *, within: float) -> float:
    """Seconds until the server closed the connection (reading what it still sends); fails
    when it stays open ``within`` seconds."""
    started = time.monotonic()
    deadline = started + within
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"the connection is still open after {within} s")
        try:
            data = await asyncio.wait_for(reader.read(65536), remaining)
        except TimeoutError:
            continue
        except ConnectionError:
            return time.monotonic() - started
        if not data:
            return time.monotonic() - started


def close(writer: asyncio.StreamWriter) -> None:
    writer.close()


def records(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if text in r.getMessage()]


def errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


HEALTH = b"GET /api/health HTTP/1.1\r\nHost: vmeste.test\r\n\r\n"


async def test_idle_keepalive_connection_is_closed_but_a_websocket_is_not(
    make_server: ServerFactory, sio_client: SioFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="webapp.connections")
    server = await make_server(http_idle_timeout=0.6, http_header_timeout=0.6)
    # A Socket.IO socket connected before and idle (but pinging) through the whole test.
    async with aiohttp.ClientSession(base_url=server.url) as http:
        anna = await register(http, "anna_idle")
    socket = Recorder(await sio_client(anna.token, url=server.url))

    reader, writer = await open_raw(server)
    writer.write(HEALTH)
    status, _ = await read_response(reader)
    assert status in (200, 503)
    # Keep-alive: the same connection answers a second request...
    writer.write(HEALTH)
    assert (await read_response(reader))[0] in (200, 503)
    # ...then, idle, it is closed after HTTP_IDLE_TIMEOUT (aiohttp's own default: 3630 s).
    elapsed = await closed_after(reader, within=5)
    close(writer)
    assert 0.4 <= elapsed <= 2.5, elapsed

    # A connection that never sends a request is dropped too, with one INFO line.
    reader, writer = await open_raw(server)
    elapsed = await closed_after(reader, within=5)
    close(writer)
    assert 0.4 <= elapsed <= 2.5, elapsed
    assert len(records(caplog, "no request within")) == 1
    assert records(caplog, "no request within")[0].levelno == logging.INFO

    # The WebSocket outlived several idle and header timeouts.
    await asyncio.sleep(1.0)
    assert socket.client.connected
    ack = await socket.call("time:sync", {"clientTime": 1.0})
    assert ack["ok"] is True
    assert errors(caplog) == []


async def test_slowloris_headers_are_cut_after_the_header_timeout(
    make_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="webapp.connections")
    server = await make_server(http_idle_timeout=30, http_header_timeout=0.8)
    reader, writer = await open_raw(server)
    writer.write(b"GET /api/health HTTP/1.1\r\nHost: vmeste.test\r\n")

    async def drip() -> None:
        # A header line every 0.2 s, for ever: never the blank line that ends the headers.
        n = 0
        while not writer.is_closing():
            await asyncio.sleep(0.2)
            n += 1
            try:
                writer.write(b"X-Drip-%d: a\r\n" % n)
                await writer.drain()
            except ConnectionError:
                return

    dripping = asyncio.create_task(drip())
    try:
        elapsed = await closed_after(reader, within=5)
    finally:
        dripping.cancel()
        close(writer)
    assert 0.6 <= elapsed <= 2.5, elapsed
    dropped = records(caplog, "request headers not complete")
    assert len(dropped) == 1
    assert dropped[0].levelno == logging.INFO
    assert "HTTP_HEADER_TIMEOUT" in dropped[0].getMessage()
    assert errors(caplog) == []

    # Headers sent at once, on a fresh connection, are answered as usual.
    reader, writer = await open_raw(server)
    writer.write(HEALTH)
    assert (await read_response(reader))[0] in (200, 503)
    close(writer)


def login_head(length: int) -> bytes:
    return (
        b"POST /api/auth/login HTTP/1.1\r\nHost: vmeste.test\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % length
    )


async def test_slow_body_is_cut_after_the_body_timeout_with_one_info_line(
    make_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    server = await make_server(http_body_timeout=0.8, http_header_timeout=5, http_idle_timeout=30)
    reader, writer = await open_raw(server)
    writer.write(login_head(200) + b'{"email": "')

    async def drip() -> None:
        while not writer.is_closing():
            await asyncio.sleep(0.2)
            try:
                writer.write(b"a")
                await writer.drain()
            except ConnectionError:
                return

    dripping = asyncio.create_task(drip())
    started = time.monotonic()
    try:
        status, body = await read_response(reader)
        answered = time.monotonic() - started
        elapsed = await closed_after(reader, within=5)
    finally:
        dripping.cancel()
        close(writer)
    assert status == 408, body
    assert b"request_timeout" in body
    assert 0.6 <= answered <= 2.5, answered
    assert elapsed <= 1.0, elapsed  # closed at once, not after aiohttp's 10 s lingering
    dropped = records(caplog, "HTTP_BODY_TIMEOUT")
    assert len(dropped) == 1, [r.getMessage() for r in caplog.records]
    assert dropped[0].levelno == logging.INFO
    assert "POST /api/auth/login" in dropped[0].getMessage()
    assert errors(caplog) == []
    # One line for the drop: the access log does not add another.
    assert records(caplog, "/api/auth/login") == dropped


async def test_client_gone_mid_body_is_one_info_line_without_traceback(
    make_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    server = await make_server()
    _, writer = await open_raw(server)
    writer.write(login_head(200) + b'{"email": "')
    await writer.drain()
    await asyncio.sleep(0.3)  # the view is reading the body
    writer.close()
    await writer.wait_closed()

    deadline = time.monotonic() + 5
    while not records(caplog, "client went away"):
        assert time.monotonic() < deadline, [r.getMessage() for r in caplog.records]
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # anything else it would log
    gone = records(caplog, "client went away")
    assert len(gone) == 1
    assert gone[0].levelno == logging.INFO
    assert gone[0].getMessage() == "POST /api/auth/login: client went away"
    assert errors(caplog) == []
    assert records(caplog, "/api/auth/login") == gone


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("http_idle_timeout", "0"),
        ("http_header_timeout", "-1"),
        ("http_body_timeout", "soon"),
    ],
)
def test_timeouts_are_validated_at_start(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.core.config import SettingsError, load_settings

    monkeypatch.setenv(name.upper(), value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert str(error.value).startswith(f"{name.upper()} is malformed")
