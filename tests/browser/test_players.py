"""The YouTube, Vimeo and Twitch adapters (static/js/players/) in headless Chromium.

Their SDKs come from the internet, which the tests do not have: each page gets a stand-in from
tests/fakes/players/ at the SDK's official URL (``page.route``), implementing the documented API
our adapter uses on top of a real <video> that plays the test's local MP4. Any other request to
those sites gets a 404. Positions are read from that <video> (``#player-stage video``).
"""

from __future__ import annotations

import asyncio
import json
import re
import weakref
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, Route, expect

from composition import Server
from tests.browser.conftest import PageFactory, screenshot
from tests.browser.test_rooms import (  # noqa: F401 (fixtures)
    SYNC_TOLERANCE_S,
    browser,
    clip_url,
    create_room,
    gap,
    position,
)
from tests.conftest import Account, register

pytestmark = pytest.mark.browser

FAKES = Path(__file__).resolve().parents[1] / "fakes" / "players"
COMMON = FAKES / "common.js"  # served in front of each fake
#: The official SDK URLs the adapters load, and the stand-in served for each.
SDKS = {
    "https://www.youtube.com/iframe_api": FAKES / "youtube.js",
    "https://player.vimeo.com/api/player.js": FAKES / "vimeo.js",
    "https://player.twitch.tv/js/embed/v1.js": FAKES / "twitch.js",
}
THIRD_PARTY = re.compile(r"^https?://([^/]+\.)?(youtube\.com|ytimg\.com|vimeo\.com|twitch\.tv)/")
VIDEO = "document.querySelector('#player-stage video')"
YOUTUBE_ID = "dQw4w9WgXcQ"
EMBED_FORBIDDEN_ID = "kJQP7kiw5Fk"
#: Notes whether any video on the page ever advanced while playing.
NOTE_PLAYING_JS = """
window.playedWhileJoining = false;
document.addEventListener('timeupdate', (event) => {
  if (!event.target.paused && event.target.currentTime > 0) window.playedWhileJoining = true;
}, true);
"""
#: Each room page's console output.
CONSOLE: weakref.WeakKeyDictionary[Page, list[str]] = weakref.WeakKeyDictionary()


async def serve_fake_sdks(page: Page, media_url: str, **config: Any) -> None:
    """Route the SDK URLs to the fakes (configured with ``media_url`` and ``config``)."""
    prelude = f"window.__fakePlayerConfig = {json.dumps({'media': media_url, **config})};\n"

    async def fulfil(route: Route) -> None:
        fake = SDKS.get(route.request.url)
        if fake is None:
            await route.fulfill(status=404, body="not here: the tests are offline")
        else:
            body = prelude + COMMON.read_text(encoding="utf-8") + fake.read_text(encoding="utf-8")
            await route.fulfill(body=body, content_type="text/javascript")

    await page.route(THIRD_PARTY, fulfil)


async def open_room(
    new_page: PageFactory,
    server: Server,
    account: Account,
    code: str,
    media: str,
    *,
    init_script: str | None = None,
    **config: Any,
) -> Page:
    """A signed-in page on the room, the fake SDKs in place before any script runs."""
    page = await new_page(server)
    if init_script is not None:
        await page.add_init_script(script=init_script)
    await serve_fake_sdks(page, media, **config)
    CONSOLE[page] = []
    page.on("console", lambda message: CONSOLE[page].append(message.text))
    await page.goto(f"{server.url}/app?lang=en")
    await page.evaluate("token => localStorage.setItem('vmeste.token', token)", account.token)
    await page.goto(f"{server.url}/app/room/{code}?lang=en")
    await expect(page.locator('[data-screen="room"]')).to_be_visible()
    return page


def player_errors(page: Page) -> list[str]:
    """What the room page logged about a player that could not play (each shown in the player)."""
    return [text for text in CONSOLE[page] if "cannot play" in text]


async def player_ready(page: Page, adapter: str) -> None:
    """The room's player is the ``adapter`` class, loaded, on top of a fake's <video>."""
    await page.wait_for_function(
        "(name) => { const p = window.vmeste.roomView.player;"
        " return p && p.constructor.name === name && p.ready(); }",
        arg=adapter,
    )
    await page.wait_for_function(f"() => {VIDEO}?.dataset.fakePlayer && {VIDEO}.readyState >= 2")


