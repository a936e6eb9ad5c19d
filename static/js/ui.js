// Small UI helpers shared by the screens: avatars, times, toasts, the clipboard.

import { h } from "./dom.js";

// Telegram-like avatar colours for users without a photo, picked by user id.
export const AVATAR_COLORS = ["#e17076", "#faa774", "#a695e7", "#7bc862", "#6ec9cb", "#65aadd", "#ee7aae"];

/** Fill `avatar` with `user`'s photo, else the initial of the name on a colour. */
export function fillAvatar(avatar, user) {
  const name = user?.displayName ?? "?";
  avatar.style.setProperty("--avatar-color", AVATAR_COLORS[Math.abs(user?.id ?? 0) % AVATAR_COLORS.length]);
  const initial = h("span", { class: "avatar__initial" }, Array.from(name.trim())[0]?.toUpperCase() ?? "?");
  avatar.replaceChildren(initial);
  if (user?.photoUrl) {
    // Should the photo fail, the initial shows instead.
    const photo = h("img", { class: "avatar__photo", alt: "", referrerPolicy: "no-referrer", loading: "lazy" });
    photo.addEventListener("error", () => photo.remove());
    photo.src = user.photoUrl;
    avatar.append(photo);
  }
  return avatar;
}

/** A round avatar (photo, else the initial on a colour); size "small" | "tiny". */
export function avatarElement(user, size = "small") {
  return fillAvatar(h("span", { class: `avatar avatar--${size}`, "aria-hidden": "true" }), user);
}

/** 75.4 → "1:15", 3723 → "1:02:03". */
export function formatTime(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "0:00";
  const total = Math.floor(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** "14:05" in the page's language, from an ISO date. */
export function formatClock(iso, locale) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
}

let toastTimer = null;

/** A short message at the top of the screen, over the player rather than the controls. */
export function toast(text, { element = document.getElementById("toast"), ms = 2200 } = {}) {
  if (!element) return;
  element.textContent = text;
  element.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    element.hidden = true;
  }, ms);
}

/** Copy text, with the old textarea trick where the Clipboard API is missing or refused. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h("textarea", { value: text, readonly: true, style: { position: "fixed", opacity: "0" } });
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}
