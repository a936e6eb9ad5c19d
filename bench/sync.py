"""Sync benchmark: N headless Chromium viewers in one room, each behind its own delayed link.

The app serves a local MP4 (made here with PyAV); every viewer opens the room page through a
DelayProxy (0–150 ms each way, jittered). The host drives playback over Socket.IO: play, then
a seek, then a late viewer joins. Every 100 ms each viewer's ``video.currentTime`` is compared
with the room clock (the server's playback state). Prints median/p95/max drift, seeks and rate
changes per viewer, and how long the late joiner took to get within 100 ms.

    .venv/bin/python bench/sync.py --viewers 5 --phase 60
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import aiohttp
import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.delayproxy import DelayProxy  # noqa: E402

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--mute-audio",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]

PROBE = """() => {
  const v = document.querySelector('video');
  return {
    t: performance.timeOrigin + performance.now(),
    pos: v ? v.currentTime : null,
    paused: v ? v.paused : null,
    seeks: window.__seeks || 0,
    rates: window.__rates || 0,
  };
}"""

COUNTERS = """
window.__seeks = 0; window.__rates = 0;
document.addEventListener('seeking', () => { window.__seeks++; }, true);
document.addEventListener('ratechange', () => { window.__rates++; }, true);
"""


def make_video(path: Path, seconds: int) -> None:
    import av
    import numpy as np

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.codec_context.gop_size = 10
        stream.codec_context.time_base = Fraction(1, 10)
        for i in range(seconds * 10):
            frame = np.full((240, 320, 3), (i * 3) % 255, dtype=np.uint8)
            frame[:, : (i % 320)] = 255
            video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
            video_frame.pts = i
            for packet in stream.encode(video_frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(url + "/api/health") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("server did not start")


class Room:
    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http, self.url = http, url

    async def sign_up(self, name: str) -> str:
        async with self.http.post(
            self.url + "/api/auth/register",
            json={"email": f"{name}@sync.test", "username": name, "password": "syncbench1"},
        ) as response:
            return (await response.json())["accessToken"]

    async def playback(self, room_id: int, token: str) -> dict:
        async with self.http.get(
            f"{self.url}/api/rooms/{room_id}", headers={"Authorization": f"Bearer {token}"}
        ) as response:
            return (await response.json())["playback"]


def expected(playback: dict, at_ms: float) -> float | None:
    if playback.get("status") != "playing":
        return playback.get("position")
    elapsed = max(0.0, at_ms - playback["updatedAt"]) / 1000
    return playback["position"] + elapsed * playback.get("rate", 1.0)


async def run(args: argparse.Namespace) -> None:
    from playwright.async_api import async_playwright

    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as cwd:
        media = Path(cwd) / "data" / "media"
        media.mkdir(parents=True)
        make_video(media / "sync.mp4", int(args.phase * 3 + 60))
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PORT": str(port),
            "LOG_LEVEL": "WARNING",
            "JWT_SECRET": "sync-bench-" + "y" * 40,
            "PASSWORD_HASH_PROFILE": "fast",
            "AUTH_RATE_IP": "100000/minute",
            "MEDIA_DIR": str(media),
        }
        env.pop("BOT_TOKEN", None)
        server = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        proxies: list[DelayProxy] = []
        try:
            await wait_up(url)
            async with aiohttp.ClientSession() as http, async_playwright() as pw:
                room_api = Room(http, url)
                host_token = await room_api.sign_up("synchost")
                async with http.post(
                    url + "/api/rooms",
                    json={"title": "Sync bench", "url": f"{url}/media/sync.mp4"},
                    headers={"Authorization": f"Bearer {host_token}"},
                ) as response:
                    room = (await response.json())["room"]
                host = socketio.AsyncClient(reconnection=False)
                await host.connect(url, transports=["websocket"], auth={"token": host_token})
                await host.call("room:join", {"roomId": room["id"]})
                browser = await pw.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                delays: list[float] = []

                async def open_viewer(i: int):
                    delay = rng.uniform(0, 150)
                    delays.append(delay)
                    proxy = DelayProxy(port, delay, jitter_ms=delay * 0.2, seed=i)
                    await proxy.start()
                    proxies.append(proxy)
                    token = await room_api.sign_up(f"viewer{i}")
                    context = await browser.new_context()
                    await context.add_init_script(
                        f"localStorage.setItem('vmeste.token', {token!r});" + COUNTERS
                    )
                    page = await context.new_page()
                    await page.goto(f"http://127.0.0.1:{proxy.port}/app/room/{room['code']}")
                    await page.wait_for_selector("video", timeout=30000)
                    return page

                pages = [await open_viewer(i) for i in range(args.viewers)]
                await asyncio.sleep(3)  # clocks synced, media loaded
                samples: dict[int, list[float]] = {i: [] for i in range(args.viewers + 1)}

                settle: dict[str, list[float]] = {}

                async def sample(phase_s: float, watch: list, label: str) -> None:
                    """Drift after the command's transition; the transition is timed apart."""
                    playback = await room_api.playback(room["id"], host_token)
                    started = time.monotonic()
                    end = started + phase_s
                    converged: dict[int, float] = {}
                    while time.monotonic() < end:
                        probes = await asyncio.gather(*(p.evaluate(PROBE) for p in watch))
                        for i, probe in enumerate(probes):
                            exp = expected(playback, probe["t"])
                            if probe["pos"] is None or exp is None:
                                continue
                            drift = (probe["pos"] - exp) * 1000
                            if i not in converged:
                                if abs(drift) <= 100:
                                    converged[i] = time.monotonic() - started
                                continue
                            samples[i].append(drift)
                        await asyncio.sleep(0.1)
                    settle[label] = [converged.get(i, float("nan")) for i in range(len(watch))]

                await host.call("player:play", {"roomId": room["id"], "position": 0})
                await sample(args.phase, pages, "play")
                await host.call("player:seek", {"roomId": room["id"], "position": args.phase * 2})
                await sample(args.phase / 2, pages, "seek")
                # Late joiner: time until within 100 ms of the room clock.
                joined = time.monotonic()
                late = await open_viewer(args.viewers)
                playback = await room_api.playback(room["id"], host_token)
                in_sync_after = None
                while time.monotonic() - joined < 30:
                    probe = await late.evaluate(PROBE)
                    exp = expected(playback, probe["t"])
                    if probe["pos"] is not None and exp is not None:
                        drift = abs(probe["pos"] - exp) * 1000
                        if drift <= 100 and in_sync_after is None:
                            in_sync_after = time.monotonic() - joined
                        samples[args.viewers].append((probe["pos"] - exp) * 1000)
                    await asyncio.sleep(0.1)
                counts = await asyncio.gather(*(p.evaluate(PROBE) for p in [*pages, late]))
                await host.disconnect()
                await browser.close()
        finally:
            for proxy in proxies:
                await proxy.close()
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
    everything = sorted(abs(x) for i in range(args.viewers) for x in samples[i])

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")

    print(
        f"sync: {args.viewers} viewers + 1 late joiner, delays "
        f"{', '.join(f'{d:.0f}' for d in delays)} ms each way (±20% jitter), "
        f"play {args.phase:.0f} s then seek {args.phase / 2:.0f} s"
    )
    print(
        f"  |drift| ms once in sync ({len(everything)} samples): "
        f"median {pct(everything, 0.5):.1f}, "
        f"p95 {pct(everything, 0.95):.1f}, max {everything[-1] if everything else float('nan'):.1f}"
    )
    for i, c in enumerate(counts):
        values = sorted(abs(x) for x in samples[i])
        label = "late" if i == args.viewers else f"v{i}"
        print(
            f"  {label}: median {pct(values, 0.5):.1f} ms, p95 {pct(values, 0.95):.1f} ms, "
            f"seeks {c['seeks']}, rate changes {c['rates']}"
        )
    for label, times in settle.items():
        shown = ", ".join(f"{t:.2f}" for t in times)
        print(f"  after {label}: each viewer within 100 ms of the room clock after [{shown}] s")
    late_s = f"{in_sync_after:.2f} s" if in_sync_after is not None else "not within 30 s"
    print(f"  late joiner within 100 ms after {late_s}")
    if everything:
        print(f"  mean |drift| {statistics.fmean(everything):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=5)
    parser.add_argument("--phase", type=float, default=60, help="seconds sampled after play")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
