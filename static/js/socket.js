// The Socket.IO connection (WebSocket only, the access token in the auth payload), its state for
// the UI, and the server clock: a few `time:sync` round trips, keeping the lowest-RTT sample.
//
// socket.io-client is loaded on demand from /static/vendor/ (copied there from npm by the set-up
// command), so a missing vendor file leaves the app usable, only offline.

const CLIENT_URL = "/static/vendor/socket.io.esm.min.js";
const SYNC_ROUNDS = 5;
const SYNC_TIMEOUT_MS = 5000;
const RESYNC_EVERY_MS = 30000; // clocks drift and routes change: measure again now and then
const REQUEST_TIMEOUT_MS = 10000;
const KEPT_SAMPLES = SYNC_ROUNDS * 3;

/** Milliseconds since the epoch on a clock that never jumps (unlike Date.now()). */
export function clientNow() {
  return performance.timeOrigin + performance.now();
}

/**
 * States: "connecting" → "connected" ↔ "connecting" (reconnecting) → "offline".
 * Emits "statechange" and "clocksync" events; `serverNow()` is the estimated server time.
 *
 * `token` is the access token, or a function returning the current one (read at every
 * (re)connection). `renew`, when given, returns a promise of a fresh token: when the server
 * ends the socket because its token expired (`session:expired`), the connection renews the
 * token and connects again (the room page joins again on "connect"). A revoked session
 * (`session:revoked`, signed out everywhere) or a failed renewal emits "sessionended".
 */
export class Connection extends EventTarget {
  constructor(token, { renew = null } = {}) {
    super();
    this._token = token;
    this.renew = renew;
    this._ended = null; // the reason of the last session:* event, until the next connection
    this._renewed = false; // renewed the token after a refusal, since the last connection
    this.socket = null;
    this.state = "connecting";
    this.clockOffset = null; // server time minus client time, ms
    this.clockRtt = null; // round trip of the sample the offset came from, ms
    this.clockSamples = [];
    this.closed = false;
    this.handlers = new Map(); // event name → Set of handlers, kept across (re)connections
    this._resyncTimer = null;
  }

  get token() {
    return typeof this._token === "function" ? this._token() : this._token;
  }

  /** Listen to a server event; the handler survives reconnections. Returns an "off" function. */
  on(name, handler) {
    if (!this.handlers.has(name)) {
      this.handlers.set(name, new Set());
      this.socket?.on(name, (...args) => this._deliver(name, args));
    }
    this.handlers.get(name).add(handler);
    return () => this.handlers.get(name)?.delete(handler);
  }

  _deliver(name, args) {
    for (const handler of this.handlers.get(name) ?? []) {
      try {
        handler(...args);
      } catch (error) {
        console.error(`vmeste: handler of ${name} failed`, error);
      }
    }
  }

