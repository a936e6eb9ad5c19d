// Keeping one player in step with the room's playback clock (docs/rooms-protocol.md, DESIGN §3).
//
// The server owns Playback {status, position, rate, updatedAt (server ms)}. While playing, the
// expected position at server time t is position + max(0, t - updatedAt) / 1000 * rate; before
// updatedAt (a start scheduled a little in the future) the player waits at `position`.
//
// Several times a second the controller compares the player with that expectation:
//   |drift| ≤ dead-band              → nothing (and back to the room's rate);
//   moderate drift, player can rate → nudge the rate so the gap closes in ~catchUpSeconds;
//   large drift, or a player that cannot nudge its rate (YouTube...) → seek, at most once per
//                                      cool-down, so a slow seek never turns into a seek loop.
// The room's own rate is applied to any player that supports it (YouTube has fixed steps).
// A buffering player is left alone (it catches up on its own); nobody else is paused for it.
//
// Pure: no DOM, no sockets. Time comes from the injected `clock.serverNow()` and `now()`;
// `tick()` is public so tests can drive it by hand.

export const DEFAULTS = Object.freeze({
  tickMs: 250, // how often start() checks the drift
  deadBandMs: 40, // drift we ignore
  noRateDeadBandMs: 250, // players without rate control: seeking costs more than this drift
  seekThresholdMs: 1500, // beyond this a rate nudge would take too long: seek
  seekCooldownMs: 2500, // after a seek, no other seek for this long
  catchUpSeconds: 1, // a nudge aims to close the gap in about this long
  maxNudge: 0.25, // the nudged rate stays within ±25 % of the room's rate
  minNudge: 0.05, // and moves at least 5 %, so the last few tens of ms close quickly too
  pausedToleranceMs: 250, // a paused player this far from the room's position is moved
});

/** Where the room's playback is at server time `serverNow` (ms), in seconds. */
export function expectedPosition(playback, serverNow) {
  if (!playback || playback.status !== "playing") return playback?.position ?? 0;
  const elapsed = Math.max(0, serverNow - playback.updatedAt);
  return playback.position + (elapsed / 1000) * playback.rate;
}

/**
 * What to do about `driftMs` (player minus expectation, ms) while playing.
 * Returns {action: "none"} | {action: "rate", rate} | {action: "seek"}.
 */
export function decide(driftMs, { canRate, baseRate, seekAllowed, options = DEFAULTS }) {
  const size = Math.abs(driftMs);
  if (!canRate) {
    if (size <= options.noRateDeadBandMs || !seekAllowed) return { action: "none" };
    return { action: "seek" };
  }
  if (size <= options.deadBandMs) return { action: "rate", rate: baseRate };
  if (size >= options.seekThresholdMs && seekAllowed) return { action: "seek" };
  // Ahead (drift > 0) → slower; behind → faster. Proportional, clamped.
  const wanted = Math.abs(driftMs) / 1000 / options.catchUpSeconds;
  const correction = Math.sign(driftMs) * Math.min(options.maxNudge, Math.max(options.minNudge, wanted));
  const factor = 1 - correction;
  return { action: "rate", rate: baseRate * factor };
}

/** Small continuous rate changes (drift correction). */
function canNudge(capabilities) {
  return Boolean(capabilities.nudge);
}

/** Any rate when nudging; otherwise only the room speeds the player lists (null = any). */
function canApplyRate(capabilities, rate) {
  const { rates = null } = capabilities;
  return canNudge(capabilities) || rates === null || rates.includes(rate);
}

/**
 * Player adapter interface (static/js/players/*.js):
 *   capabilities: {nudge: bool, rates: number[] | null, seek: bool}  (live streams: seek false)
 *     nudge: small continuous rate changes · rates: the room speeds it can play at, null = any
 *   currentTime(): seconds · paused(): bool · buffering(): bool · ready(): bool
 *   play(): Promise (rejects with error.name === "NotAllowedError" when autoplay is blocked)
 *   pause() · seek(seconds) · setRate(rate)
 */
export class SyncController extends EventTarget {
  constructor({ player, clock, now = () => performance.now(), options = {} }) {
    super();
    this.player = player;
    this.clock = clock;
    this.now = now;
    this.options = { ...DEFAULTS, ...options };
    this.playback = null;
    this.lastSeekAt = -Infinity;
    this.blocked = false; // autoplay refused: waiting for a tap
    this.playPending = false;
    this.appliedRate = null;
    this.lastDriftMs = null;
    this._timer = null;
    this._startTimer = null;
  }

