// Small DOM helpers shared by the screens: avatars, times, toasts.

// Telegram-like avatar colours for users without a photo, picked by user id.
export const AVATAR_COLORS = ["#e17076", "#faa774", "#a695e7", "#7bc862", "#6ec9cb", "#65aadd", "#ee7aae"];

/** A round avatar (photo, else the initial on a colour); size "small" | "tiny". */
export function avatarElement(user, size = "small") {
  const avatar = document.createElement("span");
  avatar.className = `avatar avatar--${size}`;
  avatar.setAttribute("aria-hidden", "true");
  const name = user?.displayName ?? "?";
  const initial = document.createElement("span");
  initial.className = "avatar__initial";
  initial.textContent = Array.from(name.trim())[0]?.toUpperCase() ?? "?";
  avatar.style.setProperty("--avatar-color", AVATAR_COLORS[Math.abs(user?.id ?? 0) % AVATAR_COLORS.length]);
  avatar.append(initial);
  if (user?.photoUrl) {
    const photo = document.createElement("img");
    photo.className = "avatar__photo";
    photo.alt = "";
    photo.referrerPolicy = "no-referrer";
    photo.loading = "lazy";
    photo.addEventListener("error", () => photo.remove());
    photo.src = user.photoUrl;
    avatar.append(photo);
  }
  return avatar;
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

/** A short message at the bottom of the screen. */
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
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
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