async def playing_past(page: Page, seconds: float) -> None:
    await page.wait_for_function(f"() => !{VIDEO}.paused && {VIDEO}.currentTime > {seconds}")


async def settled_gaps(host: Page, viewer: Page) -> list[float]:
    """The viewer's distance from the host, three times, once drift correction had time."""
    gaps = []
    for _ in range(3):
        gaps.append(await gap(host, viewer))
        await asyncio.sleep(0.3)
    return gaps


async def back_in_step(host: Page, viewer: Page, *, within: float) -> None:
    """Wait until the viewer is within the tolerance of the host, for at most ``within`` s."""
    deadline = asyncio.get_running_loop().time() + within
    while await gap(host, viewer) >= SYNC_TOLERANCE_S:
        assert asyncio.get_running_loop().time() < deadline, "the viewer was not brought back"
        await asyncio.sleep(0.2)


async def two_viewers(
    server: Server,
    http: aiohttp.ClientSession,
    new_page: PageFactory,
    media: str,
    link: str,
    adapter: str,
    *,
    viewer_init_script: str | None = None,
    **viewer_config: Any,
) -> tuple[Page, Page]:
    """The host's page and a viewer's (its fake SDKs configured with ``viewer_config``)."""
    anna, boris = await register(http, "anna"), await register(http, "boris")
    room = await create_room(http, anna, title=adapter, url=link)
    host = await open_room(new_page, server, anna, room["code"], media)
    viewer = await open_room(
        new_page,
        server,
        boris,
        room["code"],
        media,
        init_script=viewer_init_script,
        **viewer_config,
    )
    await asyncio.gather(player_ready(host, adapter), player_ready(viewer, adapter))
    return host, viewer


async def play_seek_and_pause(host: Page, viewer: Page) -> None:
    """The host plays, seeks to 9 s, pauses: the viewer follows each step."""
    await host.get_by_role("button", name="Play", exact=True).click()
    for page in (host, viewer):
        await playing_past(page, 1)

    await host.locator("#control-seek").fill("9")
    for page in (host, viewer):
        await playing_past(page, 9)
    await asyncio.sleep(1.5)  # let drift correction settle
    gaps = await settled_gaps(host, viewer)
    assert max(gaps) < SYNC_TOLERANCE_S, gaps

    await host.get_by_role("button", name="Pause", exact=True).click()
    for page in (host, viewer):
        await page.wait_for_function(f"() => {VIDEO}.paused")
    await asyncio.sleep(0.6)  # both held at the room's position
    (paused_host, _), (paused_viewer, _) = await asyncio.gather(position(host), position(viewer))
    assert abs(paused_host - paused_viewer) < SYNC_TOLERANCE_S, (paused_host, paused_viewer)
    assert paused_host > 9
    for page in (host, viewer):
        assert await page.evaluate(f"{VIDEO}.paused")
        assert player_errors(page) == []


async def fake_calls(page: Page, name: str) -> list[list[Any]]:
    """The fake SDK's log of ``name`` calls, each as its argument list."""
    calls = await page.evaluate("window.__fakePlayerCalls")
    return [call[1:] for call in calls if call[0] == name]


