// Twitch embed (https://dev.twitch.tv/docs/embed/video-and-clips/). A live channel only follows
// play/pause (no position to share); a past broadcast (sourceId "v123") also follows seeks.

import { loadScript, notAllowed, waitFor } from "./index.js";

const API_URL = "https://player.twitch.tv/js/embed/v1.js";

export class TwitchPlayer extends EventTarget {
  constructor(container) {
    super();
    this.capabilities = { nudge: false, rates: [1], seek: false };
    this.container = container;
    this.player = null;
    this.isReady = false;
  }

  async load(item) {
    await loadScript(API_URL);
    const { Twitch } = window;
    const target = document.createElement("div");
    target.className = "player__frame";
    target.id = `twitch-${Math.random().toString(36).slice(2)}`;
    this.container.replaceChildren(target);
    const vod = !item.isLive && String(item.sourceId).startsWith("v");
    this.capabilities.seek = vod;
    this.player = new Twitch.Player(target.id, {
      width: "100%",
      height: "100%",
      autoplay: false,
      parent: [window.location.hostname],
      ...(vod ? { video: item.sourceId } : { channel: item.sourceId }),
    });
    this.player.addEventListener(Twitch.Player.PLAY, () => this.dispatchEvent(new Event("change")));
    this.player.addEventListener(Twitch.Player.PAUSE, () => this.dispatchEvent(new Event("change")));
    this.player.addEventListener(Twitch.Player.ENDED, () => this.dispatchEvent(new Event("ended")));
    await new Promise((resolve) => this.player.addEventListener(Twitch.Player.READY, resolve));
    this.isReady = true;
  }

  ready() {
    return this.isReady;
  }

  currentTime() {
    return this.player.getCurrentTime() ?? 0;
  }

  duration() {
    return this.capabilities.seek ? this.player.getDuration() || null : null;
  }

  paused() {
    return this.player.isPaused();
  }

  buffering() {
    return false;
  }

  /** Refused autoplay: Twitch says so with PLAYBACK_BLOCKED; anything else silent times out. */
  play() {
    const { PLAYBACK_BLOCKED } = window.Twitch.Player;
    let onBlocked;
    const blocked = new Promise((_, reject) => {
      onBlocked = () => reject(notAllowed());
      this.player.addEventListener(PLAYBACK_BLOCKED, onBlocked);
    });
    this.player.play();
    const started = waitFor(() => !this.paused(), 2500, notAllowed);
    return Promise.race([started, blocked]).finally(() => {
      this.player.removeEventListener(PLAYBACK_BLOCKED, onBlocked);
    });
  }

  pause() {
    this.player.pause();
  }

  seek(seconds) {
    if (this.capabilities.seek) this.player.seek(seconds);
  }

  setRate() {}

  destroy() {
    this.container.replaceChildren();
  }
}
