// The one place that touches window.Telegram.WebApp (telegram-web-app.js). Outside Telegram the
// official script still defines WebApp, with empty initData: that is how "inside" is told apart.

const webApp = window.Telegram?.WebApp ?? null;

/** Call a WebApp method that an old client may lack or refuse ("method unsupported"). */
function attempt(fn) {
  try {
    return fn();
  } catch (error) {
    console.warn("vmeste: Telegram WebApp call failed", error);
    return undefined;
  }
}

function supports(version) {
  return Boolean(webApp?.isVersionAtLeast ? attempt(() => webApp.isVersionAtLeast(version)) : false);
}

/** True when the page runs as a Mini App with initData to sign in with. */
export function isInsideTelegram() {
  return typeof webApp?.initData === "string" && webApp.initData.length > 0;
}

/** The raw signed initData string ("" outside Telegram). */
export function getInitData() {
  return isInsideTelegram() ? webApp.initData : "";
}

/**
 * Copy Telegram's theme into CSS variables (--tg-theme-bg-color, ...) and the colour scheme into
 * <html data-color-scheme>. telegram-web-app.js sets the same variables; doing it here too keeps
 * the page right when the script is late or replaced, and tells the CSS which fallbacks to use.
 */
function applyTheme() {
  const root = document.documentElement;
  for (const [key, value] of Object.entries(webApp.themeParams ?? {})) {
    if (typeof value === "string") root.style.setProperty(`--tg-theme-${key.replaceAll("_", "-")}`, value);
  }
  if (webApp.colorScheme === "dark" || webApp.colorScheme === "light") {
    root.dataset.colorScheme = webApp.colorScheme;
  }
}

/** Tell Telegram the app is ready, take the full height and follow theme changes. */
export function setUpTelegram() {
  if (!isInsideTelegram()) return;
  document.documentElement.classList.add("in-telegram");
  applyTheme();
  attempt(() => webApp.onEvent?.("themeChanged", applyTheme));
  attempt(() => webApp.ready());
  attempt(() => webApp.expand());
  if (supports("6.1")) {
    // The page background is the secondary colour (Telegram's settings look); match it.
    attempt(() => webApp.setHeaderColor?.("secondary_bg_color"));
    attempt(() => webApp.setBackgroundColor?.("secondary_bg_color"));
  }
}

/**
 * Haptic feedback: "success" | "error" | "warning" (notifications), "light" | "medium" |
 * "heavy" | "rigid" | "soft" (impacts) or "selection". Silently nothing outside Telegram.
 */
export function haptic(kind) {
  const feedback = webApp?.HapticFeedback;
  if (!isInsideTelegram() || !feedback || !supports("6.1")) return;
  if (kind === "success" || kind === "error" || kind === "warning") {
    attempt(() => feedback.notificationOccurred(kind));
  } else if (kind === "selection") {
    attempt(() => feedback.selectionChanged());
  } else {
    attempt(() => feedback.impactOccurred(kind));
  }
}

/**
 * Show Telegram's back button calling `handler`; returns a function that hides it again.
 * Outside Telegram (or on clients without it) returns a no-op, so callers need no checks.
 */
export function showBackButton(handler) {
  const button = webApp?.BackButton;
  if (!isInsideTelegram() || !button || !supports("6.1")) return () => {};
  attempt(() => button.onClick(handler));
  attempt(() => button.show());
  return () => {
    attempt(() => button.offClick(handler));
    attempt(() => button.hide());
  };
}

/** The start parameter the Mini App was opened with (t.me/<bot>?startapp=...), or "". */
export function getStartParam() {
  const param = webApp?.initDataUnsafe?.start_param;
  if (typeof param === "string" && param) return param;
  // Telegram also passes it in the URL (tgWebAppStartParam) when the script is late.
  return new URLSearchParams(window.location.search).get("tgWebAppStartParam") ?? "";
}

/**
 * Show Telegram's main button with `text`, calling `handler` on tap; returns a function that
 * hides it again (a no-op outside Telegram, where the page shows its own button).
 */
export function showMainButton(text, handler) {
  const button = webApp?.MainButton;
  if (!isInsideTelegram() || !button) return () => {};
  attempt(() => button.setText(text));
  attempt(() => button.onClick(handler));
  attempt(() => button.show());
  return () => {
    attempt(() => button.offClick(handler));
    attempt(() => button.hide());
  };
}

/** True when the main button stands in for the page's own primary button. */
export function hasMainButton() {
  return isInsideTelegram() && Boolean(webApp?.MainButton);
}

/** Telegram's share sheet for a prepared inline message (Bot API 8.0); false if unavailable. */
export function shareMessage(preparedMessageId) {
  if (!isInsideTelegram() || typeof webApp?.shareMessage !== "function" || !supports("8.0")) {
    return false;
  }
  return attempt(() => {
    webApp.shareMessage(preparedMessageId);
    return true;
  }) ?? false;
}

/** Open a t.me link inside Telegram (e.g. the share-to-chat picker); false outside. */
export function openTelegramLink(url) {
  if (!isInsideTelegram() || typeof webApp?.openTelegramLink !== "function") return false;
  return attempt(() => {
    webApp.openTelegramLink(url);
    return true;
  }) ?? false;
}

/** Ask to confirm `message`: Telegram's native dialog inside Telegram, confirm() outside. */
export function confirmAction(message) {
  if (isInsideTelegram() && typeof webApp?.showConfirm === "function" && supports("6.2")) {
    return new Promise((resolve) => {
      const shown = attempt(() => {
        webApp.showConfirm(message, (ok) => resolve(Boolean(ok)));
        return true;
      });
      if (!shown) resolve(window.confirm(message));
    });
  }
  return Promise.resolve(window.confirm(message));
}

/** Listen to a WebApp event (e.g. "invoiceClosed"); returns a function that stops listening. */
export function onTelegramEvent(type, handler) {
  if (!isInsideTelegram() || typeof webApp?.onEvent !== "function") return () => {};
  attempt(() => webApp.onEvent(type, handler));
  return () => attempt(() => webApp.offEvent?.(type, handler));
}

/** True when Stars invoices can be opened here (inside Telegram, Bot API 6.1+). */
export function canOpenInvoice() {
  return isInsideTelegram() && typeof webApp?.openInvoice === "function" && supports("6.1");
}

/**
 * Open a Stars invoice (an invoice link from the server); resolves to Telegram's status:
 * "paid" | "cancelled" | "failed" | "pending". "failed" when it cannot be opened at all.
 */
export function openInvoice(link) {
  if (!canOpenInvoice()) return Promise.resolve("failed");
  return new Promise((resolve) => {
    const opened = attempt(() => {
      webApp.openInvoice(link, (status) => resolve(String(status ?? "failed")));
      return true;
    });
    if (!opened) resolve("failed");
  });
}
