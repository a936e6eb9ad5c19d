// Localized messages for API errors, chosen by error code and details.field, never by the
// server's English message text.

import { t } from "./i18n.js";

/** Forbidden, by details.reason (services/rooms.py): why a room cannot be opened. */
const FORBIDDEN_REASONS = {
  banned: "bannedFromRoom",
  private: "roomPrivate",
};

const FIELD_MESSAGES = {
  validation_error: {
    email: "emailInvalid",
    username: "usernameInvalid",
    password: "passwordTooShort",
  },
  conflict: {
    email: "emailTaken",
    username: "usernameTaken",
  },
};

/** The field (email, username, password...) an error belongs to, if the server named one. */
export function errorField(error) {
  return typeof error?.details?.field === "string" ? error.details.field : null;
}

/** A message for the user in their language. */
export function messageFor(error) {
  const code = error?.code;
  const key = FIELD_MESSAGES[code]?.[errorField(error)];
  if (key) return t(key);
  switch (code) {
    case "network_error":
      return t("networkError");
    case "rate_limited":
      return t("rateLimited", { seconds: error.details?.retry_after ?? 1 });
    case "insufficient_funds":
      return t("notEnoughCoins");
    case "room_full":
      return t("roomFull");
    case "forbidden":
      return t(FORBIDDEN_REASONS[error.details?.reason] ?? "forbidden");
    case "not_found":
      return t("notFound");
    default:
      return t("genericError");
  }
}
