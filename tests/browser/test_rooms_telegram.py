"""A room opened from Telegram (start_param), in Telegram's dark theme, with autoplay blocked."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from playwright.async_api import expect

from composition import Server
from tests.browser.conftest import PageFactory, screenshot, signed_init_data
from tests.browser.test_rooms import clip_url, create_room, video_ready  # noqa: F401 (fixture)
from tests.conftest import TEST_BOT_TOKEN, ServerFactory, SioFactory, register

pytestmark = pytest.mark.browser

OLGA = {
    "id": 5550002,
    "first_name": "Olga",
    "username": "olga",
    "language_code": "en",
    "allows_write_to_pm": True,
}


#: Telegram's iOS and Android web views refuse to start media with sound before the user has
#: touched the page; headless Chromium is more lenient (and our clip has no sound), so the rule
#: is enforced here the way those web views do: play() rejects with NotAllowedError.
STRICT_AUTOPLAY_JS = """
(() => {
  let touched = false;
  window.addEventListener("pointerdown", (event) => { if (event.isTrusted) touched = true; }, true);
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function () {
    if (!touched) return Promise.reject(new DOMException("needs a gesture", "NotAllowedError"));
    return play.call(this);
  };
})();
"""


@pytest.fixture
async def server(make_server: ServerFactory) -> Server:
    # Telegram sign-in needs a bot token; its Bot API is unreachable (set-up just retries).
    return await make_server(bot_token=TEST_BOT_TOKEN, telegram_api_url="http://127.0.0.1:9")


async def test_start_param_opens_the_room_and_a_tap_joins_playback(
    server: Server,
    http: aiohttp.ClientSession,
    new_page: PageFactory,
    sio_client: SioFactory,
    clip_url: str,  # noqa: F811
) -> None:
    anna = await register(http, "anna")
    room = await create_room(http, anna, title="Friday film", url=clip_url)
    # The host is already watching (from another device): the room is playing.
    host = await sio_client(anna.token)
    joined = await host.call("room:join", {"roomId": room["id"]})
    assert joined["ok"], joined
    played = await host.call("player:play", {"roomId": room["id"], "position": 2})
    assert played["ok"], played

    telegram = signed_init_data(OLGA)
    telegram.init_data_unsafe["start_param"] = f"room_{room['code']}"
    page = await new_page(server, telegram=telegram)
    await page.context.add_init_script(script=STRICT_AUTOPLAY_JS)
    await page.goto(f"{server.url}/app")

    await expect(page.locator("#room-title")).to_have_text("Friday film")
    assert f"/app/room/{room['code']}" in page.url
    await video_ready(page)
    # No gesture yet, so the browser refuses to start the video: ask for a tap.
    tap = page.get_by_role("button", name="Tap to watch together")
    await expect(tap).to_be_visible()
    assert await page.evaluate("document.querySelector('#player-stage video').paused")
    await screenshot(page, "telegram-room-tap-to-play")

    await tap.click()
    await expect(tap).to_be_hidden()
    await page.wait_for_function("() => !document.querySelector('#player-stage video').paused")
    await asyncio.sleep(1)
    # In step with the room: 2 s plus the time since play (give or take the start-up lead).
    current = await page.evaluate("document.querySelector('#player-stage video').currentTime")
    assert current > 2.5

    calls = [call[0] for call in await page.evaluate("window.__telegramCalls")]
    assert "BackButton.show" in calls
    assert "HapticFeedback.impactOccurred" in calls or "HapticFeedback.selectionChanged" in calls
    await screenshot(page, "telegram-room")
