// The wallet screen (/app/wallet, startapp=wallet): balances, premium, the coin packs (shop in
// packs.js), the history (history.js) and withdrawing beans (withdraw.js).
//
// The balance is refreshed after a paid invoice, on Telegram's invoiceClosed, on the socket's
// wallet:updated ({coins, beans}, to this user) and after YooKassa sends the buyer back here
// (/app/wallet?order=<id>: the order is polled until it is no longer pending).

import { messageFor } from "../errors.js";
import { t } from "../i18n.js";
import { onTelegramEvent } from "../telegram.js";
import { formatNumber, loadGifts } from "./catalogue.js";
import { WalletHistory } from "./history.js";
import { Shop } from "./packs.js";
import { Withdrawals } from "./withdraw.js";

const ORDER_POLL_MS = 2000;
const ORDER_POLL_TRIES = 30;
const ORDER_ID = /^[0-9a-f]{32}$/;

export class WalletPage {
  constructor(root, { api }) {
    this.api = api;
    this.root = root;
    this.$ = (selector) => root.querySelector(selector);
    this.wallet = null;
    this.catalogue = null;
    this.offs = [];
    this.open = false;
    this.loading = null;
    this.shop = new Shop(root, { api, onPaid: () => this.refresh() });
    this.history = new WalletHistory(root);
    this.withdrawals = new Withdrawals(root, {
      api,
      onBalance: (balance) => this.setBalance(balance, { reload: true }),
    });
  }

  /** Show the screen: load everything, then follow the balance while it stays open. */
  async show({ connection = null } = {}) {
    this.close();
    this.open = true;
    this.offs.push(onTelegramEvent("invoiceClosed", () => this.refresh()));
    if (connection) {
      this.offs.push(connection.on("wallet:updated", (balance) => this.setBalance(balance, { reload: true })));
    }
    this.$("#wallet-error").textContent = "";
    this.root.setAttribute("aria-busy", "true");
    try {
      const [, , catalogue] = await Promise.all([
        this.shop.load(),
        this.withdrawals.load(),
        loadGifts(this.api).catch(() => null), // names of gifts in the history; ids without it
        this.refresh(),
      ]);
      this.catalogue = catalogue;
      this.render();
    } catch (error) {
      console.warn("vmeste: wallet not loaded", error);
      this.$("#wallet-error").textContent = messageFor(error);
    } finally {
      this.root.removeAttribute("aria-busy");
    }
    this.followOrder();
  }

  close() {
    this.open = false;
    for (const off of this.offs) off();
    this.offs = [];
    clearTimeout(this.orderTimer);
  }

  /** GET /api/wallet again (one request at a time: a refresh asked meanwhile follows it). */
  async refresh() {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        do {
          this.again = false;
          const { wallet } = await this.api.get("/api/wallet");
          this.wallet = wallet;
          this.render();
        } while (this.again);
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  /** A new balance (wallet:updated, a withdrawal): shown now; the history follows with `reload`. */
  setBalance({ coins, beans }, { reload = false } = {}) {
    if (!this.wallet) return;
    this.wallet = { ...this.wallet, coins, beans };
    this.render();
    if (reload && this.open) this.refresh().catch(() => {});
  }

  render() {
    if (!this.wallet) return;
    const { coins, beans, premium } = this.wallet;
    this.$("#wallet-coins").textContent = formatNumber(coins);
    this.$("#wallet-beans").textContent = formatNumber(beans);
    this.shop.render(premium);
    this.history.render(this.wallet, this.catalogue);
    this.withdrawals.render(beans);
  }

  /** Back from YooKassa (?order=<id>): poll the order until it is paid or cancelled. */
  followOrder() {
    const url = new URL(window.location.href);
    const orderId = url.searchParams.get("order");
    if (!orderId) return;
    url.searchParams.delete("order");
    window.history.replaceState(window.history.state, "", url.pathname + url.search);
    if (!ORDER_ID.test(orderId)) return;
    const status = this.$("#wallet-order-status");
    status.hidden = false;
    status.textContent = t("orderWaiting");
    let tries = 0;
    const poll = async () => {
      if (!this.open) return;
      tries += 1;
      let order = null;
      try {
        ({ order } = await this.api.get(`/api/payments/orders/${orderId}`));
      } catch (error) {
        if (error.code === "not_found" || error.code === "forbidden") {
          status.textContent = messageFor(error);
          return;
        }
      }
      if (order && order.status !== "pending") {
        status.textContent = t(order.status === "succeeded" ? "orderSucceeded" : "orderCanceled", {
          coins: formatNumber(order.coins),
        });
        this.refresh().catch(() => {});
        return;
      }
      if (tries < ORDER_POLL_TRIES) this.orderTimer = setTimeout(poll, ORDER_POLL_MS);
      else status.textContent = t("orderStillPending");
    };
    poll();
  }
}
