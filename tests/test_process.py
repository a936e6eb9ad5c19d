"""``python -m bot`` as a user runs it: clear config errors, web-only start, clean shutdown."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_", "REDIS_"))}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def _free_port() -> int:
    """A port nothing listens on (for a database that is not there)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _run(tmp_path: Path, **env: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=_env(**env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_malformed_setting_stops_start_with_one_line(tmp_path: Path) -> None:
    process = await _run(tmp_path, PORT="eighty")
    _, err = await asyncio.wait_for(process.communicate(), 30)
    lines = err.decode().strip().splitlines()
    assert process.returncode == 2
    assert len(lines) == 1
    assert "PORT" in lines[0]


async def test_bad_bot_token_is_named(tmp_path: Path) -> None:
    process = await _run(tmp_path, BOT_TOKEN="not-a-token")
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert "BOT_TOKEN" in err.decode()
    assert "not-a-token" not in err.decode()


async def test_webhook_mode_without_secret_is_refused(tmp_path: Path) -> None:
    process = await _run(tmp_path, BOT_TOKEN="1:abc", BOT_MODE="webhook")
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert "WEBHOOK_SECRET" in err.decode()


async def _listening_port(process: asyncio.subprocess.Process, log: list[str]) -> int:
    """Read the log up to "listening on http://HOST:PORT" and return the port (the app was
    started on port 0: a port picked here and freed could be taken by a parallel test)."""
    assert process.stderr is not None
    async with asyncio.timeout(30):
        while line := (await process.stderr.readline()).decode():
            log.append(line)
            if match := re.search(r"listening on http://[^:]+:(\d+)", line):
                return int(match.group(1))
    raise AssertionError("the server never said where it listens:\n" + "".join(log))


async def test_web_only_start_serves_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    process = await _run(tmp_path, PORT="0", JWT_SECRET="x" * 40)
    early: list[str] = []
    try:
        port = await _listening_port(process, early)
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as http:
            while True:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/api/health") as response:
                        body = await response.json()
                        break
                except aiohttp.ClientConnectionError:
                    assert time.monotonic() < deadline, "server did not come up"
                    await asyncio.sleep(0.1)
        assert body["bot"]["status"] == "off"
        assert body["database"]["status"] == "ok"
        # The embedded default database was created under data/ in the working directory.
        assert (tmp_path / "data" / "vmeste.sqlite3").exists()
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = "".join(early) + err.decode()
    assert process.returncode == 0, log
    assert "the bot is off" in log
    assert "Traceback" not in log
    assert "stopped" in log


async def test_a_malformed_rate_stops_the_start_not_the_first_sign_in(tmp_path: Path) -> None:
    process = await _run(tmp_path, AUTH_RATE_IP="lots")
    _, err = await asyncio.wait_for(process.communicate(), 30)
    lines = err.decode().strip().splitlines()
    assert process.returncode == 2
    assert len(lines) == 1
    assert "AUTH_RATE_IP" in lines[0]


async def test_a_busy_port_is_one_line_naming_it(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        process = await _run(tmp_path, PORT=str(port), JWT_SECRET="x" * 40)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    log = err.decode()
    assert process.returncode == 2, log
    assert "Traceback" not in log
    (line,) = [line for line in log.splitlines() if line.startswith("vmeste:")]
    assert f"cannot listen on 127.0.0.1:{port}" in line
    assert "address already in use" in line


async def test_an_unreachable_database_is_one_line_without_its_password(tmp_path: Path) -> None:
    url = f"postgres://postgres:hunter2@127.0.0.1:{_free_port()}/nowhere"
    process = await _run(tmp_path, DATABASE_URL=url, JWT_SECRET="x" * 40)
    _, err = await asyncio.wait_for(process.communicate(), 30)
    log = err.decode()
    assert process.returncode == 2, log
    assert "Traceback" not in log
    assert "hunter2" not in log
    (line,) = [line for line in log.splitlines() if line.startswith("vmeste:")]
    assert "cannot use the database postgres://postgres:***@127.0.0.1" in line


async def test_a_web_only_start_does_not_import_the_bot_library(tmp_path: Path) -> None:
    """aiogram costs ~2.5 s and ~110 MiB to import (bench/startup.py): only a bot pays it."""
    code = "import sys, composition; sys.exit(1 if 'aiogram' in sys.modules else 0)"
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", code, env=_env(), cwd=ROOT)
    assert await asyncio.wait_for(process.wait(), 60) == 0
