"""static/js/sync.js on its own: the drift rules, driven by hand with a fake player and clock."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page

from composition import Server

pytestmark = pytest.mark.browser

#: A fake adapter and clock; `run(steps)` advances time and ticks, logging what the player was told.
HARNESS = """
async (script) => {
  const { SyncController, decide, expectedPosition, DEFAULTS } = await import('/static/js/sync.js');
  const log = [];
  const clock = { t: 1_000_000, serverNow() { return this.t; } };
  const player = {
    capabilities: { nudge: true, rates: null, seek: true },
    time: 0, isPaused: true, rate: 1, isBuffering: false, refuse: false,
    ready: () => true,
    currentTime() { return this.time; },
    paused() { return this.isPaused; },
    buffering() { return this.isBuffering; },
    play() {
      log.push(['play']);
      if (this.refuse) return Promise.reject(new DOMException('no', 'NotAllowedError'));
      this.isPaused = false; return Promise.resolve();
    },
    pause() { log.push(['pause']); this.isPaused = true; },
    seek(s) { log.push(['seek', Math.round(s * 1000) / 1000]); this.time = s; },
    setRate(r) { log.push(['rate', Math.round(r * 1000) / 1000]); this.rate = r; },
  };
  let now = 0;
  const sync = new SyncController({ player, clock, now: () => now });
  /** Advance both clocks by ms; a playing player moves at its rate. */
  const advance = (ms) => {
    clock.t += ms; now += ms;
    if (!player.isPaused && !player.isBuffering) player.time += ms / 1000 * player.rate;
  };
  const flush = () => new Promise((resolve) => setTimeout(resolve, 0));
  const ctx = { sync, player, clock, log, advance, flush, decide, expectedPosition, DEFAULTS,
                tick: () => sync.tick() };
  return await (new Function('ctx', `return (async () => { ${script} })()`))(ctx);
}
"""


async def run(page: Page, script: str) -> Any:
    return await page.evaluate(HARNESS, script)


@pytest.fixture
async def harness(server: Server, page: Page) -> Page:
    await page.goto(f"{server.url}/static/css/app.css")  # any page of the app's origin
    return page


async def test_expected_position(harness: Page) -> None:
    result = await run(
        harness,
        """
        const { expectedPosition: at } = ctx;
        return [
          at({ status: 'playing', position: 10, rate: 1, updatedAt: 1000 }, 3000),
          at({ status: 'playing', position: 10, rate: 2, updatedAt: 1000 }, 1500),
          at({ status: 'playing', position: 10, rate: 1, updatedAt: 5000 }, 3000),  // scheduled
          at({ status: 'paused', position: 7, rate: 1, updatedAt: 1000 }, 9000),
        ];
        """,
    )
    assert result == [12, 11, 10, 7]


async def test_decide_dead_band_nudge_and_seek(harness: Page) -> None:
    result = await run(
        harness,
        """
        const d = (drift, o = {}) =>
          ctx.decide(drift, { canRate: true, baseRate: 1, seekAllowed: true, ...o });
        return {
          inside: d(30), ahead: d(200), behind: d(-200), tiny: d(-50),
          clamped: d(1000), large: d(2000), cooling: d(2000, { seekAllowed: false }),
          noRateSmall: d(200, { canRate: false }), noRateLarge: d(400, { canRate: false }),
          noRateCooling: d(400, { canRate: false, seekAllowed: false }),
        };
        """,
    )
    assert result["inside"] == {"action": "rate", "rate": 1}
    assert result["ahead"]["action"] == "rate"
    assert result["ahead"]["rate"] < 1
    assert result["behind"]["action"] == "rate"
    assert result["behind"]["rate"] > 1
    assert result["ahead"]["rate"] == pytest.approx(0.8)  # closes 200 ms in about a second
    assert result["tiny"]["rate"] == pytest.approx(1.05)  # at least the minimum nudge
    assert result["clamped"]["rate"] == pytest.approx(0.75)
    assert result["large"] == {"action": "seek"}
    assert result["cooling"]["action"] == "rate"  # no seek inside the cool-down: nudge instead
    assert result["noRateSmall"] == {"action": "none"}
    assert result["noRateLarge"] == {"action": "seek"}
    assert result["noRateCooling"] == {"action": "none"}


async def test_scheduled_start_waits_then_plays_in_step(harness: Page) -> None:
    log = await run(
        harness,
        """
        const { sync, player, clock, log, advance, flush } = ctx;
        player.time = 3;
        const start = clock.t + 300;
        sync.setPlayback({ status: 'playing', position: 5, rate: 1, updatedAt: start, seq: 1 });
        log.push(['--']);
        advance(100); sync.tick(); await flush();
        advance(200); sync.tick(); await flush();   // the start time: play from exactly 5
        log.push(['--']);
        advance(250); sync.tick(); await flush();   // in step: nothing to do
        return log;
        """,
    )
    # Waits paused at the start position, then plays from it; no correction once in step.
    assert log[: log.index(["--"])] == [["seek", 5]]
    second = log[log.index(["--"]) + 1 :]
    middle = second[: second.index(["--"])]
    assert ["play"] in middle
    assert not [c for c in middle if c[0] == "seek" and abs(c[1] - 5) > 0.01]
    assert second[second.index(["--"]) + 1 :] in ([], [["rate", 1]])


async def test_large_drift_seeks_once_per_cooldown(harness: Page) -> None:
    log = await run(
        harness,
        """
        const { sync, player, clock, log, advance, flush } = ctx;
        player.isPaused = false; player.time = 20;
        sync.setPlayback({ status: 'playing', position: 20, rate: 1, updatedAt: clock.t, seq: 1 });
        log.length = 0;
        player.time = 25;               // something threw it 5 s ahead
        sync.tick();
        player.time = 25;               // ...and the seek did not take (a slow embed)
        for (let i = 0; i < 4; i += 1) { advance(250); sync.tick(); }
        return log;
        """,
    )
    seeks = [c for c in log if c[0] == "seek"]
    assert len(seeks) == 1, log  # the cool-down keeps it from seeking again and again
    rates = [c[1] for c in log if c[0] == "rate"]
    assert rates
    assert min(rates) < 1  # meanwhile it slows down to close the gap


async def test_buffering_viewer_is_left_alone_and_blocked_autoplay_is_reported(
    harness: Page,
) -> None:
    result = await run(
        harness,
        """
        const { sync, player, clock, log, advance, flush } = ctx;
        player.isPaused = false; player.isBuffering = true; player.time = 1;
        sync.setPlayback({ status: 'playing', position: 3, rate: 1, updatedAt: clock.t, seq: 1 });
        advance(250); sync.tick();
        const whileBuffering = log.slice();
        player.isBuffering = false; player.isPaused = true; player.refuse = true;
        let blocked = 0;
        sync.addEventListener('blocked', () => { blocked += 1; });
        sync.tick(); await flush(); await flush();
        sync.tick(); await flush();
        const playsWhileBlocked = log.filter((c) => c[0] === 'play').length;
        player.refuse = false;
        sync.resync(); await flush();
        return { whileBuffering, blocked, playsWhileBlocked, playing: !player.isPaused,
                 time: player.time };
        """,
    )
    assert result["whileBuffering"] == []
    assert result["blocked"] == 1
    assert result["playsWhileBlocked"] == 1  # no retry loop until the user taps
    assert result["playing"] is True
    assert result["time"] == pytest.approx(3.25, abs=0.01)  # joins where the room is


async def test_paused_room_holds_the_player_at_its_position(harness: Page) -> None:
    log = await run(
        harness,
        """
        const { sync, player, clock, log } = ctx;
        player.isPaused = false; player.time = 40;
        sync.setPlayback({ status: 'paused', position: 12.5, rate: 1, updatedAt: clock.t, seq: 3 });
        return log;
        """,
    )
    assert ["pause"] in log
    assert ["seek", 12.5] in log