async def test_youtube_viewers_follow_play_seek_pause_and_speed(
    server: Server,
    http: aiohttp.ClientSession,
    new_page: PageFactory,
    clip_url: str,  # noqa: F811
) -> None:
    link = f"https://www.youtube.com/watch?v={YOUTUBE_ID}"
    host, viewer = await two_viewers(server, http, new_page, clip_url, link, "YouTubePlayer")
    # YouTube's rate has fixed steps: no nudging, but the room's speeds are among its steps.
    capabilities = await host.evaluate("window.vmeste.roomView.player.capabilities")
    assert capabilities == {
        "nudge": False,
        "rates": [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2],
        "seek": True,
    }
    speed = host.get_by_label("Playback speed")
    await expect(speed).to_be_visible()
    assert await speed.locator("option:not([disabled])").all_text_contents() == [
        "0.5×",
        "0.75×",
        "1×",
        "1.25×",
        "1.5×",
        "2×",
    ]
    await play_seek_and_pause(host, viewer)
    await screenshot(viewer, "room-youtube-paused")

    # Someone joining the paused room waits at its position without playing a moment: seekTo()
    # on a cued video starts it, so the adapter has to keep it paused.
    clara = await register(http, "clara")
    code = await host.evaluate("window.vmeste.roomView.room.code")
    joiner = await open_room(new_page, server, clara, code, clip_url, init_script=NOTE_PLAYING_JS)
    await player_ready(joiner, "YouTubePlayer")
    room_position = await host.evaluate("window.vmeste.roomView.playback.position")
    await joiner.wait_for_function(
        f"(at) => Math.abs({VIDEO}.currentTime - at) < 0.05", arg=room_position
    )
    await asyncio.sleep(0.6)
    assert await joiner.evaluate(f"{VIDEO}.paused")
    assert await joiner.evaluate(f"{VIDEO}.currentTime") == pytest.approx(room_position, abs=0.05)
    assert await joiner.evaluate("window.playedWhileJoining") is False
    await joiner.close()

    # A viewer thrown 1 s ahead is brought back by a seek (YouTube cannot nudge its rate).
    await host.get_by_role("button", name="Play", exact=True).click()
    for page in (host, viewer):
        await page.wait_for_function(f"() => !{VIDEO}.paused")
    await asyncio.sleep(1.5)
    seeks_before = len(await fake_calls(viewer, "seekTo"))
    await viewer.evaluate(f"""() => {{
      window.rates = [];
      {VIDEO}.addEventListener('ratechange', () => window.rates.push({VIDEO}.playbackRate));
      {VIDEO}.currentTime += 1;
    }}""")
    assert await gap(host, viewer) > 0.8
    # Corrected within a seek cool-down (2.5 s after the last seek) and a few sync ticks.
    await back_in_step(host, viewer, within=5)
    gaps = await settled_gaps(host, viewer)
    assert max(gaps) < SYNC_TOLERANCE_S, gaps
    seeks = (await fake_calls(viewer, "seekTo"))[seeks_before:]
    assert seeks, "the drift was not corrected by seekTo"
    assert all(allow_seek_ahead is True for _, allow_seek_ahead in seeks), seeks
    assert await viewer.evaluate("window.rates") == []  # never nudged

    # The host picks 1.5×: both pages ask YouTube for it, and both videos run at it.
    await speed.select_option("1.5")
    for page in (host, viewer):
        await page.wait_for_function(f"() => {VIDEO}.playbackRate === 1.5")
        assert [1.5] in await fake_calls(page, "setPlaybackRate")
        assert await page.evaluate("window.vmeste.roomView.playback.rate") == 1.5
    await asyncio.sleep(1.5)
    (pos_a, at_a), (pos_b, at_b) = await asyncio.gather(position(host), position(viewer))
    assert abs(pos_b - (pos_a + (at_b - at_a) / 1000 * 1.5)) < SYNC_TOLERANCE_S


async def test_vimeo_viewers_follow_play_seek_and_pause(
    server: Server,
    http: aiohttp.ClientSession,
    new_page: PageFactory,
    clip_url: str,  # noqa: F811
) -> None:
    link = "https://vimeo.com/76979871"
    host, viewer = await two_viewers(server, http, new_page, clip_url, link, "VimeoPlayer")
    # Vimeo plays at 1× only here (speed needs the owner's paid plan): no speed picker.
    await expect(host.locator("#control-play")).to_be_enabled()
    await expect(host.get_by_label("Playback speed")).to_be_hidden()
    await play_seek_and_pause(host, viewer)
    # The adapter's own idea of the time (extrapolated from Vimeo's events) agrees with the video.
    for page in (host, viewer):
        adapter_time = await page.evaluate("window.vmeste.roomView.player.currentTime()")
        video_time = await page.evaluate(f"{VIDEO}.currentTime")
        assert abs(adapter_time - video_time) < 0.1, (adapter_time, video_time)


