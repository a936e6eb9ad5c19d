// What the wallet screens share: the gift catalogue (GET /api/payments/gifts, in the user's
// language, loaded once), the balance's units, amounts and dates, and a fresh idempotency key.

import { config, t } from "../i18n.js";

let gifts = null; // Promise of Map id → gift, once asked for

/** The gift catalogue as a Map id → {id, name, emoji, coins, beans, tier, animation}. */
export function loadGifts(api) {
  gifts ??= api
    .get("/api/payments/gifts")
    .then(({ gifts: list }) => new Map(list.map((gift) => [gift.id, gift])))
    .catch((error) => {
      gifts = null; // ask again next time
      throw error;
    });
  return gifts;
}

export const COIN = "🪙";
export const BEAN = "🫘";

/** 1234 → "1 234" (ru) / "1,234" (en). */
export function formatNumber(value) {
  return new Intl.NumberFormat(config.locale).format(value);
}

/** A signed ledger amount with its unit: "+100 🪙", "−10 🪙", "+5 🫘". */
export function formatAmount(amount, currency) {
  const sign = amount > 0 ? "+" : amount < 0 ? "−" : "";
  return `${sign}${formatNumber(Math.abs(amount))} ${currency === "beans" ? BEAN : COIN}`;
}

/** "1 Dec 2026, 14:05" in the page's language. */
export function formatDate(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleString(config.locale, { dateStyle: "medium", timeStyle: "short" });
}

/** "🌹 Rose" for a gift id (the id itself while the catalogue is missing). */
export function giftLabel(catalogue, giftId, emoji = null) {
  const gift = catalogue?.get(giftId);
  return `${emoji ?? gift?.emoji ?? "🎁"} ${gift?.name ?? giftId ?? t("giftGeneric")}`;
}

/** A random idempotency key (32 hex digits): one per tap, the same one again on a retry. */
export function newKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
