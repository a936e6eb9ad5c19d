// Player adapters behind one interface (see SyncController in ../sync.js):
//
//   await player.load(item)      MediaItem from the room's queue
//   capabilities {nudge, rates, seek}
//     nudge: small continuous rate changes (drift correction); only HTML5/HLS can
//     rates: the room speeds it can play at, null = any (YouTube: its fixed steps; Vimeo,
//            Twitch: [1]); see supportsRate()
//     seek: false for live streams
//   currentTime() paused() buffering() ready() duration()
//   play(): Promise              rejects with name "NotAllowedError" when autoplay is blocked
//   pause() seek(seconds) setRate(rate) destroy()
//   events: "ended", "error", "change" (play/pause/time for the UI)
//
// Third-party SDKs (YouTube, Vimeo, Twitch) are loaded from their official URLs only when such
// media is played; HTML5 and HLS work offline (hls.js is served from /static/vendor/).

const MODULES = {
  html5: () => import("./html5.js").then((m) => m.Html5Player),
  hls: () => import("./hls.js").then((m) => m.HlsPlayer),
  youtube: () => import("./youtube.js").then((m) => m.YouTubePlayer),
  vimeo: () => import("./vimeo.js").then((m) => m.VimeoPlayer),
  twitch: () => import("./twitch.js").then((m) => m.TwitchPlayer),
};

/** Whether a player with `capabilities` can play at the room speed `rate`. */
export function supportsRate(capabilities, rate) {
  const { rates = null } = capabilities;
  return rates === null || rates.includes(rate);
}

/** A new adapter for `item.kind`, inside `container`, with the item loaded. */
export async function createPlayer(container, item) {
  const load = MODULES[item.kind] ?? MODULES.html5;
  const Player = await load();
  const player = new Player(container);
  await player.load(item);
  return player;
}

const scripts = new Map();

/** Load a classic <script> once (third-party SDKs); resolves when it has run. */
export function loadScript(src) {
  if (!scripts.has(src)) {
    scripts.set(
      src,
      new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = src;
        script.async = true;
        script.onload = () => resolve();
        script.onerror = () => {
          scripts.delete(src);
          reject(new Error(`could not load ${src}`));
        };
        document.head.append(script);
      }),
    );
  }
  return scripts.get(src);
}

/** An Error that SyncController reads as "autoplay was blocked: ask for a tap". */
export function notAllowed() {
  const error = new Error("playback needs a user gesture");
  error.name = "NotAllowedError";
  return error;
}

/** Resolve when `check()` is true (polled), reject after `timeoutMs`. */
export function waitFor(check, timeoutMs, makeError = () => new Error("timed out")) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const poll = () => {
      if (check()) resolve();
      else if (performance.now() - started > timeoutMs) reject(makeError());
      else setTimeout(poll, 100);
    };
    poll();
  });
}
