// The link formats of the Mini App, defined once (docs/rooms-protocol.md, "Links"):
// the page of a room (/app/room/<code>?invite=...), Telegram's start_param
// (room_<code>[_<invite>], or a screen's name: startapp=wallet), the top-level screens' paths
// (/app, /app/wallet) and the link that opens a room through the bot.

import { config } from "./i18n.js";

const ROOM_PATH = /^\/app\/room\/([A-Za-z0-9]+)\/?$/;
// Room codes have no "_" (services/core/links.py): the first one after the code starts the invite.
const START_PARAM = /^room_([A-Za-z0-9]+)(?:_([A-Za-z0-9_-]+))?$/;

/** Parse a start_param "room_<code>" or "room_<code>_<invite>" (invite codes may contain "_"). */
export function parseRoomStartParam(param) {
  const match = START_PARAM.exec(param ?? "");
  return match ? { code: match[1], invite: match[2] ?? null } : null;
}

/**
 * The top-level screens (the tab bar's, static/js/tabbar.js): name → path. A start_param equal
 * to a name opens that screen (t.me/<bot>?startapp=wallet).
 */
export const SCREEN_PATHS = {
  rooms: "/app",
  wallet: "/app/wallet",
};

/** The screen a start_param names ("wallet"), or null. */
export function parseScreenStartParam(param) {
  return Object.hasOwn(SCREEN_PATHS, param ?? "") ? param : null;
}

/** The top-level screen the address shows ("rooms" for /app and unknown /app/... paths). */
export function screenFromLocation(location = window.location) {
  const path = location.pathname.replace(/\/+$/, "") || "/app";
  for (const [name, screenPath] of Object.entries(SCREEN_PATHS)) {
    if (path === screenPath) return name;
  }
  return "rooms";
}

/** The start_param that opens `code` (with its invite code for private rooms). */
export function roomStartParam(code, invite = null) {
  return `room_${code}${invite ? `_${invite}` : ""}`;
}

/** The path of a room's page. */
export function roomPath(code) {
  return `/app/room/${code}`;
}

/** The room named by the address: /app/room/<code>, with ?invite= for private rooms. */
export function roomFromLocation(location = window.location) {
  const match = ROOM_PATH.exec(location.pathname);
  if (!match) return null;
  return { code: match[1], invite: new URLSearchParams(location.search).get("invite") };
}

/** An address of the app keeping ?lang= (the page's language) across navigation. */
export function appUrl(path, params = {}) {
  const url = new URL(path, window.location.origin);
  const lang = new URLSearchParams(window.location.search).get("lang");
  if (lang) url.searchParams.set("lang", lang);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.pathname + url.search;
}

/** The link that opens this room: the Mini App through the bot when there is one. */
export function roomLink(room) {
  const invite = room.visibility === "private" ? room.inviteCode : null;
  if (config.botUsername) {
    return `https://t.me/${config.botUsername}?startapp=${roomStartParam(room.code, invite)}`;
  }
  const url = new URL(roomPath(room.code), config.publicUrl || window.location.origin);
  if (invite) url.searchParams.set("invite", invite);
  return url.href;
}

/** Telegram's share sheet for `link` with a line of `text`. */
export function telegramShareUrl(link, text) {
  return `https://t.me/share/url?url=${encodeURIComponent(link)}&text=${encodeURIComponent(text)}`;
}