async def test_twitch_live_channel_follows_play_and_pause(
    server: Server,
    http: aiohttp.ClientSession,
    new_page: PageFactory,
    clip_url: str,  # noqa: F811
) -> None:
    link = "https://www.twitch.tv/some_channel"
    host, viewer = await two_viewers(server, http, new_page, clip_url, link, "TwitchPlayer")
    # Live: play/pause only, no seek bar and no speed.
    for page in (host, viewer):
        await expect(page.locator("#controls")).to_have_attribute("data-live", "true")
        await expect(page.locator("#control-seek")).to_be_hidden()
        await expect(page.get_by_label("Playback speed")).to_be_hidden()
        await expect(page.locator("#control-duration")).to_have_text("Live")
    await expect(host.locator("#control-play")).to_be_enabled()
    # Not started on load (autoplay: false), waiting for the room.
    assert await viewer.evaluate(f"{VIDEO}.paused")

    await host.get_by_role("button", name="Play", exact=True).click()
    for page in (host, viewer):
        await page.wait_for_function(f"() => !{VIDEO}.paused && {VIDEO}.currentTime > 0.5")
    await expect(viewer.locator("#control-play")).to_have_attribute("data-playing", "true")
    await screenshot(viewer, "room-twitch-live")

    await host.get_by_role("button", name="Pause", exact=True).click()
    for page in (host, viewer):
        await page.wait_for_function(f"() => {VIDEO}.paused")
    await expect(viewer.locator("#control-play")).to_have_attribute("data-playing", "false")
    assert await fake_calls(viewer, "seek") == []  # nothing to seek on a live stream
    assert player_errors(host) == player_errors(viewer) == []


async def test_youtube_embedding_refused_shows_a_message(
    server: Server,
    http: aiohttp.ClientSession,
    new_page: PageFactory,
    clip_url: str,  # noqa: F811
) -> None:
    anna = await register(http, "anna")
    link = f"https://youtu.be/{EMBED_FORBIDDEN_ID}"
    room = await create_room(http, anna, title="Blocked", url=link)
    # Error 150: "the owner of the requested video does not allow it to be played in embedded
    # players", reported after onReady, as YouTube does.
    page = await open_room(
        new_page, server, anna, room["code"], clip_url, errors={EMBED_FORBIDDEN_ID: 150}
    )
    await expect(page.locator("#player-error-text")).to_have_text(
        "The owner of this video doesn't allow playing it outside YouTube."
    )
    assert any("YouTube error 150" in text for text in player_errors(page))
    await screenshot(page, "room-youtube-embed-refused")


async def test_twitch_past_broadcast_follows_play_seek_and_pause(
    server: Server,
    http: aiohttp.ClientSession,
    new_page: PageFactory,
    clip_url: str,  # noqa: F811
) -> None:
    link = "https://www.twitch.tv/videos/1234567890"
    host, viewer = await two_viewers(server, http, new_page, clip_url, link, "TwitchPlayer")
    await expect(host.locator("#controls")).to_have_attribute("data-live", "false")
    await expect(host.locator("#control-seek")).to_be_enabled()
    await expect(host.get_by_label("Playback speed")).to_be_hidden()
    await play_seek_and_pause(host, viewer)


# --- The Vimeo adapter's clock -----------------------------------------------------------------
#
# Vimeo's getters are asynchronous, so VimeoPlayer keeps the last position Vimeo reported and
# extrapolates it while playing. These drive the adapter alone on a bare page (no room, no
# SyncController to paper over a wrong reading) against the fake, which reports time as the real
# player does: timeupdate every 250 ms while playing only, and a stale one after a seek request.

ADAPTER_PAGE = """<!doctype html>
<div id="stage" style="width: 320px; height: 180px"></div>
<script type="module">
  import { VimeoPlayer } from "/static/js/players/vimeo.js";
  const adapter = new VimeoPlayer(document.getElementById("stage"));
  window.adapter = adapter;
  adapter.load({ kind: "vimeo", sourceId: "76979871" }).then(() => (window.adapterLoaded = true));
</script>
"""
STAGE_VIDEO = "document.querySelector('#stage video')"
#: [what the adapter says, what the video is at], read at the same moment.
READ_BOTH_JS = f"[window.adapter.currentTime(), {STAGE_VIDEO}.currentTime]"


async def vimeo_adapter_page(new_page: PageFactory, server: Server, media: str) -> Page:
    """A bare page with a loaded VimeoPlayer as ``window.adapter`` (its SDK: ``adapter.player``)."""
    page = await new_page(server)
    await serve_fake_sdks(page, media)
    url = f"{server.url}/__vimeo-adapter"

    async def fulfil(route: Route) -> None:
        await route.fulfill(body=ADAPTER_PAGE, content_type="text/html")

    await page.route(url, fulfil)
    await page.goto(url)
    await page.wait_for_function(f"() => window.adapterLoaded && {STAGE_VIDEO}.readyState >= 2")
    return page


