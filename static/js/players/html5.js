// A plain <video> element: MP4/WebM (and the base of the HLS adapter). The only player that can
// nudge its rate smoothly, so it gets the finest sync.

export class Html5Player extends EventTarget {
  constructor(container) {
    super();
    this.capabilities = { nudge: true, rates: null, seek: true };
    this.video = document.createElement("video");
    this.video.className = "player__video";
    this.video.playsInline = true;
    this.video.preload = "auto";
    this.video.setAttribute("webkit-playsinline", "");
    this.video.disablePictureInPicture = false;
    for (const type of ["play", "pause", "timeupdate", "seeked", "ratechange", "waiting", "playing"]) {
      this.video.addEventListener(type, () => this.dispatchEvent(new Event("change")));
    }
    this.video.addEventListener("ended", () => this.dispatchEvent(new Event("ended")));
    this.video.addEventListener("error", () => this.dispatchEvent(new Event("error")));
    container.replaceChildren(this.video);
  }

  async load(item) {
    this.capabilities.seek = !item.isLive;
    await this.attach(item.url);
  }

  /** Point the element at `url` and wait for its metadata (duration, size). */
  attach(url) {
    return new Promise((resolve, reject) => {
      const done = () => {
        this.video.removeEventListener("loadedmetadata", done);
        this.video.removeEventListener("error", failed);
        resolve();
      };
      const failed = () => {
        this.video.removeEventListener("loadedmetadata", done);
        this.video.removeEventListener("error", failed);
        reject(new Error(`cannot play ${url}`));
      };
      this.video.addEventListener("loadedmetadata", done);
      this.video.addEventListener("error", failed);
      if (url !== undefined) this.video.src = url;
    });
  }

  ready() {
    return this.video.readyState >= HTMLMediaElement.HAVE_METADATA;
  }

  currentTime() {
    return this.video.currentTime;
  }

  duration() {
    const { duration } = this.video;
    return Number.isFinite(duration) ? duration : null;
  }

  paused() {
    return this.video.paused;
  }

  buffering() {
    return this.video.seeking || this.video.readyState < HTMLMediaElement.HAVE_FUTURE_DATA;
  }

  play() {
    return this.video.play();
  }

  pause() {
    this.video.pause();
  }

  seek(seconds) {
    this.video.currentTime = seconds;
  }

  setRate(rate) {
    this.video.playbackRate = rate;
  }

  destroy() {
    this.video.pause();
    this.video.removeAttribute("src");
    this.video.load();
    this.video.remove();
  }
}
