// Vimeo Player SDK (https://developer.vimeo.com/player/sdk). Its getters are asynchronous, so
// the adapter keeps the last reported time and extrapolates it while playing. Speed changes work
// only for some paid accounts' videos, so it plays at 1× and sync seeks (capabilities.nudge false).

import { loadScript } from "./index.js";

const API_URL = "https://player.vimeo.com/api/player.js";

export class VimeoPlayer extends EventTarget {
  constructor(container) {
    super();
    this.capabilities = { nudge: false, rates: [1], seek: true };
    this.container = container;
    this.player = null;
    this.isPaused = true;
    this.isBuffering = false;
    this.lastTime = 0;
    this.lastTimeAt = performance.now();
    this.seekingTo = null; // a seek on its way: older time reports are ignored until it lands
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
    const note = ({ seconds }) => {
      if (this.seekingTo !== null) return;
      this.lastTime = seconds;
      this.lastTimeAt = performance.now();
    };
    this.player.on("timeupdate", (data) => {
      note(data);
      this.dispatchEvent(new Event("change"));
    });
    this.player.on("seeked", (data) => {
      this.seekingTo = null;
      note(data);
    });
    this.player.on("play", (data) => {
      note(data);
      this.isPaused = false;
      this.dispatchEvent(new Event("change"));
    });
    this.player.on("pause", (data) => {
      note(data);
      this.isPaused = true;
      this.dispatchEvent(new Event("change"));
    });
    this.player.on("bufferstart", () => this.setBuffering(true));
    this.player.on("bufferend", () => this.setBuffering(false));
    this.player.on("ended", () => this.dispatchEvent(new Event("ended")));
    // A failed method call is also reported here (data.method set); its Promise handles it.
    this.player.on("error", (data) => {
      if (data?.method) return;
      const error = new Error(`Vimeo ${data?.name}: ${data?.message}`);
      this.dispatchEvent(new CustomEvent("error", { detail: error }));
    });
    await this.player.ready();
    this.length = await this.player.getDuration().catch(() => null);
  }

  /** Pin the extrapolation to now before the clock starts or stops running. */
  pin() {
    this.lastTime = this.currentTime();
    this.lastTimeAt = performance.now();
  }

  setBuffering(buffering) {
    this.pin();
    this.isBuffering = buffering;
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
    this.pin();
    this.isPaused = false;
    return this.player.play().catch((error) => {
      this.pin();
      this.isPaused = true;
      throw error; // NotAllowedError when autoplay is blocked
    });
  }

  pause() {
    this.pin();
    this.isPaused = true;
    this.player.pause().catch(() => {});
  }

  seek(seconds) {
    this.lastTime = seconds;
    this.lastTimeAt = performance.now();
    this.seekingTo = seconds;
    this.player
      .setCurrentTime(seconds)
      .catch(() => {})
      .finally(() => {
        if (this.seekingTo === seconds) this.seekingTo = null;
      });
  }

  setRate() {}

  destroy() {
    this.player?.destroy().catch(() => {});
    this.container.replaceChildren();
  }
}
