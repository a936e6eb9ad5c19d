// A stand-in for https://player.vimeo.com/api/player.js, for browser tests without the internet.
//
// It follows the Vimeo Player SDK reference (https://developer.vimeo.com/player/sdk/reference)
// for the subset our adapter uses: new Vimeo.Player(elementOrId, {id | url, ...embed options})
// embedding a player inside the element; ready(), play(), pause(), setCurrentTime(),
// getCurrentTime(), getDuration(), getPaused(), destroy() all returning Promises; on(event,
// callback) / off() with play, pause, ended, timeupdate, seeked ({seconds, percent, duration}),
// bufferstart, bufferend and error ({name, message, method}: a failed method call is reported
// there too) events, delivered asynchronously (the real SDK talks to its iframe by postMessage).
//
// Timing, as the real player reports it (and as an adapter extrapolating the time must cope with):
// - timeupdate comes every 250 ms while playing ("It generally fires every 250ms"), and only
//   then: not on pause or seek, where the pause and seeked events carry the position;
// - a seek requested while playing is followed by one stale timeupdate with the position from
//   before the seek (the player sent it before our setCurrentTime message crossed into its
//   iframe); only then does the seek happen, setCurrentTime() resolve and seeked come.
//
// window.__fakePlayerConfig.autoplayBlocked: the browser refuses to start playback until the
// user has tapped or pressed a key on the page; until then play() rejects with an error named
// "NotAllowedError" (also reported as an "error" event with method "play"), as the real SDK does.
// Each refusal is counted in window.__fakePlayerBlocked.
//
// Underneath, a real <video> plays window.__fakePlayerConfig.media whatever the video id.
// Every API call is logged in window.__fakePlayerCalls as [method, ...args].
(() => {
  const { config, calls, later, gestured } = window.__fakePlayer; // common.js
  const TIMEUPDATE_MS = 250;

  class Player {
    constructor(elementOrId, options = {}) {
      const element =
        typeof elementOrId === "string" ? document.getElementById(elementOrId) : elementOrId;
      if (!options.id && !options.url) {
        throw new Error("An id or url must be passed, either in an options object or as a data-vimeo-id"
          + " or data-vimeo-url attribute.");
      }
      const video = document.createElement("video");
      video.dataset.fakePlayer = "vimeo";
      video.playsInline = true;
      video.preload = "auto";
      video.style.width = "100%";
      video.style.height = "100%";
      element.append(video); // the real SDK appends its <iframe> to the element
      this.__video = video;
      this.listeners = new Map();
      const timing = () => ({
        seconds: video.currentTime,
        duration: video.duration,
        percent: video.duration ? video.currentTime / video.duration : 0,
      });
      const forward = (type, name, data = timing) => {
        video.addEventListener(type, () => {
          const payload = data();
          later(() => this.emit(name, payload));
        });
      };
      forward("play", "play");
      forward("pause", "pause");
      forward("ended", "ended");
      this.timing = timing;
      // timeupdate: every 250 ms while playing, nothing in between (see the top of the file).
      let ticker = null;
      const tick = () => {
        clearInterval(ticker);
        if (video.paused) return;
        ticker = setInterval(() => this.emit("timeupdate", timing()), TIMEUPDATE_MS);
      };
      for (const type of ["playing", "pause", "ended", "emptied"]) {
        video.addEventListener(type, tick);
      }
      forward("seeked", "seeked");
      forward("waiting", "bufferstart", () => undefined);
      forward("playing", "bufferend", () => undefined);
      forward("error", "error", () => ({ name: "Error", message: "media error", method: "" }));
      this.isReady = new Promise((resolve) => {
        video.addEventListener("loadedmetadata", () => resolve(), { once: true });
      });
      video.src = config.media;
    }

    emit(name, data) {
      for (const callback of this.listeners.get(name) ?? []) callback(data);
    }

    log(name, args = []) {
      calls.push([name, ...args]);
    }

    /** A method's rejection is also emitted as an "error" event naming the method. */
    failing(method, promise) {
      return promise.catch((error) => {
        const data = { name: error.name, message: error.message, method };
        later(() => this.emit("error", data));
        throw error;
      });
    }

    on(eventName, callback) {
      if (!this.listeners.has(eventName)) this.listeners.set(eventName, []);
      this.listeners.get(eventName).push(callback);
    }

    off(eventName, callback) {
      const kept = (this.listeners.get(eventName) ?? []).filter((c) => c !== callback);
      if (callback === undefined) this.listeners.delete(eventName);
      else this.listeners.set(eventName, kept);
    }

    ready() {
      return this.isReady;
    }

    /** Resolves once playing; rejects like the video does (NotAllowedError: autoplay refused). */
    play() {
      this.log("play");
      const allowed = gestured();
      const playing = this.isReady.then(() => {
        if (!allowed) {
          window.__fakePlayerBlocked = (window.__fakePlayerBlocked ?? 0) + 1;
          const message = "play() failed because the user didn't interact with the document first.";
          throw new DOMException(message, "NotAllowedError");
        }
        return this.__video.play();
      });
      return this.failing("play", playing);
    }

    pause() {
      this.log("pause");
      return this.isReady.then(() => this.__video.pause());
    }

    getPaused() {
      return this.isReady.then(() => this.__video.paused);
    }

    getCurrentTime() {
      return this.isReady.then(() => this.__video.currentTime);
    }

    /** Resolves with the time actually seeked to; RangeError outside the video. While playing, a
     * timeupdate from before the seek still arrives after this call (see the top of the file). */
    setCurrentTime(seconds) {
      this.log("setCurrentTime", [seconds]);
      if (!this.__video.paused) {
        const stale = this.timing();
        later(() => this.emit("timeupdate", stale));
      }
      // The request reaches the player after that report left it: the seek, and the reply that
      // resolves this Promise, come after the report.
      const arrived = this.isReady.then(() => new Promise((resolve) => later(resolve)));
      const seeked = arrived.then(() => {
        if (seconds < 0 || seconds > this.__video.duration) {
          const error = new Error("Seconds must be between 0 and the duration of the video.");
          error.name = "RangeError";
          throw error;
        }
        this.__video.currentTime = seconds;
        return seconds;
      });
      return this.failing("setCurrentTime", seeked);
    }

    getDuration() {
      return this.isReady.then(() => this.__video.duration);
    }

    destroy() {
      this.log("destroy");
      const video = this.__video;
      video.pause();
      video.removeAttribute("src");
      video.load();
      video.remove();
      this.listeners.clear();
      return Promise.resolve();
    }
  }

  window.Vimeo = { Player };
})();
