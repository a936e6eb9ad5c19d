"""Start-up time and idle memory of ``python -m bot`` (web-only, embedded defaults).

Prints, over several cold starts: time from process spawn until /api/health answers, time until
the first /app page renders, and the resident memory of the idle process after start.
Run: ``.venv/bin/python bench/startup.py [runs]``.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def wait_ok(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.01)
    raise RuntimeError(f"{url} did not answer")


def one_run() -> tuple[float, float, float, float]:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "PYTHONPATH": str(ROOT), "JWT_SECRET": "b" * 40}
    env.pop("BOT_TOKEN", None)
    env.pop("REDIS_URL", None)
    with tempfile.TemporaryDirectory() as cwd:
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_ok(f"http://127.0.0.1:{port}/api/health", started + 60)
            ready = time.monotonic() - started
            wait_ok(f"http://127.0.0.1:{port}/app", started + 60)
            page = time.monotonic() - started
            time.sleep(2)
            idle = rss_kib(process.pid) / 1024
            stop_started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=15)
            stop = time.monotonic() - stop_started
        finally:
            if process.poll() is None:
                process.kill()
    return ready, page, idle, stop


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    results = [one_run() for _ in range(runs)]
    ready, page, idle, stop = (sorted(column) for column in zip(*results, strict=True))
    print(f"python -m bot, web-only, SQLite, {runs} cold starts on {os.cpu_count()} cores")
    ms = {name: (statistics.median(v) * 1000, max(v) * 1000) for name, v in (("ready", ready),)}
    print(
        f"  start -> /api/health 200:  median {ms['ready'][0]:.0f} ms, max {ms['ready'][1]:.0f} ms"
    )
    print(f"  start -> first /app page:  median {statistics.median(page) * 1000:.0f} ms")
    rss_median, rss_max = statistics.median(idle), max(idle)
    print(f"  idle RSS after start:      median {rss_median:.1f} MiB, max {rss_max:.1f} MiB")
    print(f"  SIGTERM -> exit:           median {statistics.median(stop) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
