// A stand-in for https://www.youtube.com/iframe_api, for browser tests without the internet.
//
// It follows the YouTube IFrame Player API reference
// (https://developers.google.com/youtube/iframe_api_reference) for the subset our adapter uses:
// window.onYouTubeIframeAPIReady() called once the API is ready; new YT.Player(elementOrId,
// {videoId, width, height, playerVars, events: {onReady, onStateChange, onPlaybackRateChange,
// onError}}) replacing the element; player methods that exist only from onReady on; events as
// {target, data}, delivered asynchronously (the real player talks to its iframe by postMessage).
//
// Underneath, a real <video> plays window.__fakePlayerConfig.media whatever the videoId, so time
// really advances and seeks really happen. window.__fakePlayerConfig.errors maps a videoId to the
// error code onError reports after onReady (e.g. 150: the owner does not allow embedding).
//
// window.__fakePlayerConfig.autoplayBlocked: the browser refuses to start playback until the
// user has tapped or pressed a key on the page. YouTube reports no error for that: playVideo()
// returns nothing and the player stays unstarted (onStateChange -1 again) or paused, as the real
// one does; with window.__fakePlayerConfig.autoplayFallsBack it first reports buffering (3) for
// 300 ms, then falls back (seen in the wild: cookpete/react-player#888). Each refusal is counted
// in window.__fakePlayerBlocked.
//
// Every API call is logged in window.__fakePlayerCalls as [method, ...args].
(() => {
  const { config, calls, later, gestured } = window.__fakePlayer; // common.js
  const PlayerState = { UNSTARTED: -1, ENDED: 0, PLAYING: 1, PAUSED: 2, BUFFERING: 3, CUED: 5 };
  // "The array of numbers are ordered from slowest to fastest playback speed."
  const RATES = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];

  class Player {
    constructor(elementOrId, options = {}) {
      const element =
        typeof elementOrId === "string" ? document.getElementById(elementOrId) : elementOrId;
      const events = options.events ?? {};
      const video = document.createElement("video");
      video.id = element.id;
      video.dataset.fakePlayer = "youtube";
      video.playsInline = true;
      video.preload = "auto";
      video.style.width = "100%";
      video.style.height = "100%";
      element.replaceWith(video); // the real API replaces the element with its <iframe>
      let state = PlayerState.UNSTARTED;
      let started = false;
      const fire = (name, data) => {
        if (events[name]) later(() => events[name]({ target: this, data }));
      };
      let refusing = false; // a refused start that looks like one, until it falls back
      const update = () => {
        if (refusing) return;
        let next;
        if (video.ended) next = PlayerState.ENDED;
        else if (video.paused) next = started ? PlayerState.PAUSED : PlayerState.CUED;
        else if (video.seeking || video.readyState < HTMLMediaElement.HAVE_FUTURE_DATA) {
          next = PlayerState.BUFFERING;
        } else next = PlayerState.PLAYING;
        if (next !== state) {
          state = next;
          fire("onStateChange", state);
        }
      };
      for (const type of ["play", "playing", "pause", "waiting", "seeking", "seeked", "ended"]) {
        video.addEventListener(type, update);
      }
      const log = (name, args) => calls.push([name, ...args]);
      const methods = {
        playVideo() {
          log("playVideo", []);
          if (!gestured()) {
            // Refused: no error, the player just does not start ("unstarted" if it never did).
            window.__fakePlayerBlocked = (window.__fakePlayerBlocked ?? 0) + 1;
            if (config.autoplayFallsBack) {
              // Some refusals look like a start: buffering for a moment, then back to where it was.
              const before = started ? PlayerState.PAUSED : PlayerState.UNSTARTED;
              refusing = true;
              state = PlayerState.BUFFERING;
              fire("onStateChange", state);
              setTimeout(() => {
                refusing = false;
                state = before;
                fire("onStateChange", state);
              }, 300);
            } else if (!started) {
              state = PlayerState.UNSTARTED;
              fire("onStateChange", state);
            }
            return;
          }
          started = true;
          video.play().catch(() => update()); // refused autoplay: stays where it was
        },
        pauseVideo() {
          log("pauseVideo", []);
          // "The final player state ... will be paused (2) unless ... ended (0)."
          if (state !== PlayerState.ENDED) {
            started = true;
            video.pause();
          }
        },
        // "If the player is paused when the function is called, it will remain paused. If the
        // function is called from another state (playing, video cued, etc.), the player will
        // play the video."
        seekTo(seconds, allowSeekAhead) {
          log("seekTo", [seconds, allowSeekAhead]);
          const wasPaused = started && video.paused && !video.ended;
          video.currentTime = seconds;
          if (!wasPaused && video.paused) methods.playVideo();
        },
        getCurrentTime: () => video.currentTime,
        getDuration: () => (Number.isFinite(video.duration) ? video.duration : 0),
        getPlayerState: () => state,
        getPlaybackRate: () => video.playbackRate,
        getAvailablePlaybackRates: () => RATES.slice(),
        // A suggestion: an unsupported rate is ignored; a change fires onPlaybackRateChange.
        setPlaybackRate(suggestedRate) {
          log("setPlaybackRate", [suggestedRate]);
          if (!RATES.includes(suggestedRate) || video.playbackRate === suggestedRate) return;
          video.playbackRate = suggestedRate;
          fire("onPlaybackRateChange", suggestedRate);
        },
        getIframe: () => video,
        destroy() {
          log("destroy", []);
          video.pause();
          video.removeAttribute("src");
          video.load();
          video.remove();
        },
      };
      this.__video = video;
      video.addEventListener(
        "loadedmetadata",
        () => {
          Object.assign(this, methods); // the methods appear once the player is ready
          fire("onReady");
          update();
          const code = config.errors?.[options.videoId];
          if (code !== undefined) fire("onError", code);
        },
        { once: true },
      );
      video.src = config.media;
    }
  }

  window.YT = { loaded: 1, Player, PlayerState };
  later(() => window.onYouTubeIframeAPIReady?.());
})();
