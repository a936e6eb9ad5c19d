// YouTube IFrame Player API (https://developers.google.com/youtube/iframe_api_reference).
// Its rate has a few fixed steps only (getAvailablePlaybackRates), so sync seeks instead of
// nudging (capabilities.nudge false), while the room's speed is applied when it is one of them.

import { loadScript, notAllowed } from "./index.js";

const API_URL = "https://www.youtube.com/iframe_api";
const STATE = { UNSTARTED: -1, ENDED: 0, PLAYING: 1, PAUSED: 2, BUFFERING: 3, CUED: 5 };

function youtubeApi() {
  if (window.YT?.Player) return Promise.resolve(window.YT);
  return new Promise((resolve, reject) => {
    const previous = window.onYouTubeIframeAPIReady;
    window.onYouTubeIframeAPIReady = () => {
      previous?.();
      resolve(window.YT);
    };
    loadScript(API_URL).catch(reject);
  });
}

function aborted() {
  const error = new Error("play() was interrupted by pause()");
  error.name = "AbortError";
  return error;
}

export class YouTubePlayer extends EventTarget {
  constructor(container) {
    super();
    this.capabilities = { nudge: false, rates: [1], seek: true };
    this.container = container;
    this.player = null;
    this.state = STATE.UNSTARTED;
    this.playAttempt = 0; // pause() supersedes a pending play()
  }

  async load(item) {
    const YT = await youtubeApi();
    const target = document.createElement("div");
    this.container.replaceChildren(target);
    await new Promise((resolve, reject) => {
      this.player = new YT.Player(target, {
        videoId: item.sourceId,
        width: "100%",
        height: "100%",
        playerVars: { playsinline: 1, controls: 0, rel: 0, disablekb: 1, modestbranding: 1 },
        events: {
          onReady: (event) => {
            this.capabilities.rates = event.target.getAvailablePlaybackRates();
            resolve();
          },
          // Before onReady this fails the load; after it (the usual way for a video whose owner
          // does not allow embedding: 101 and 150) the page hears of it as an "error" event.
          onError: (event) => {
            const error = new Error(`YouTube error ${event.data}`);
            error.code = event.data;
            this.dispatchEvent(new CustomEvent("error", { detail: error }));
            reject(error);
          },
          onStateChange: (event) => {
            this.state = event.data;
            if (event.data === STATE.ENDED) this.dispatchEvent(new Event("ended"));
            this.dispatchEvent(new Event("change"));
          },
        },
      });
    });
  }

  ready() {
    return this.player?.getCurrentTime !== undefined;
  }

  currentTime() {
    return this.player.getCurrentTime() ?? 0;
  }

  duration() {
    return this.player.getDuration() || null;
  }

  paused() {
    return this.state !== STATE.PLAYING && this.state !== STATE.BUFFERING;
  }

  buffering() {
    return this.state === STATE.BUFFERING;
  }

  /**
   * YouTube reports no autoplay refusal: a refused play stays unstarted, or buffers a moment
   * and falls back to unstarted or paused. Resolves once it really plays; rejects with
   * NotAllowedError on a refusal (no start within 2 s, or a fall-back; a start that is only
   * slow gets 10 s), and with AbortError when pause() comes first, like a media element.
   */
  play() {
    const attempt = ++this.playAttempt;
    this.player.playVideo();
    return new Promise((resolve, reject) => {
      const started = performance.now();
      let buffered = false;
      const poll = () => {
        if (attempt !== this.playAttempt) return reject(aborted());
        if (this.state === STATE.PLAYING) return resolve();
        if (this.state === STATE.BUFFERING) buffered = true;
        const fellBack = buffered && [STATE.UNSTARTED, STATE.PAUSED, STATE.CUED].includes(this.state);
        if (fellBack || performance.now() - started > (buffered ? 10000 : 2000)) {
          return reject(notAllowed());
        }
        setTimeout(poll, 100);
      };
      poll();
    });
  }

  pause() {
    this.playAttempt += 1;
    this.player.pauseVideo();
  }

  /** seekTo() starts a video that was never started ("cued"): keep a paused player paused. */
  seek(seconds) {
    const idle = this.state === STATE.UNSTARTED || this.state === STATE.CUED;
    this.player.seekTo(seconds, true);
    if (idle) this.player.pauseVideo();
  }

  setRate(rate) {
    if (this.capabilities.rates.includes(rate)) this.player.setPlaybackRate(rate);
  }

  destroy() {
    this.player?.destroy();
    this.container.replaceChildren();
  }
}