  /** The room's new playback state (from the join snapshot, room:state or a command's ack). */
  setPlayback(playback) {
    this.playback = playback;
    this.lastSeekAt = -Infinity; // a new state deserves an immediate correction
    this.tick();
  }

  start() {
    this.stop();
    this._timer = setInterval(() => this.tick(), this.options.tickMs);
  }

  stop() {
    clearInterval(this._timer);
    clearTimeout(this._startTimer);
    this._timer = null;
    this._startTimer = null;
  }

  /** The user pressed "resync" (or tapped to play): forget cool-downs and correct now. */
  resync() {
    this.blocked = false;
    this.lastSeekAt = -Infinity;
    this.tick();
  }

  /** One check: bring the player to where the room is. */
  tick() {
    const { player, playback } = this;
    if (!playback || !player?.ready()) return;
    if (playback.status !== "playing") {
      this._hold(playback.position);
      return;
    }
    const serverNow = this.clock.serverNow();
    const live = !player.capabilities.seek;
    if (!live && serverNow < playback.updatedAt) {
      this._scheduleStart(playback.updatedAt - serverNow);
      return;
    }
    if (player.paused()) {
      if (this.blocked || this.playPending) return; // waiting for a tap, or starting already
      if (!live) this._seek(expectedPosition(playback, this.clock.serverNow()));
      this._play();
      return;
    }
    if (live || player.buffering()) return;

    const expected = expectedPosition(playback, this.clock.serverNow());
    const driftMs = (player.currentTime() - expected) * 1000;
    this.lastDriftMs = driftMs;
    const decision = decide(driftMs, {
      canRate: canNudge(player.capabilities),
      baseRate: playback.rate,
      seekAllowed: this.now() - this.lastSeekAt >= this.options.seekCooldownMs,
      options: this.options,
    });
    if (decision.action === "seek") {
      this._seek(expected);
      this._setRate(playback.rate);
    } else if (decision.action === "rate") {
      this._setRate(decision.rate);
    } else {
      this._setRate(playback.rate); // in step, or a player that cannot nudge: the room's speed
    }
  }

  /** Paused or idle: stay paused at the room's position. */
  _hold(position) {
    const { player } = this;
    clearTimeout(this._startTimer);
    this._startTimer = null;
    if (!player.paused()) player.pause();
    this._setRate(this.playback.rate ?? 1);
    if (!player.capabilities.seek) return;
    const offMs = Math.abs(player.currentTime() - position) * 1000;
    if (offMs > this.options.pausedToleranceMs) this._seek(position);
  }

  /** A start in the future: wait paused at the start position, then play on time. */
  _scheduleStart(inMs) {
    const { player, playback } = this;
    if (!player.paused()) player.pause();
    if (Math.abs(player.currentTime() - playback.position) * 1000 > this.options.deadBandMs) {
      this._seek(playback.position);
    }
    if (this._startTimer === null) {
      this._startTimer = setTimeout(() => {
        this._startTimer = null;
        this.tick();
      }, Math.max(0, inMs));
    }
  }

  _seek(position) {
    this.lastSeekAt = this.now();
    this.player.seek(Math.max(0, position));
    this.dispatchEvent(new CustomEvent("seek", { detail: { position } }));
  }

  _setRate(rate) {
    if (rate === this.appliedRate || !canApplyRate(this.player.capabilities, rate)) return;
    this.appliedRate = rate;
    this.player.setRate(rate);
  }

  /**
   * Play now, inside a user's tap: called synchronously (some web views honour a gesture only
   * there), and counted as the pending start so the next tick does not start it again.
   */
  playNow() {
    this.blocked = false;
    if (this.playPending) return;
    let started;
    try {
      started = Promise.resolve(this.player.play());
    } catch (error) {
      started = Promise.reject(error);
    }
    this._track(started);
  }

  _play() {
    if (this.blocked || this.playPending) return;
    this._track(Promise.resolve().then(() => this.player.play()));
  }

  /** A start under way: a refusal asks for a tap ("blocked"); others are retried by ticks. */
  _track(started) {
    this.playPending = true;
    started
      .catch((error) => {
        if (error?.name === "NotAllowedError") {
          this.blocked = true;
          this.dispatchEvent(new CustomEvent("blocked"));
        }
      })
      .finally(() => {
        this.playPending = false;
      });
  }
}
