// Gifts over the video: every gift:sent (ours by ack, anyone's by broadcast, once per gift id)
// shows its emoji, "sender → recipient" and the combo (×N). The size follows the tier:
// 1 a small float, 2 a burst, 3 a bigger one, 4 the whole screen. The same sender giving the
// same gift to the same person again while it is on screen updates that one (×2, ×3...).
// prefers-reduced-motion: the CSS shows it still, fading in and out (app.css, .gift-fx).

import { h } from "./dom.js";
import { t } from "./i18n.js";

const SHOW_MS = { 1: 3000, 2: 3500, 3: 4000, 4: 4500 };
const MAX_SHOWN = 6;
const MAX_SEEN = 500;

export class GiftShow {
  constructor(layer) {
    this.layer = layer;
    this.seen = new Set();
    this.shown = new Map(); // sender:recipient:gift → {element, timer}
  }

  show(sent) {
    if (!sent?.gift) return;
    if (this.seen.has(sent.id)) return;
    this.seen.add(sent.id);
    if (this.seen.size > MAX_SEEN) this.seen.delete(this.seen.values().next().value);
    const tier = Math.min(4, Math.max(1, Number(sent.gift.tier) || 1));
    const key = `${sent.from?.id}:${sent.to?.id}:${sent.gift.id}`;
    const current = this.shown.get(key);
    const combo = h("span", { class: "gift-fx__combo" }, `×${sent.combo ?? 1}`);
    const element = h(
      "div",
      {
        class: `gift-fx gift-fx--tier-${tier} gift-fx--${sent.gift.animation ?? "float"}`,
        role: "status",
        dataset: { giftId: sent.gift.id },
        style: { "--x": `${20 + Math.random() * 60}%` },
      },
      h("span", { class: "gift-fx__emoji", "aria-hidden": "true" }, sent.gift.emoji),
      h(
        "span",
        { class: "gift-fx__caption" },
        h("span", { class: "gift-fx__label" }, t("giftFromTo", { sender: sent.from?.displayName ?? "", recipient: sent.to?.displayName ?? "" })),
        h("span", { class: "visually-hidden" }, ` ${sent.gift.name} `),
        combo,
      ),
    );
    if (current) {
      clearTimeout(current.timer);
      current.element.remove();
    }
    while (this.layer.children.length >= MAX_SHOWN) this.layer.firstElementChild.remove();
    this.layer.append(element);
    const timer = setTimeout(() => {
      element.remove();
      if (this.shown.get(key)?.element === element) this.shown.delete(key);
    }, SHOW_MS[tier]);
    this.shown.set(key, { element, timer });
  }

  clear() {
    for (const { timer } of this.shown.values()) clearTimeout(timer);
    this.shown.clear();
    this.layer.replaceChildren();
  }
}
