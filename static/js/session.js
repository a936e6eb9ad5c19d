// Who is signed in. Inside Telegram: initData → POST /api/auth/telegram, every time the app
// opens (nothing is stored). In a browser: an access token kept in localStorage, checked with
// GET /api/users/me, or the email/password forms.

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

  signOut() {
    storage.clear();
    this.api.token = null;
    this.user = null;
  }

  _accept({ accessToken, deviceToken, user }) {
    if (deviceToken) writeKey(DEVICE_KEY, deviceToken);
    this.api.token = accessToken;
    if (!this.viaTelegram) storage.set(accessToken);
    this.user = user;
    return user;
  }
}