async def next_timeupdate_then(page: Page, delay_ms: int, action: str) -> None:
    """Run ``action`` (JS) ``delay_ms`` after Vimeo's next timeupdate: that many ms since the
    adapter last heard the time (the next report is 250 ms after the last)."""
    await page.evaluate(
        """([delayMs, action]) => new Promise((resolve) => {
          const sdk = window.adapter.player;
          const once = () => {
            sdk.off("timeupdate", once);
            setTimeout(() => resolve(new Function(action)()), delayMs);
          };
          sdk.on("timeupdate", once);
        })""",
        [delay_ms, action],
    )


async def pause_between_reports(page: Page, pause: str) -> float:
    """Pause (``pause``: JS) 200 ms after Vimeo's last time report, then check the adapter
    stopped where the video did, not at that older report. Returns where the video stopped."""
    await next_timeupdate_then(page, 200, pause)
    await page.wait_for_function(f"() => {STAGE_VIDEO}.paused && window.adapter.paused()")
    await asyncio.sleep(0.3)
    adapter_time, video_time = await page.evaluate(READ_BOTH_JS)
    assert abs(adapter_time - video_time) < 0.05, (adapter_time, video_time)
    return video_time


async def test_vimeo_adapter_clock_stands_still_while_paused(
    server: Server,
    new_page: PageFactory,
    clip_url: str,  # noqa: F811
) -> None:
    page = await vimeo_adapter_page(new_page, server, clip_url)
    await page.evaluate("window.adapter.play()")
    await page.wait_for_function(f"() => !{STAGE_VIDEO}.paused && {STAGE_VIDEO}.currentTime > 1")

    # Paused 200 ms after Vimeo last reported the time: the adapter stops where the video did,
    # not at that older report.
    video_time = await pause_between_reports(page, "window.adapter.pause()")

    # Two seconds later it resumes from there: the pause is not counted as playing time, neither
    # at the play() call nor in the moments until Vimeo reports the time again.
    await asyncio.sleep(2)
    resumed = await page.evaluate(f"""() => new Promise((resolve) => {{
      window.adapter.play();
      const readings = [{READ_BOTH_JS}];
      const timer = setInterval(() => readings.push({READ_BOTH_JS}), 50);
      setTimeout(() => {{ clearInterval(timer); resolve(readings); }}, 1000);
    }})""")
    assert resumed[0][0] == pytest.approx(video_time, abs=0.05), resumed[0]
    # (Off only by the video's start-up delay until Vimeo's next report.)
    worst = max(resumed, key=lambda reading: abs(reading[0] - reading[1]))
    assert abs(worst[0] - worst[1]) < SYNC_TOLERANCE_S, worst
    assert await page.evaluate(f"{STAGE_VIDEO}.currentTime") > video_time + 0.5


async def test_vimeo_adapter_ignores_time_reports_from_before_a_seek(
    server: Server,
    new_page: PageFactory,
    clip_url: str,  # noqa: F811
) -> None:
    page = await vimeo_adapter_page(new_page, server, clip_url)
    await page.evaluate("window.adapter.play()")
    await page.wait_for_function(f"() => !{STAGE_VIDEO}.paused && {STAGE_VIDEO}.currentTime > 1")

    # Each time report after seek(15), with what the adapter says once it has heard it.
    reports = await page.evaluate("""() => new Promise((resolve) => {
      const sdk = window.adapter.player;
      const reports = [];
      const note = (event) => (data) => {
        reports.push([event, data.seconds, window.adapter.currentTime()]);
      };
      const onTime = note("timeupdate");
      const onSeeked = note("seeked");
      sdk.on("timeupdate", onTime);
      sdk.on("seeked", onSeeked);
      window.adapter.seek(15);
      setTimeout(() => {
        sdk.off("timeupdate", onTime);
        sdk.off("seeked", onSeeked);
        resolve(reports);
      }, 1000);
    })""")
    # The fake did send a report from before the seek (as Vimeo can), then the seek landed.
    assert reports[0][0] == "timeupdate", reports
    assert reports[0][1] < 5, reports
    assert any(event == "seeked" for event, _, _ in reports), reports
    # Through all of it the adapter stayed at the new position.
    for event, _, adapter_time in reports:
        assert 15 <= adapter_time < 16.5, (event, adapter_time, reports)
    adapter_time, video_time = await page.evaluate(READ_BOTH_JS)
    assert video_time > 15
    assert abs(adapter_time - video_time) < 0.1, (adapter_time, video_time)


