// The wallet's history (purchases, gifts sent and received with the other person, refunds,
// withdrawals; newest first) and who gave the user what.

import { h } from "../dom.js";
import { t } from "../i18n.js";
import { avatarElement } from "../ui.js";
import { BEAN, formatAmount, formatDate, formatNumber, giftLabel } from "./catalogue.js";

const KIND_ICONS = {
  purchase: "🪙",
  refund: "↩️",
  withdrawal: "🏦",
  withdrawal_returned: "↩️",
};

/** What one ledger entry was, in words: "🌹 Rose to Boris", "Purchase"... */
function entryTitle(entry, catalogue) {
  const name = entry.counterpart?.displayName ?? "";
  switch (entry.kind) {
    case "gift_sent":
      return t("historyGiftSent", { gift: giftLabel(catalogue, entry.gift), name });
    case "gift_received":
      return t("historyGiftReceived", { gift: giftLabel(catalogue, entry.gift), name });
    case "purchase":
      return t("historyPurchase");
    case "refund":
      return t("historyRefund");
    case "withdrawal":
      return t("historyWithdrawal");
    case "withdrawal_returned":
      return t("historyWithdrawalReturned");
    default:
      return entry.kind;
  }
}

function entryRow(entry, catalogue) {
  const gift = entry.gift ? catalogue?.get(entry.gift) : null;
  return h(
    "li",
    { class: "wallet-entry", dataset: { kind: entry.kind, id: String(entry.id) } },
    h(
      "div",
      { class: "list__row" },
      h("span", { class: "wallet-entry__icon", "aria-hidden": "true" }, gift?.emoji ?? KIND_ICONS[entry.kind] ?? "•"),
      h(
        "span",
        { class: "list__text" },
        h("span", { class: "list__title" }, entryTitle(entry, catalogue)),
        h("span", { class: "list__subtitle" }, formatDate(entry.createdAt)),
      ),
      h(
        "span",
        { class: `wallet-entry__amount${entry.amount > 0 ? " wallet-entry__amount--in" : ""}` },
        formatAmount(entry.amount, entry.currency),
      ),
    ),
  );
}

function receivedRow(row, catalogue) {
  return h(
    "li",
    {},
    h(
      "div",
      { class: "list__row" },
      avatarElement(row.user, "small"),
      h(
        "span",
        { class: "list__text" },
        h("span", { class: "list__title" }, row.user.displayName),
        h("span", { class: "list__subtitle" }, `${giftLabel(catalogue, row.gift)} ×${row.count}`),
      ),
      h("span", { class: "wallet-entry__amount wallet-entry__amount--in" }, `+${formatNumber(row.beans)} ${BEAN}`),
    ),
  );
}

export class WalletHistory {
  constructor(root) {
    this.$ = (selector) => root.querySelector(selector);
  }

  render({ history, received }, catalogue) {
    this.$("#wallet-history").replaceChildren(...history.map((entry) => entryRow(entry, catalogue)));
    this.$("#wallet-history").hidden = history.length === 0;
    this.$("#wallet-history-empty").hidden = history.length > 0;
    this.$("#wallet-received-section").hidden = received.length === 0;
    this.$("#wallet-received").replaceChildren(...received.map((row) => receivedRow(row, catalogue)));
  }
}
