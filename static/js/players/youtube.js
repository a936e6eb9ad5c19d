// YouTube IFrame Player API (https://developers.google.com/youtube/iframe_api_reference).
// Its rate has a few fixed steps only, so sync seeks instead of nudging (capabilities.rate false).

import { loadScript, notAllowed, waitFor } from "./index.js";

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

export class YouTubePlayer extends EventTarget {
  constructor(container) {
    super();
    this.capabilities = { rate: false, seek: true };
    this.container = container;
    this.player = null;
    this.state = STATE.UNSTARTED;
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
          onReady: () => resolve(),
          onError: (event) => {
            this.dispatchEvent(new Event("error"));
            reject(new Error(`YouTube error ${event.data}`));
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

  /** YouTube reports no autoplay refusal: if it has not started within 2 s, assume one. */
  play() {
    this.player.playVideo();
    return waitFor(() => !this.paused(), 2000, notAllowed);
  }

  pause() {
    this.player.pauseVideo();
  }

  seek(seconds) {
    this.player.seekTo(seconds, true);
  }

  setRate() {}

  destroy() {
    this.player?.destroy();
    this.container.replaceChildren();
  }
}
