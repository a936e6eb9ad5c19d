// Entry point of the Mini App shell: sign in (Telegram or browser), then the home screen with
// the greeting, the connection status, the language switch and, in a browser, sign-out.

import { Api, ApiError } from "./api.js";
import { setUpAuthForms } from "./auth-form.js";
import { messageFor } from "./errors.js";
import { config, renderInto, t } from "./i18n.js";
import { Session } from "./session.js";
import { Connection } from "./socket.js";
import { haptic, setUpTelegram } from "./telegram.js";

const $ = (selector) => document.querySelector(selector);

const STATUS_LABELS = {
  connecting: "statusConnecting",
  connected: "statusConnected",
  offline: "statusOffline",
};

// Telegram-like avatar colours for users without a photo, picked by user id.
const AVATAR_COLORS = ["#e17076", "#faa774", "#a695e7", "#7bc862", "#6ec9cb", "#65aadd", "#ee7aae"];

class App {
  constructor() {
    this.api = new Api();
    this.session = new Session(this.api);
    this.connection = null;
    this.auth = setUpAuthForms($('[data-screen="auth"]'), {
      onSubmit: (mode, values) => this.submitAuth(mode, values),
    });
    $("#error-retry").addEventListener("click", () => this.start());
    $("#error-use-email").addEventListener("click", () => {
      this.session.useEmail();
      this.showAuth();
    });
    $("#sign-out").addEventListener("click", () => this.signOut());
    for (const fieldset of document.querySelectorAll("[data-language-switch]")) {
      fieldset.addEventListener("change", (event) => this.changeLanguage(event.target.value));
    }
  }

  showScreen(name) {
    for (const screen of document.querySelectorAll("main [data-screen]")) {
      screen.hidden = screen.dataset.screen !== name;
    }
  }

  async start() {
    this.showScreen("loading");
    if (this.session.viaTelegram && !config.telegramSignIn) {
      this.showError(t("telegramSignInFailed"), t("telegramSignInOff"));
      return;
    }
    let user;
    try {
      user = await this.session.restore();
    } catch (error) {
      haptic("error");
      if (this.session.viaTelegram) {
        const rejected = error instanceof ApiError && error.code === "unauthorized";
        this.showError(
          t("telegramSignInFailed"),
          rejected ? t("telegramSignInRejected") : messageFor(error),
        );
      } else {
        this.showError(t("signInFailed"), messageFor(error));
      }
      return;
    }
    if (user) this.enter(user);
    else this.showAuth();
  }

  showError(title, message) {
    $("#error-title").textContent = title;
    $("#error-message").textContent = message;
    // Inside Telegram, email sign-in is the way out when Telegram sign-in fails.
    $("#error-use-email").hidden = !this.session.viaTelegram;
    this.showScreen("error");
  }

  showAuth(mode = "signin") {
    this.auth.show(mode);
    this.showScreen("auth");
    this.auth.focus(mode);
  }

  async submitAuth(mode, values) {
    let user;
    if (mode === "signup") {
      user = await this.session.signUp(values);
      // A new account speaks the language it was created in.
      if (user.language !== config.locale) {
        user = await this.session.setLanguage(config.locale).catch(() => user);
      }
    } else {
      user = await this.session.signIn(values);
    }
    haptic("success");
    this.enter(user);
  }

  /** Go to the home screen, first reloading in the user's language if the page is in another. */
  enter(user) {
    if (user.languageChosen && this.reloadInLanguage(user.language)) return;
    this.renderHome(user);
    this.showScreen("home");
    this.connect();
  }

  /**
   * The page is rendered in the server-negotiated language (?lang=, else Accept-Language). Once
   * the account's language is known (its choice, or its Telegram language), reload in that one.
   * ?lang= in the URL keeps this from looping should the server ever ignore it.
   */
  reloadInLanguage(language) {
    if (!language || language === config.locale) return false;
    const url = new URL(window.location.href);
    if (url.searchParams.get("lang") === language) return false;
    url.searchParams.set("lang", language);
    window.location.replace(url.href); // keeps the #tgWebAppData fragment Telegram passes
    return true;
  }

  renderHome(user) {
    const name = document.createElement("strong");
    name.textContent = user.displayName;
    renderInto($("#home-greeting"), "greeting", { name });
    const handle = user.username ?? user.telegramUsername;
    $("#home-handle").textContent = handle ? `@${handle}` : "";
    $("#home-handle").hidden = !handle;
    this.renderAvatar(user);
    for (const input of document.querySelectorAll("[data-language-switch] input")) {
      input.checked = input.value === config.locale;
    }
    $("#home-account").hidden = this.session.viaTelegram;
    $("#home-error").textContent = "";
  }

  renderAvatar(user) {
    const avatar = $("#home-avatar");
    const initial = document.createElement("span");
    initial.className = "avatar__initial";
    initial.textContent = Array.from(user.displayName.trim())[0]?.toUpperCase() ?? "?";
    avatar.style.setProperty("--avatar-color", AVATAR_COLORS[Math.abs(user.id) % AVATAR_COLORS.length]);
    avatar.replaceChildren(initial);
    if (user.photoUrl) {
      const photo = document.createElement("img");
      photo.className = "avatar__photo";
      photo.alt = "";
      photo.referrerPolicy = "no-referrer";
      photo.addEventListener("error", () => photo.remove()); // the initial shows instead
      photo.src = user.photoUrl;
      avatar.append(photo);
    }
  }

  connect() {
    this.connection?.close();
    const connection = new Connection(this.session.token);
    this.connection = connection;
    const status = $("#connection-status");
    const render = () => {
      status.dataset.state = connection.state;
      status.querySelector(".status__label").textContent = t(STATUS_LABELS[connection.state]);
    };
    connection.addEventListener("statechange", render);
    connection.addEventListener("clocksync", () => {
      status.dataset.clockSynced = "true";
    });
    delete status.dataset.clockSynced;
    render();
    connection.open();
  }

  async changeLanguage(language) {
    if (language === config.locale) return;
    haptic("selection");
    if (this.session.user) {
      try {
        await this.session.setLanguage(language);
      } catch (error) {
        $("#home-error").textContent = messageFor(error);
        for (const input of document.querySelectorAll("[data-language-switch] input")) {
          input.checked = input.value === config.locale;
        }
        return;
      }
    }
    const url = new URL(window.location.href);
    url.searchParams.set("lang", language);
    window.location.replace(url.href);
  }

  signOut() {
    this.connection?.close();
    this.connection = null;
    this.session.signOut();
    haptic("light");
    this.showAuth("signin");
  }
}

setUpTelegram();
window.vmeste = new App();
window.vmeste.start();
