// The Socket.IO connection (WebSocket only, the access token in the auth payload), its state for
// the UI, and the server clock: a few `time:sync` round trips, keeping the lowest-RTT sample.
//
// socket.io-client is loaded on demand from /static/vendor/ (copied there from npm by the set-up
// command), so a missing vendor file leaves the app usable, only offline.

const CLIENT_URL = "/static/vendor/socket.io.esm.min.js";
const SYNC_ROUNDS = 5;
const SYNC_TIMEOUT_MS = 5000;

/** Milliseconds since the epoch on a clock that never jumps (unlike Date.now()). */
export function clientNow() {
  return performance.timeOrigin + performance.now();
}

/**
 * States: "connecting" → "connected" ↔ "connecting" (reconnecting) → "offline".
 * Emits "statechange" and "clocksync" events; `serverNow()` is the estimated server time.
 */
export class Connection extends EventTarget {
  constructor(token) {
    super();
    this.token = token;
    this.socket = null;
    this.state = "connecting";
    this.clockOffset = null; // server time minus client time, ms
    this.clockRtt = null; // round trip of the sample the offset came from, ms
    this.closed = false;
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
    const socket = io({ transports: ["websocket"], auth: { token: this.token } });
    this.socket = socket;
    socket.on("connect", () => {
      this._setState("connected");
      this.syncClock().catch((error) => console.warn("vmeste: clock sync failed", error));
    });
    socket.on("disconnect", (reason) => {
      // The server or we ended it on purpose: no automatic reconnection will follow.
      const final = reason === "io server disconnect" || reason === "io client disconnect";
      this._setState(final ? "offline" : "connecting");
    });
    socket.on("connect_error", (error) => {
      // socket.active is false when the server refused us (bad token): no retry is coming.
      this._setState(socket.active ? "connecting" : "offline");
      if (!socket.active) console.warn("vmeste: connection refused", error?.data ?? error);
    });
  }

  /**
   * NTP-style: offset = ((receivedAt - sent) + (serverTime - returned)) / 2 and
   * rtt = (returned - sent) - (serverTime - receivedAt). The sample with the lowest RTT has the
   * least asymmetric delay, so its offset is the most trustworthy.
   */
  async syncClock(rounds = SYNC_ROUNDS) {
    let best = null;
    for (let i = 0; i < rounds && this.socket?.connected; i += 1) {
      const sent = clientNow();
      const ack = await this.socket.timeout(SYNC_TIMEOUT_MS).emitWithAck("time:sync", {
        clientTime: sent,
      });
      const returned = clientNow();
      if (!ack?.ok) continue;
      const rtt = returned - sent - (ack.serverTime - ack.receivedAt);
      const offset = (ack.receivedAt - sent + (ack.serverTime - returned)) / 2;
      if (best === null || rtt < best.rtt) best = { rtt, offset };
    }
    if (best === null) return null;
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
