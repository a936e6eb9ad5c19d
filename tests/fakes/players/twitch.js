// A stand-in for https://player.twitch.tv/js/embed/v1.js, for browser tests without the internet.
//
// It follows Twitch's "Embedding video and clips" guide
// (https://dev.twitch.tv/docs/embed/video-and-clips/) for the subset our adapter uses:
// new Twitch.Player(elementId, {channel | video, width, height, autoplay, parent, ...});
// play(), pause(), seek(timestamp), getCurrentTime(), getDuration(), isPaused(), getEnded();
// addEventListener(event, callback) with Twitch.Player.READY, PLAY, PLAYING, PAUSE, ENDED, SEEK
// and PLAYBACK_BLOCKED, delivered asynchronously (the real embed talks to its iframe by
// postMessage). A live channel cannot seek; autoplay is on unless `autoplay: false`.
//
// window.__fakePlayerConfig.autoplayBlocked: the browser refuses to start playback until the
// user has tapped or pressed a key on the page; until then play() leaves the player paused and
// PLAYBACK_BLOCKED is emitted, as the real embed does. Each refusal is counted in
// window.__fakePlayerBlocked.
//
// Underneath, a real <video> plays window.__fakePlayerConfig.media whatever the channel or video.
// Every API call is logged in window.__fakePlayerCalls as [method, ...args].
(() => {
  const { config, calls, later, gestured } = window.__fakePlayer; // common.js

  class Player {
    constructor(elementId, options = {}) {
      const element =
        typeof elementId === "string" ? document.getElementById(elementId) : elementId;
      if (!options.parent) throw new Error("Twitch embeds need a parent domain");
      const video = document.createElement("video");
      video.dataset.fakePlayer = "twitch";
      video.playsInline = true;
      video.preload = "auto";
      video.style.width = "100%";
      video.style.height = "100%";
      element.append(video); // the real embed appends its <iframe> to the element
      this.__video = video;
      this.live = Boolean(options.channel) && !options.video;
      this.listeners = new Map();
      const forward = (type, name, data = () => undefined) => {
        video.addEventListener(type, () => {
          const payload = data();
          later(() => this.emit(name, payload));
        });
      };
      forward("play", Player.PLAY, () => ({ sessionId: "fake" }));
      forward("playing", Player.PLAYING);
      forward("pause", Player.PAUSE);
      forward("ended", Player.ENDED);
      forward("seeked", Player.SEEK, () => ({ position: video.currentTime }));
      video.addEventListener(
        "loadedmetadata",
        () => {
          later(() => this.emit(Player.READY));
          if (options.autoplay !== false) this.play();
        },
        { once: true },
      );
      video.src = config.media;
    }

    emit(name, data) {
      for (const callback of this.listeners.get(name) ?? []) callback(data);
    }

    addEventListener(event, callback) {
      if (!this.listeners.has(event)) this.listeners.set(event, []);
      this.listeners.get(event).push(callback);
    }

    removeEventListener(event, callback) {
      this.listeners.set(event, (this.listeners.get(event) ?? []).filter((c) => c !== callback));
    }

    play() {
      calls.push(["play"]);
      if (!gestured()) {
        window.__fakePlayerBlocked = (window.__fakePlayerBlocked ?? 0) + 1;
        later(() => this.emit(Player.PLAYBACK_BLOCKED));
        return;
      }
      this.__video.play().catch(() => later(() => this.emit(Player.PLAYBACK_BLOCKED)));
    }

    pause() {
      calls.push(["pause"]);
      this.__video.pause();
    }

    /** Past broadcasts only: a live stream has no position to go to. */
    seek(timestamp) {
      calls.push(["seek", timestamp]);
      if (!this.live) this.__video.currentTime = timestamp;
    }

    getCurrentTime() {
      return this.__video.currentTime;
    }

    getDuration() {
      return this.live ? 0 : this.__video.duration || 0;
    }

    isPaused() {
      return this.__video.paused;
    }

    getEnded() {
      return this.__video.ended;
    }
  }

  Object.assign(Player, {
    CAPTIONS: "captions",
    ENDED: "ended",
    PAUSE: "pause",
    PLAY: "play",
    PLAYBACK_BLOCKED: "playbackBlocked",
    PLAYING: "playing",
    OFFLINE: "offline",
    ONLINE: "online",
    READY: "ready",
    SEEK: "seek",
  });

  window.Twitch = { ...window.Twitch, Player };
})();
