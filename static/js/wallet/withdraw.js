// Withdrawing beans: a request for at least `minimum` beans, set aside from the balance. There
// is no payout rail yet (withdrawalsEnabled is false): requests are reviewed by hand, and the
// form says so. Pending requests are listed under it.

import { h } from "../dom.js";
import { messageFor } from "../errors.js";
import { t } from "../i18n.js";
import { haptic } from "../telegram.js";
import { toast } from "../ui.js";
import { BEAN, formatDate, formatNumber } from "./catalogue.js";

const STATUS_KEYS = { pending: "withdrawalPending", paid: "withdrawalPaid", rejected: "withdrawalRejected" };

export class Withdrawals {
  constructor(root, { api, onBalance }) {
    this.api = api;
    this.onBalance = onBalance;
    this.$ = (selector) => root.querySelector(selector);
    this.form = this.$("#wallet-withdraw-form");
    this.input = this.$("#wallet-withdraw-beans");
    this.minimum = 0;
    this.beans = 0;
    this.busy = false;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  async load() {
    const { withdrawals, minimum } = await this.api.get("/api/wallet/withdrawals");
    this.minimum = minimum;
    this.renderList(withdrawals);
  }

  /** The form for a balance of `beans`. */
  render(beans) {
    this.beans = beans;
    this.input.min = String(this.minimum);
    this.input.max = String(Math.max(beans, this.minimum));
    this.input.placeholder = formatNumber(this.minimum);
    const enough = beans >= this.minimum;
    this.$("#wallet-withdraw-hint").textContent = t(enough ? "withdrawMinimum" : "withdrawNotEnough", {
      minimum: `${formatNumber(this.minimum)} ${BEAN}`,
    });
    this.$("#wallet-withdraw-submit").disabled = !enough;
    this.input.disabled = !enough;
  }

  renderList(withdrawals) {
    const pending = withdrawals.filter((w) => w.status === "pending");
    this.$("#wallet-withdrawals").replaceChildren(
      ...withdrawals.map((w) =>
        h(
          "li",
          { dataset: { status: w.status } },
          h(
            "div",
            { class: "list__row" },
            h(
              "span",
              { class: "list__text" },
              h("span", { class: "list__title" }, `${formatNumber(w.beans)} ${BEAN}`),
              h("span", { class: "list__subtitle" }, formatDate(w.createdAt)),
            ),
            h("span", { class: "list__count" }, t(STATUS_KEYS[w.status] ?? w.status)),
          ),
        ),
      ),
    );
    this.$("#wallet-withdrawals").hidden = withdrawals.length === 0;
    this.$("#wallet-withdrawals-title").hidden = pending.length === 0 && withdrawals.length === 0;
  }

  async submit() {
    if (this.busy) return;
    const error = this.$("#wallet-withdraw-error");
    const beans = Number(this.input.value);
    if (!Number.isInteger(beans) || beans < this.minimum || beans > this.beans) {
      error.textContent = t("withdrawInvalid", {
        minimum: formatNumber(this.minimum),
        maximum: formatNumber(this.beans),
      });
      haptic("error");
      return;
    }
    this.busy = true;
    error.textContent = "";
    try {
      const { balance } = await this.api.post("/api/wallet/withdrawals", { beans });
      haptic("success");
      toast(t("withdrawRequested"));
      this.input.value = "";
      this.onBalance(balance);
      await this.load();
    } catch (failure) {
      haptic("error");
      error.textContent = failure.code === "insufficient_funds" ? t("notEnoughBeans") : messageFor(failure);
    } finally {
      this.busy = false;
    }
  }
}
