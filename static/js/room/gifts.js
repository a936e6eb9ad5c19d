// The gift picker of the room page: the catalogue with prices, my coins, and whom to give to
// (anyone here but me; the host by default). A tap sends at once with gift:send and a fresh
// idempotency key; a timeout sends again with the same key (the server applies it once).
// Errors stay in the picker; not enough coins offers the wallet.

import { h } from "../dom.js";
import { messageFor } from "../errors.js";
import { t } from "../i18n.js";
import { haptic } from "../telegram.js";
import { COIN, formatNumber, loadGifts, newKey } from "../wallet/catalogue.js";

const RETRIES = 2; // after a timeout: the same key again, this many times
const RETRY_WAIT_MS = 5000; // for the socket to come back before a retry

export class GiftPicker {
  constructor(view, { onOpenWallet, onSent }) {
    this.view = view;
    this.onSent = onSent;
    this.catalogue = new Map();
    this.coins = null;
    this.$ = view.$;
    this.panel = this.$("#gift-picker");
    this.toggle = this.$("#gift-open");
    this.select = this.$("#gift-recipient");
    this.error = this.$("#gift-error");
    this.buyButton = this.$("#gift-buy");
    this.toggle.addEventListener("click", () => (this.panel.hidden ? this.open() : this.close()));
    this.$("#gift-close").addEventListener("click", () => this.close());
    this.buyButton.addEventListener("click", () => {
      this.close();
      onOpenWallet();
    });
  }

  /** The catalogue (once; an empty picker without it) — the chat's gift lines name gifts too. */
  async load() {
    try {
      this.catalogue = await loadGifts(this.view.api);
    } catch (error) {
      console.warn("vmeste: no gift catalogue", error);
    }
    return this.catalogue;
  }

  async open() {
    haptic("light");
    this.setError(null);
    this.panel.hidden = false;
    this.toggle.setAttribute("aria-expanded", "true");
    this.renderRecipients();
    if (this.catalogue.size === 0) await this.load();
    this.renderGrid();
    this.renderBalance();
    try {
      const { wallet } = await this.view.api.get("/api/wallet?limit=1");
      this.setBalance(wallet);
    } catch (error) {
      console.warn("vmeste: no balance", error);
    }
  }

  close() {
    this.panel.hidden = true;
    this.toggle.setAttribute("aria-expanded", "false");
  }

  /** {coins} from the wallet, a gift's ack or wallet:updated. */
  setBalance(balance) {
    if (typeof balance?.coins !== "number") return;
    this.coins = balance.coins;
    this.renderBalance();
  }

  renderBalance() {
    this.$("#gift-balance").textContent =
      this.coins === null ? "" : t("yourCoins", { coins: `${formatNumber(this.coins)} ${COIN}` });
  }

  /** Everyone here but me, the host first (the default). Keeps the choice while they stay. */
  renderRecipients() {
    const { me, room } = this.view;
    const others = [...this.view.participants.values()]
      .map((p) => p.user)
      .filter((user) => user.id !== me?.id);
    const hostId = room?.host?.id;
    others.sort((a, b) => (b.id === hostId) - (a.id === hostId) || a.displayName.localeCompare(b.displayName));
    const chosen = Number(this.select.value);
    this.select.replaceChildren(
      ...others.map((user) =>
        h("option", { value: String(user.id) }, user.id === hostId ? `${user.displayName} · ${t("roleHost")}` : user.displayName),
      ),
    );
    if (others.some((user) => user.id === chosen)) this.select.value = String(chosen);
    this.select.hidden = others.length === 0;
    this.$("#gift-nobody").hidden = others.length > 0;
    for (const button of this.$("#gift-grid").querySelectorAll("button")) button.disabled = others.length === 0;
  }

  renderGrid() {
    const nobody = this.select.options.length === 0;
    this.$("#gift-grid").replaceChildren(
      ...[...this.catalogue.values()].map((gift) =>
        h(
          "button",
          {
            type: "button",
            class: "gift-picker__gift",
            dataset: { giftId: gift.id },
            disabled: nobody,
            "aria-label": t("giftButton", { gift: gift.name, coins: gift.coins }),
            onclick: () => this.send(gift),
          },
          h("span", { class: "gift-picker__emoji", "aria-hidden": "true" }, gift.emoji),
          h("span", { class: "gift-picker__name" }, gift.name),
          h("span", { class: "gift-picker__price" }, `${formatNumber(gift.coins)} ${COIN}`),
        ),
      ),
    );
  }

  /** Participants changed: the recipients follow (if the picker is open). */
  refresh() {
    if (!this.panel.hidden) this.renderRecipients();
  }

  setError(message, { offerWallet = false } = {}) {
    this.error.textContent = message ?? "";
    this.buyButton.hidden = !offerWallet;
  }

  async send(gift) {
    const toUserId = Number(this.select.value);
    if (!toUserId) return;
    haptic("light");
    this.setError(null);
    const payload = { giftId: gift.id, toUserId, key: newKey() };
    try {
      const ack = await this.request(payload);
      haptic("success");
      this.setBalance(ack.balance);
      this.onSent(ack.gift);
    } catch (error) {
      haptic("error");
      if (error.code === "insufficient_funds") {
        this.setError(t("notEnoughCoins"), { offerWallet: true });
      } else {
        this.setError(messageFor(error));
      }
    }
  }

  /** gift:send; on a timeout (or a dropped socket), again with the same key. */
  async request(payload) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.view.command("gift:send", payload);
      } catch (error) {
        if (error.code !== "network_error" || attempt >= RETRIES) throw error;
        await Promise.race([
          this.view.connection.whenConnected(),
          new Promise((resolve) => setTimeout(resolve, RETRY_WAIT_MS)),
        ]);
      }
    }
  }
}
