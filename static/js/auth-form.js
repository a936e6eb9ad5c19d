// The browser's sign-in / sign-up forms. Client-side checks mirror the server's
// (services/auth.py) so most mistakes are caught before a request; server errors are shown next
// to the field named in details.field, or above the submit button.

import { ApiError } from "./api.js";
import { errorField, messageFor } from "./errors.js";
import { t } from "./i18n.js";
import { haptic } from "./telegram.js";

const EMAIL_RE = /^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$/;
const USERNAME_RE = /^[a-z0-9_]{3,32}$/;
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 256;

/** The same normalisation as services.auth.check_username. */
function normaliseUsername(value) {
  return value.trim().replace(/^@+/, "").toLowerCase();
}

const CHECKS = {
  email(value) {
    const email = value.trim();
    if (!email) return "required";
    return email.length <= 254 && EMAIL_RE.test(email) ? null : "emailInvalid";
  },
  username(value) {
    const username = normaliseUsername(value);
    if (!username) return "required";
    return USERNAME_RE.test(username) ? null : "usernameInvalid";
  },
  password(value, mode) {
    if (!value) return "required";
    if (mode === "signin") return null; // old accounts may predate today's rules
    if (value.length < MIN_PASSWORD_LENGTH) return "passwordTooShort";
    return value.length > MAX_PASSWORD_LENGTH ? "passwordTooLong" : null;
  },
};

class AuthForm {
  constructor(form, { onSubmit }) {
    this.form = form;
    this.mode = form.dataset.form; // "signin" | "signup"
    this.onSubmit = onSubmit;
    this.button = form.querySelector('button[type="submit"]');
    this.buttonLabel = this.button.textContent;
    this.formError = form.querySelector(".form__error");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    // A field's error goes away as soon as it is edited.
    form.addEventListener("input", (event) => {
      if (event.target.name) this.setFieldError(event.target.name, null);
      this.setFormError(null);
    });
  }

  get inputs() {
    return [...this.form.querySelectorAll("input[name]")];
  }

  setFieldError(name, message) {
    const input = this.form.elements.namedItem(name);
    if (!input) return false;
    const slot = this.form.querySelector(`#${input.id}-error`);
    if (slot) slot.textContent = message ?? "";
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
    return true;
  }

  setFormError(message) {
    this.formError.textContent = message ?? "";
  }

  clearErrors() {
    for (const input of this.inputs) this.setFieldError(input.name, null);
    this.setFormError(null);
  }

  values() {
    const values = {};
    for (const input of this.inputs) values[input.name] = input.value;
    return values;
  }

  /** Run the client-side checks; show each problem and focus the first bad field. */
  validate(values) {
    let first = null;
    for (const input of this.inputs) {
      const problem = CHECKS[input.name]?.(values[input.name], this.mode) ?? null;
      this.setFieldError(input.name, problem && t(problem));
      if (problem && !first) first = input;
    }
    first?.focus();
    return first === null;
  }

  setBusy(busy) {
    this.button.disabled = busy;
    this.form.setAttribute("aria-busy", String(busy));
    this.button.textContent = busy
      ? t(this.mode === "signup" ? "creatingAccount" : "signingIn")
      : this.buttonLabel;
  }

  async submit() {
    if (this.button.disabled) return;
    this.clearErrors();
    const values = this.values();
    if (!this.validate(values)) {
      haptic("error");
      return;
    }
    this.setBusy(true);
    try {
      await this.onSubmit(this.mode, {
        email: values.email.trim(),
        password: values.password,
        ...(this.mode === "signup" ? { username: normaliseUsername(values.username) } : {}),
      });
      this.form.reset();
    } catch (error) {
      haptic("error");
      this.showError(error);
    } finally {
      this.setBusy(false);
    }
  }

  showError(error) {
    if (!(error instanceof ApiError)) {
      console.error(error);
      this.setFormError(t("genericError"));
      return;
    }
    if (error.code === "unauthorized" && this.mode === "signin") {
      this.setFormError(t("wrongCredentials"));
      this.form.elements.namedItem("password")?.select();
      return;
    }
    const field = errorField(error);
    if (field && this.setFieldError(field, messageFor(error))) {
      this.form.elements.namedItem(field)?.focus();
      return;
    }
    this.setFormError(messageFor(error));
  }
}

/**
 * Wire the tabs and both forms inside `root`. `onSubmit(mode, values)` performs the request and
 * rejects with an ApiError to have it shown. Returns {show(mode)} to switch tabs from outside.
 */
export function setUpAuthForms(root, { onSubmit }) {
  const forms = new Map(
    [...root.querySelectorAll("form[data-form]")].map((form) => [
      form.dataset.form,
      new AuthForm(form, { onSubmit }),
    ]),
  );
  const tabs = [...root.querySelectorAll('[role="tab"]')];

  function show(mode, { focus = false } = {}) {
    for (const tab of tabs) {
      const selected = tab.getAttribute("aria-controls") === `panel-${mode}`;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      if (selected && focus) tab.focus();
    }
    for (const [name, form] of forms) {
      form.form.hidden = name !== mode;
      if (name !== mode) form.clearErrors();
    }
  }

  tabs.forEach((tab, index) => {
    const mode = tab.getAttribute("aria-controls").replace("panel-", "");
    tab.addEventListener("click", () => {
      haptic("selection");
      show(mode);
    });
    // Arrow keys move between tabs (WAI-ARIA tabs pattern).
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      event.preventDefault();
      const next = tabs[(index + step + tabs.length) % tabs.length];
      show(next.getAttribute("aria-controls").replace("panel-", ""), { focus: true });
    });
  });

  return {
    show,
    focus(mode) {
      forms.get(mode)?.inputs[0]?.focus();
    },
  };
}
