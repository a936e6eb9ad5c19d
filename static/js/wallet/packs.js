// The shop of the wallet screen: premium (status and Subscribe) and the coin packs. Inside
// Telegram everything is bought with Stars (create-intent → WebApp.openInvoice); in a browser,
// coin packs are paid by card through YooKassa when the server takes it (a redirect to its
// page), and otherwise the screen says to buy in Telegram. What was bought arrives as a credit
// on the server: `onPaid()` refreshes the balance.

import { h } from "../dom.js";
import { messageFor } from "../errors.js";
import { t } from "../i18n.js";
import { canOpenInvoice, haptic, openInvoice } from "../telegram.js";
import { toast } from "../ui.js";
import { COIN, formatDate, formatNumber } from "./catalogue.js";

export class Shop {
  constructor(root, { api, onPaid }) {
    this.api = api;
    this.onPaid = onPaid;
    this.$ = (selector) => root.querySelector(selector);
    this.busy = false;
    this.offer = null; // GET /api/payments/packs
    this.$("#wallet-premium-buy").addEventListener("click", () => this.buy("premium", "stars"));
  }

  /** Stars: inside Telegram. Card: outside Telegram, when the server takes YooKassa. */
  get ways() {
    const stars = canOpenInvoice();
    const card = !stars && Boolean(this.offer?.providers?.includes("yookassa"));
    return { stars, card };
  }

  async load() {
    this.offer = await this.api.get("/api/payments/packs");
  }

  render(premium) {
    if (!this.offer) return;
    const { stars, card } = this.ways;
    this.renderPremium(premium, stars);
    this.$("#wallet-stars-only").hidden = stars || card;
    this.$("#wallet-packs").replaceChildren(...this.offer.packs.map((pack) => this.packRow(pack, { stars, card })));
  }

  renderPremium(premium, stars) {
    const { premium: offer } = this.offer;
    const status = this.$("#wallet-premium-status");
    if (premium?.active) {
      const until = formatDate(premium.until);
      status.textContent = t(premium.autoRenew ? "premiumActiveRenews" : "premiumActiveUntil", { date: until });
    } else {
      status.textContent = t("premiumInactive");
    }
    this.$("#wallet-premium-offer").textContent = t("premiumOffer", {
      limit: formatNumber(offer.roomLimit),
      free: formatNumber(offer.freeRoomLimit),
      stars: formatNumber(offer.stars),
      days: offer.days,
    });
    const button = this.$("#wallet-premium-buy");
    button.hidden = !stars || Boolean(premium?.active);
    button.textContent = t("premiumSubscribe", { stars: formatNumber(offer.stars) });
    this.$("#wallet-premium-stars-only").hidden = stars || Boolean(premium?.active);
  }

  packRow(pack, { stars, card }) {
    const buttons = [];
    if (stars) {
      buttons.push(
        h(
          "button",
          {
            type: "button",
            class: "chip chip--accent wallet-pack__buy",
            "aria-label": t("buyForStars", { title: pack.title, stars: pack.stars }),
            onclick: () => this.buy(pack.id, "stars"),
          },
          `⭐ ${formatNumber(pack.stars)}`,
        ),
      );
    }
    if (card && pack.rub) {
      buttons.push(
        h(
          "button",
          {
            type: "button",
            class: "chip wallet-pack__buy",
            "aria-label": t("buyForRoubles", { title: pack.title, price: pack.rub }),
            onclick: () => this.buy(pack.id, "yookassa"),
          },
          `💳 ${pack.rub} ₽`,
        ),
      );
    }
    // Nothing to buy with here: the price in Stars, as information.
    const price = buttons.length ? null : h("span", { class: "list__count" }, `⭐ ${formatNumber(pack.stars)}`);
    return h(
      "li",
      { class: "wallet-pack", dataset: { packId: pack.id } },
      h(
        "div",
        { class: "list__row" },
        h("span", { class: "wallet-pack__icon", "aria-hidden": "true" }, COIN),
        h("span", { class: "list__text" }, h("span", { class: "list__title" }, pack.title)),
        price,
        buttons.length ? h("span", { class: "wallet-pack__buttons" }, buttons) : null,
      ),
    );
  }

  setError(message) {
    this.$("#wallet-error").textContent = message ?? "";
  }

  /** Buy `packId` ("premium" too) with `provider`: an invoice in Telegram, or YooKassa's page. */
  async buy(packId, provider) {
    if (this.busy) return;
    haptic("light");
    this.busy = true;
    this.setError("");
    try {
      const intent = await this.api.post("/api/payments/create-intent", { packId, provider });
      if (intent.provider === "yookassa" && intent.confirmationUrl) {
        window.location.assign(intent.confirmationUrl); // back at /app/wallet?order=<id>
        return;
      }
      const status = await openInvoice(intent.invoiceLink);
      this.invoiceClosed(status);
    } catch (error) {
      haptic("error");
      this.setError(messageFor(error));
    } finally {
      this.busy = false;
    }
  }

  /** Telegram's verdict on an invoice: paid (the credit follows), pending, failed or cancelled. */
  invoiceClosed(status) {
    if (status === "paid") {
      haptic("success");
      toast(t("paymentReceived"));
      this.onPaid();
    } else if (status === "pending") {
      toast(t("paymentPending"));
      this.onPaid();
    } else if (status === "failed") {
      haptic("error");
      this.setError(t("paymentFailed"));
    }
  }
}
