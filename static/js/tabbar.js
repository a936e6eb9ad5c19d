// The bottom tab bar of the top-level screens. TABS is the one list of them: a new screen
// (Chats, Live, Profile) is one more entry here, its path in links.js (SCREEN_PATHS) and its
// show method in app.js. Each tab is a link to its screen's own address (a deep link:
// /app/wallet, or startapp=wallet through the bot); a tap switches screens without a reload.

import { h } from "./dom.js";
import { t } from "./i18n.js";
import { SCREEN_PATHS, appUrl } from "./links.js";
import { haptic } from "./telegram.js";

const ICONS = {
  rooms:
    '<svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true"><rect x="3" y="5" width="18" height="13" rx="3" ' +
    'fill="none" stroke="currentColor" stroke-width="2"/><path d="M10 9v5l4.5-2.5z" fill="currentColor"/></svg>',
  wallet:
    '<svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true"><path d="M4 7.5A2.5 2.5 0 0 1 6.5 5H18v3" fill="none" ' +
    'stroke="currentColor" stroke-width="2" stroke-linejoin="round"/><rect x="4" y="8" width="16" height="11" rx="2.5" ' +
    'fill="none" stroke="currentColor" stroke-width="2"/><circle cx="16" cy="13.5" r="1.4" fill="currentColor"/></svg>',
};

/** The tabs, in order: the screen's name (a key of SCREEN_PATHS) and its label's string key. */
export const TABS = [
  { screen: "rooms", label: "tabRooms" },
  { screen: "wallet", label: "tabWallet" },
];

export class TabBar {
  constructor(root, { onSelect }) {
    this.root = root;
    this.links = new Map();
    for (const tab of TABS) {
      const link = h(
        "a",
        {
          class: "tabbar__tab",
          href: appUrl(SCREEN_PATHS[tab.screen]),
          dataset: { tab: tab.screen },
          onclick: (event) => {
            if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
            event.preventDefault();
            if (link.getAttribute("aria-current") === "page") return;
            haptic("selection");
            onSelect(tab.screen);
          },
        },
        h("span", { class: "tabbar__icon" }),
        h("span", { class: "tabbar__label" }, t(tab.label)),
      );
      link.querySelector(".tabbar__icon").innerHTML = ICONS[tab.screen] ?? ""; // constants only
      this.links.set(tab.screen, link);
    }
    root.replaceChildren(...this.links.values());
  }

  /** Whether `screen` is one of the tabs. */
  has(screen) {
    return this.links.has(screen);
  }

  /** Show the bar with `screen` highlighted, or hide it (null: a screen of its own). */
  show(screen) {
    this.root.hidden = !this.has(screen);
    document.documentElement.classList.toggle("has-tabbar", !this.root.hidden);
    for (const [name, link] of this.links) {
      if (name === screen) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }
}