  /** Resolves once connected (now, or at the next connection). */
  whenConnected() {
    if (this.state === "connected") return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.state !== "connected") return;
        this.removeEventListener("statechange", check);
        resolve();
      };
      this.addEventListener("statechange", check);
    });
  }

  /**
   * Emit a client event and wait for its ack. Resolves to the ack without `ok`; rejects with
   * {code, message, details} (the server's error, or "network_error" on a timeout).
   * `timeout` (ms) bounds the wait for the ack.
   */
  async request(name, payload, { timeout = REQUEST_TIMEOUT_MS } = {}) {
    if (!this.socket?.connected) {
      throw Object.assign(new Error("not connected"), { code: "network_error" });
    }
    let ack;
    try {
      ack = await this.socket.timeout(timeout).emitWithAck(name, payload);
    } catch (error) {
      throw Object.assign(new Error(String(error?.message ?? error)), { code: "network_error" });
    }
    if (!ack?.ok) {
      const error = ack?.error ?? {};
      throw Object.assign(new Error(error.message ?? name), {
        code: error.code ?? "internal_error",
        details: error.details ?? {},
      });
    }
    const { ok, ...result } = ack;
    return result;
  }

  async open() {
    let io;
    try {
      ({ io } = await import(CLIENT_URL));
    } catch (error) {
      console.error("vmeste: socket.io-client is missing from /static/vendor/", error);
      this._setState("offline");
      return;
    }
    if (this.closed) return;
    // A function: the token is read again at every (re)connection (it may have been refreshed).
    const socket = io({ transports: ["websocket"], auth: (cb) => cb({ token: this.token }) });
    this.socket = socket;
    for (const name of this.handlers.keys()) socket.on(name, (...args) => this._deliver(name, args));
    socket.on("session:expired", () => {
      this._ended = "expired";
    });
    socket.on("session:revoked", () => {
      this._ended = "revoked";
    });
    socket.on("connect", () => {
      this._ended = null;
      this._renewed = false;
      this._setState("connected");
      this.syncClock().catch((error) => console.warn("vmeste: clock sync failed", error));
      clearInterval(this._resyncTimer);
      this._resyncTimer = setInterval(() => {
        this.syncClock().catch((error) => console.warn("vmeste: clock sync failed", error));
      }, RESYNC_EVERY_MS);
      this.dispatchEvent(new CustomEvent("connect"));
    });
    socket.on("disconnect", (reason) => {
      if (reason === "io server disconnect" && this._ended === "expired" && !this.closed) {
        // The token expired: get a fresh one and connect again, where we were.
        this._setState("connecting");
        this._reconnectWithFreshToken();
        return;
      }
      if (reason === "io server disconnect" && this._ended === "revoked") {
        this._endSession("revoked");
      }
      // The server or we ended it on purpose: no automatic reconnection will follow.
      const final = reason === "io server disconnect" || reason === "io client disconnect";
      this._setState(final ? "offline" : "connecting");
    });
    socket.on("connect_error", (error) => {
      // socket.active is false when the server refused us (bad token): no retry is coming.
      const refused = !socket.active && error?.data?.code === "unauthorized";
      if (refused && this.renew && !this._renewed && !this.closed) {
        // Reconnecting with a token that expired meanwhile: renew it once, then try again.
        this._renewed = true;
        this._setState("connecting");
        this._reconnectWithFreshToken();
        return;
      }
      this._setState(socket.active ? "connecting" : "offline");
      if (!socket.active) console.warn("vmeste: connection refused", error?.data ?? error);
      if (refused) this._endSession("refused"); // revoked, or renewing did not help
    });
  }

  async _reconnectWithFreshToken() {
    try {
      if (this.renew) await this.renew();
    } catch (error) {
      console.warn("vmeste: could not renew the session", error);
      if (error?.status === 401) {
        this._endSession("expired");
        this._setState("offline");
        return;
      }
      // Offline or the server is restarting: try again shortly.
      setTimeout(() => {
        if (!this.closed && this.socket && !this.socket.connected) this._reconnectWithFreshToken();
      }, 3000);
      return;
    }
    if (!this.closed && this.socket && !this.socket.connected) this.socket.connect();
  }

  _endSession(reason) {
    this.dispatchEvent(new CustomEvent("sessionended", { detail: { reason } }));
  }

  /**
   * NTP-style: offset = ((receivedAt - sent) + (serverTime - returned)) / 2 and
   * rtt = (returned - sent) - (serverTime - receivedAt). The sample with the lowest RTT has the
   * least asymmetric delay, so its offset is the most trustworthy. Samples from the last few
   * rounds are kept (the periodic re-measurement adds to them), older ones age out.
   */
  async syncClock(rounds = SYNC_ROUNDS) {
    for (let i = 0; i < rounds && this.socket?.connected; i += 1) {
      const sent = clientNow();
      const ack = await this.socket.timeout(SYNC_TIMEOUT_MS).emitWithAck("time:sync", {
        clientTime: sent,
      });
      const returned = clientNow();
      if (!ack?.ok) continue;
      const rtt = returned - sent - (ack.serverTime - ack.receivedAt);
      const offset = (ack.receivedAt - sent + (ack.serverTime - returned)) / 2;
      this.clockSamples.push({ rtt, offset });
    }
    this.clockSamples = this.clockSamples.slice(-KEPT_SAMPLES);
    if (this.clockSamples.length === 0) return null;
    const best = this.clockSamples.reduce((a, b) => (b.rtt < a.rtt ? b : a));
    this.clockOffset = best.offset;
    this.clockRtt = best.rtt;
    this.dispatchEvent(new CustomEvent("clocksync", { detail: best }));
    return best;
  }

  /** The server's current time in ms (the client's clock until the first sync). */
  serverNow() {
    return clientNow() + (this.clockOffset ?? 0);
  }

  close() {
    this.closed = true;
    clearInterval(this._resyncTimer);
    this.socket?.disconnect();
    this.socket = null;
    this._setState("offline");
  }

  _setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("statechange", { detail: { state } }));
  }
}
