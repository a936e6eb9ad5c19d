"""Reactions replay in headless Chromium: stored reactions burst at their media time."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from composition import Server
from tests.browser.conftest import PageFactory, screenshot
from tests.browser.test_rooms import (  # noqa: F401 (fixtures)
    browser,
    clip_url,
    create_room,
    open_room,
    video_ready,
)
from tests.conftest import SioFactory, register

pytestmark = pytest.mark.browser

#: Every bubble that appears over the player: [emoji, video time then, replayed?].
RECORD_BURSTS_JS = """() => {
  window.bursts = [];
  const video = () => document.querySelector('#player-stage video');
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        window.bursts.push([node.textContent, video().currentTime,
                            node.classList.contains('reactions-float__item--replay')]);
      }
    }
  }).observe(document.querySelector('#reactions-float'), { childList: true });
}"""


async def bursts(page: Page) -> list[tuple[str, float, bool]]:
    return [tuple(b) for b in await page.evaluate("window.bursts")]  # type: ignore[misc]


async def wait_for_time(page: Page, seconds: float) -> None:
    await page.wait_for_function(
        f"() => document.querySelector('#player-stage video').currentTime > {seconds}",
        timeout=15000,
    )


async def call(client: Any, event: str, data: dict[str, Any]) -> dict[str, Any]:
    ack: dict[str, Any] = await client.call(event, data)
    assert ack["ok"], ack
    return ack


async def test_stored_reactions_burst_when_playback_reaches_them(
    server: Server,
    http: aiohttp.ClientSession,
    new_page: PageFactory,
    sio_client: SioFactory,
    clip_url: str,  # noqa: F811
) -> None:
    anna, boris = await register(http, "anna"), await register(http, "boris")
    room = await create_room(http, anna, title="Replay", url=clip_url)
    # Earlier, Boris watched and reacted at 3 s and 6 s of the clip.
    earlier = await sio_client(boris.token)
    await call(earlier, "room:join", {"roomId": room["id"]})
    await call(earlier, "reaction:send", {"roomId": room["id"], "emoji": "🔥", "mediaTime": 3})
    await call(earlier, "reaction:send", {"roomId": room["id"], "emoji": "😂", "mediaTime": 6})
    await earlier.disconnect()

    page = await open_room(new_page, server, anna, room["code"])
    await video_ready(page)
    await page.evaluate(RECORD_BURSTS_JS)
    await asyncio.sleep(1)
    assert await bursts(page) == []  # paused at 0: nothing yet

    await page.get_by_role("button", name="Play").click()
    await page.wait_for_function("window.bursts.length >= 1", timeout=10000)
    first = (await bursts(page))[0]
    assert first[0] == "🔥", first
    assert 2.9 <= first[1] < 3.8, first
    await screenshot(page, "room-reaction-replay")
    await page.wait_for_function("window.bursts.length >= 2", timeout=10000)
    assert [(e, r) for e, _, r in await bursts(page)] == [("🔥", True), ("😂", True)]
    assert 5.9 <= (await bursts(page))[1][1] < 6.8, await bursts(page)

    # Anna reacts now (live), and Boris, watching along right now, reacts too (live).
    await page.locator('#reactions-bar [data-emoji="❤️"]').click()
    live = await sio_client(boris.token)
    await call(live, "room:join", {"roomId": room["id"]})
    now = await page.evaluate("document.querySelector('#player-stage video').currentTime")
    await call(live, "reaction:send", {"roomId": room["id"], "emoji": "👏", "mediaTime": now})
    await page.wait_for_function("window.bursts.length >= 4", timeout=5000)
    assert sorted(e for e, _, r in (await bursts(page))[2:] if not r) == sorted(["❤️", "👏"])
    passed = now + 1

    # Watching the start again: Boris's earlier reactions burst again; the live ones do not.
    await page.evaluate("window.bursts = []")
    await page.locator("#control-seek").fill("1")
    await wait_for_time(page, passed + 0.5)
    await asyncio.sleep(0.5)
    assert [(e, r) for e, _, r in await bursts(page)] == [("🔥", True), ("😂", True)]


async def test_a_jump_ahead_replays_only_what_comes_after_it(
    server: Server,
    http: aiohttp.ClientSession,
    new_page: PageFactory,
    sio_client: SioFactory,
    clip_url: str,  # noqa: F811
) -> None:
    anna, boris = await register(http, "anna"), await register(http, "boris")
    room = await create_room(http, anna, title="Mid", url=clip_url)
    earlier = await sio_client(boris.token)
    await call(earlier, "room:join", {"roomId": room["id"]})
    for emoji, at in (("😮", 1.0), ("🔥", 9.0), ("👏", 11.0)):
        await call(
            earlier, "reaction:send", {"roomId": room["id"], "emoji": emoji, "mediaTime": at}
        )
    page = await open_room(new_page, server, anna, room["code"])
    await video_ready(page)
    await page.evaluate(RECORD_BURSTS_JS)
    # The host (on another device) starts the room at 8 s: Anna's player jumps there.
    host = await sio_client(anna.token)
    await call(host, "room:join", {"roomId": room["id"]})
    await call(host, "player:play", {"roomId": room["id"], "position": 8})
    await wait_for_time(page, 11.5)
    await asyncio.sleep(0.3)
    emojis = [e for e, _, r in await bursts(page) if r]
    assert emojis == ["🔥", "👏"], await bursts(page)
    await expect(page.locator(".reactions-float__item--replay")).not_to_have_count(0)