async def test_vimeo_adapter_takes_the_position_of_play_and_pause_events(
    server: Server,
    new_page: PageFactory,
    clip_url: str,  # noqa: F811
) -> None:
    """Play and pause started inside Vimeo's player (not through the adapter) carry the time."""
    page = await vimeo_adapter_page(new_page, server, clip_url)
    await page.evaluate("window.adapter.player.play()")
    await page.wait_for_function(f"() => !{STAGE_VIDEO}.paused && {STAGE_VIDEO}.currentTime > 1")
    assert await page.evaluate("window.adapter.paused()") is False

    # Paused by Vimeo 200 ms after its last time report: the pause event's position counts.
    video_time = await pause_between_reports(page, "window.adapter.player.pause()")

    # Played by Vimeo 1.5 s later: from its play event on, the adapter counts from there.
    await asyncio.sleep(1.5)
    at_play = await page.evaluate(f"""() => new Promise((resolve) => {{
      const sdk = window.adapter.player;
      const onPlay = () => {{
        sdk.off("play", onPlay);
        resolve({READ_BOTH_JS});
      }};
      sdk.on("play", onPlay);  // after the adapter's own listener
      sdk.play();
    }})""")
    assert abs(at_play[0] - at_play[1]) < 0.1, at_play
    assert at_play[0] < video_time + 0.5, (at_play, video_time)


# --- Autoplay refused ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "adapter", "config"),
    [
        # YouTube says nothing: playVideo() just leaves it unstarted (the adapter times out).
        (f"https://www.youtube.com/watch?v={YOUTUBE_ID}", "YouTubePlayer", {}),
        # ... or buffers a moment and falls back (the adapter must not take that for a start).
        (
            f"https://www.youtube.com/watch?v={YOUTUBE_ID}",
            "YouTubePlayer",
            {"autoplayFallsBack": True},
        ),
        # Vimeo's play() rejects with a NotAllowedError.
        ("https://vimeo.com/76979871", "VimeoPlayer", {}),
        # Twitch emits PLAYBACK_BLOCKED (a past broadcast, so that it has a position to follow).
        ("https://www.twitch.tv/videos/1234567890", "TwitchPlayer", {}),
    ],
    ids=["youtube", "youtube-falls-back", "vimeo", "twitch"],
)
async def test_viewer_whose_browser_blocks_autoplay_taps_to_join(
    server: Server,
    http: aiohttp.ClientSession,
    new_page: PageFactory,
    clip_url: str,  # noqa: F811
    link: str,
    adapter: str,
    config: dict[str, Any],
) -> None:
    host, viewer = await two_viewers(
        server,
        http,
        new_page,
        clip_url,
        link,
        adapter,
        viewer_init_script=NOTE_PLAYING_JS,
        autoplayBlocked=True,
        **config,
    )
    await host.get_by_role("button", name="Play", exact=True).click()
    await playing_past(host, 0.5)

    # The viewer's player refuses to start without a gesture: the page asks for a tap.
    tap = viewer.get_by_role("button", name="Tap to watch together")
    await expect(tap).to_be_visible(timeout=8000)
    assert await viewer.evaluate("window.__fakePlayerBlocked") >= 1
    assert await viewer.evaluate(f"{VIDEO}.paused")
    assert await viewer.evaluate("window.playedWhileJoining") is False
    await screenshot(viewer, f"room-{adapter.lower()}-tap-to-play")

    play_method = "playVideo" if adapter == "YouTubePlayer" else "play"
    plays_before = len(await fake_calls(viewer, play_method))
    await tap.click()
    await expect(tap).to_be_hidden()
    await viewer.wait_for_function(f"() => !{VIDEO}.paused")
    # The tap starts the player once; the sync does not start it again while it gets going.
    assert len(await fake_calls(viewer, play_method)) - plays_before == 1
    # In step with the host within a seek cool-down and a few sync ticks.
    await back_in_step(host, viewer, within=6)
    await asyncio.sleep(1)
    gaps = await settled_gaps(host, viewer)
    assert max(gaps) < SYNC_TOLERANCE_S, gaps
    await expect(viewer.locator("#control-play")).to_have_attribute("data-playing", "true")
    await expect(tap).to_be_hidden()
    assert player_errors(host) == player_errors(viewer) == []
