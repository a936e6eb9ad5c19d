// Who is signed in. Inside Telegram: initData → POST /api/auth/telegram, every time the app
// opens (nothing is stored). In a browser: an access token kept in localStorage, checked with
// GET /api/users/me, or the email/password forms.
//
// A token lives JWT_TTL seconds; the server disconnects a socket when its token expires
// (session:expired). The session refreshes its token a little before that (POST
// /api/auth/refresh, or a new Telegram sign-in inside Telegram) and the connection reconnects
// with the new one; "sign out everywhere" (POST /api/auth/logout-all) ends every session.

import { ApiError } from "./api.js";
import { getInitData, isInsideTelegram } from "./telegram.js";

export const TOKEN_KEY = "vmeste.token";
// This device's token from the last password sign-in (services/accounts/devices.py): sent with
// the next one so other people's failed attempts on the account cannot lock this device out.
// Kept across sign-outs (it names the device, not a session); the server also sets it as an
// HttpOnly cookie, which Telegram's webviews may not keep.
export const DEVICE_KEY = "vmeste.device";

function readKey(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function writeKey(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    /* not kept */
  }
}

// Refresh this long before the token expires: a minute, or a fifth of a shorter lifetime.
const REFRESH_AHEAD_MS = 60_000;
const REFRESH_AHEAD_SHARE = 0.2;
const MIN_REFRESH_DELAY_MS = 500;

function tokenClaims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
  } catch {
    return {};
  }
}

/** The token's `exp` in ms since the epoch, or null (the payload is not verified here). */
export function tokenExpiry(token) {
  const { exp } = tokenClaims(token);
  return typeof exp === "number" ? exp * 1000 : null;
}

// localStorage throws when storage is disabled (some private modes): then the session simply
// lasts as long as the page.
const storage = {
  get() {
    try {
      return localStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  set(token) {
    try {
      localStorage.setItem(TOKEN_KEY, token);
    } catch {
      /* not kept */
    }
  },
  clear() {
    try {
      localStorage.removeItem(TOKEN_KEY);
    } catch {
      /* nothing kept */
    }
  },
};

export class Session {
  constructor(api) {
    this.api = api;
    this.user = null;
    this.viaTelegram = isInsideTelegram();
    this._refreshTimer = null;
    this._refreshing = null;
  }

  get token() {
    return this.api.token;
  }

  /**
   * Sign in without asking: with initData inside Telegram, with the stored token in a browser.
   * Resolves to the user, or null when the browser has to show the sign-in forms.
   * Rejects with an ApiError when Telegram sign-in fails or the server cannot be reached.
   */
  async restore() {
    if (this.viaTelegram) {
      return this._accept(await this.api.post("/api/auth/telegram", { initData: getInitData() }));
    }
    const token = storage.get();
    if (!token) return null;
    this.api.token = token;
    try {
      const { user } = await this.api.get("/api/users/me");
      this.user = user;
      this._scheduleRefresh();
      return user;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        this.signOut(); // expired or revoked: ask again
        return null;
      }
      this.api.token = null;
      throw error;
    }
  }

  async signIn({ email, password }) {
    const body = { email, password };
    const deviceToken = readKey(DEVICE_KEY);
    if (deviceToken) body.deviceToken = deviceToken;
    return this._accept(await this.api.post("/api/auth/login", body));
  }

  async signUp({ email, username, password }) {
    return this._accept(await this.api.post("/api/auth/register", { email, username, password }));
  }

  /** Save the chosen UI language on the account; resolves to the updated user. */
  async setLanguage(language) {
    const { user } = await this.api.patch("/api/users/me", { language });
    this.user = user;
    return user;
  }

  /** Inside Telegram, after a failed Telegram sign-in: use the email forms (token kept). */
  useEmail() {
    this.viaTelegram = false;
  }

  /**
   * A fresh token: a new Telegram sign-in inside Telegram, else POST /api/auth/refresh with the
   * current one. Resolves to the new token; rejects with an ApiError (401: sign in again).
   * Concurrent calls share one request.
   */
  refresh() {
    this._refreshing ??= (async () => {
      try {
        if (this.viaTelegram) {
          try {
            this._accept(await this.api.post("/api/auth/telegram", { initData: getInitData() }));
            return this.token;
          } catch (error) {
            // initData older than INIT_DATA_MAX_AGE (the app stayed open): the token still can.
            if (!(error instanceof ApiError && error.status === 401) || !this.token) throw error;
          }
        }
        this._accept(await this.api.post("/api/auth/refresh"));
        return this.token;
      } finally {
        this._refreshing = null;
      }
    })();
    return this._refreshing;
  }

  /** Sign out on every device (every token so far stops working), then here. */
  async signOutEverywhere() {
    await this.api.post("/api/auth/logout-all");
    this.signOut();
  }

  /** Whether the current token is (about to be) past its `exp`. */
  tokenExpired(marginMs = 0) {
    const expiry = this.token ? tokenExpiry(this.token) : null;
    return expiry !== null && expiry - marginMs <= Date.now();
  }

  signOut() {
    clearTimeout(this._refreshTimer);
    storage.clear();
    this.api.token = null;
    this.user = null;
  }

  _scheduleRefresh() {
    clearTimeout(this._refreshTimer);
    const { exp, iat } = this.token ? tokenClaims(this.token) : {};
    if (typeof exp !== "number") return;
    const lifetime = typeof iat === "number" ? (exp - iat) * 1000 : Infinity;
    const ahead = Math.min(REFRESH_AHEAD_MS, lifetime * REFRESH_AHEAD_SHARE);
    const delay = Math.max(MIN_REFRESH_DELAY_MS, exp * 1000 - Date.now() - ahead);
    // setTimeout takes at most 2^31-1 ms (~24 days); a longer token is refreshed at that point.
    this._refreshTimer = setTimeout(() => {
      this.refresh().catch((error) => console.warn("vmeste: token refresh failed", error));
    }, Math.min(delay, 2 ** 31 - 1));
  }

  _accept({ accessToken, deviceToken, user }) {
    if (deviceToken) writeKey(DEVICE_KEY, deviceToken);
    this.api.token = accessToken;
    if (!this.viaTelegram) storage.set(accessToken);
    this.user = user;
    this._scheduleRefresh();
    return user;
  }
}
