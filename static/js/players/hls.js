// HLS (.m3u8): native where the browser has it (Safari, iOS), hls.js from /static/vendor/
// elsewhere. Live streams cannot seek, so only play/pause is synced for them.

import { Html5Player } from "./html5.js";

const HLS_URL = "/static/vendor/hls.min.mjs";

export class HlsPlayer extends Html5Player {
  constructor(container) {
    super(container);
    this.hls = null;
  }

  async load(item) {
    this.capabilities.seek = !item.isLive;
    if (this.video.canPlayType("application/vnd.apple.mpegurl")) {
      await this.attach(item.url);
      return;
    }
    const { default: Hls } = await import(HLS_URL);
    if (!Hls.isSupported()) throw new Error("HLS is not supported in this browser");
    this.hls = new Hls({ enableWorker: true, lowLatencyMode: Boolean(item.isLive) });
    const attached = this.attach();
    this.hls.on(Hls.Events.ERROR, (event, data) => {
      if (data.fatal) this.dispatchEvent(new Event("error"));
    });
    this.hls.loadSource(item.url);
    this.hls.attachMedia(this.video);
    await attached;
  }

  destroy() {
    this.hls?.destroy();
    this.hls = null;
    super.destroy();
  }
}
