// Vimeo Player SDK (https://developer.vimeo.com/player/sdk). Its getters are asynchronous, so
// the adapter keeps the last reported time and extrapolates it; rate changes need a paid
// account, so sync seeks instead (capabilities.rate false).

import { loadScript } from "./index.js";

const API_URL = "https://player.vimeo.com/api/player.js";

export class VimeoPlayer extends EventTarget {
  constructor(container) {
    super();
    this.capabilities = { rate: false, seek: true };
    this.container = container;
    this.player = null;
    this.isPaused = true;
    this.isBuffering = false;
    this.lastTime = 0;
    this.lastTimeAt = performance.now();
    this.length = null;
  }

  async load(item) {
    await loadScript(API_URL);
    const target = document.createElement("div");
    target.className = "player__frame";
    this.container.replaceChildren(target);
    this.player = new window.Vimeo.Player(target, {
      id: Number(item.sourceId),
      controls: false,
      playsinline: true,
      responsive: true,
    });
    const note = (seconds) => {
      this.lastTime = seconds;
      this.lastTimeAt = performance.now();
    };
    this.player.on("timeupdate", ({ seconds }) => {
      note(seconds);
      this.dispatchEvent(new Event("change"));
    });
    this.player.on("seeked", ({ seconds }) => note(seconds));
    this.player.on("play", () => {
      this.isPaused = false;
      this.dispatchEvent(new Event("change"));
    });
    this.player.on("pause", () => {
      this.isPaused = true;
      this.dispatchEvent(new Event("change"));
    });
    this.player.on("bufferstart", () => (this.isBuffering = true));
    this.player.on("bufferend", () => (this.isBuffering = false));
    this.player.on("ended", () => this.dispatchEvent(new Event("ended")));
    this.player.on("error", () => this.dispatchEvent(new Event("error")));
    await this.player.ready();
    this.length = await this.player.getDuration().catch(() => null);
  }

  ready() {
    return this.player !== null;
  }

  currentTime() {
    if (this.isPaused || this.isBuffering) return this.lastTime;
    return this.lastTime + (performance.now() - this.lastTimeAt) / 1000;
  }

  duration() {
    return this.length;
  }

  paused() {
    return this.isPaused;
  }

  buffering() {
    return this.isBuffering;
  }

  play() {
    this.isPaused = false;
    return this.player.play().catch((error) => {
      this.isPaused = true;
      throw error; // NotAllowedError when autoplay is blocked
    });
  }

  pause() {
    this.isPaused = true;
    this.player.pause().catch(() => {});
  }

  seek(seconds) {
    this.lastTime = seconds;
    this.lastTimeAt = performance.now();
    this.player.setCurrentTime(seconds).catch(() => {});
  }

  setRate() {}

  destroy() {
    this.player?.destroy().catch(() => {});
    this.container.replaceChildren();
  }
}
