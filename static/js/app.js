// Entry point of the Mini App shell: sign in (Telegram or browser), then the home screen with
// the greeting, the connection status, the rooms list, the language switch and, in a browser,
// sign-out; or straight into a room when opened by a room link (/app/room/<code>?invite=...,
// or Telegram's start_param room_<code>[_<invite>]). The top-level screens (rooms, wallet)
// share the bottom tab bar (tabbar.js); each has its address (/app, /app/wallet) and its
// start_param (startapp=wallet).

import { Api, ApiError } from "./api.js";
import { setUpAuthForms } from "./auth-form.js";
import { messageFor } from "./errors.js";
import { h } from "./dom.js";
import { config, renderInto, t } from "./i18n.js";
import { InviteBanner } from "./invites.js";
import {
  SCREEN_PATHS,
  appUrl,
  parseRoomStartParam,
  parseScreenStartParam,
  roomFromLocation,
  roomPath,
  screenFromLocation,
} from "./links.js";
import { RoomView } from "./room/page.js";
import { CreateRoomForm, RoomsList } from "./rooms.js";
import { Session } from "./session.js";
import { Connection } from "./socket.js";
import { TabBar } from "./tabbar.js";
import { getStartParam, haptic, hasMainButton, setUpTelegram, showBackButton, showMainButton } from "./telegram.js";
import { fillAvatar } from "./ui.js";
import { WalletPage } from "./wallet/page.js";

const $ = (selector) => document.querySelector(selector);

const STATUS_LABELS = {
  connecting: "statusConnecting",
  connected: "statusConnected",
  offline: "statusOffline",
};

/** Errors opening a room that trying again cannot fix: only the way back to the list is offered. */
const FINAL_ROOM_ERRORS = new Set(["forbidden", "not_found", "validation_error"]);

class App {
  constructor() {
    this.api = new Api();
    this.session = new Session(this.api);
    this.connection = null;
    this.auth = setUpAuthForms($('[data-screen="auth"]'), {
      onSubmit: (mode, values) => this.submitAuth(mode, values),
    });
    $("#error-retry").addEventListener("click", () => this.start());
    $("#error-home").addEventListener("click", () => {
      haptic("light");
      this.showHome();
    });
    $("#error-use-email").addEventListener("click", () => {
      this.session.useEmail();
      this.showAuth();
    });
    $("#sign-out").addEventListener("click", () => this.signOut());
    $("#sign-out-everywhere").addEventListener("click", () => this.signOutEverywhere());
    this.startParamUsed = false;
    this.hideMainButton = () => {};
    this.hideBackButton = () => {};
    this.roomsList = new RoomsList($('[data-screen="home"]'), {
      api: this.api,
      onOpen: (room) => this.openRoom(room.code, room.inviteCode ?? null, { push: true }),
    });
    this.createForm = new CreateRoomForm($("#create-room-form"), {
      api: this.api,
      onCreated: (room) => this.openRoom(room.code, room.inviteCode ?? null, { push: true }),
    });
    this.roomView = new RoomView($('[data-screen="room"]'), {
      api: this.api,
      onExit: () => this.leaveRoomPage(),
      onOpenWallet: () => this.goTo("wallet", { fromRoom: true }),
    });
    this.walletPage = new WalletPage($('[data-screen="wallet"]'), { api: this.api });
    this.tabBar = new TabBar($("#tabbar"), { onSelect: (screen) => this.goTo(screen) });
    this.invites = new InviteBanner($("#invite-banner"), {
      onOpen: (invite) => this.openRoom(invite.roomCode, invite.inviteCode ?? null, { push: true }),
      // Already watching that room: nothing to open.
      skip: (invite) => this.roomView.room?.id === invite.roomId,
    });
    $("#create-room-open").addEventListener("click", () => this.showCreate());
    $("#create-cancel").addEventListener("click", () => this.showHome());
    window.addEventListener("popstate", () => this.route());
    for (const fieldset of document.querySelectorAll("[data-language-switch]")) {
      fieldset.addEventListener("change", (event) => this.changeLanguage(event.target.value));
    }
  }

  showScreen(name) {
    this.hideMainButton();
    this.hideMainButton = () => {};
    this.hideBackButton();
    this.hideBackButton = () => {};
    if (name !== "room") this.roomView?.close();
    if (name !== "wallet") this.walletPage?.close();
    this.tabBar?.show(name === "home" ? "rooms" : name);
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
    $("#error-retry").hidden = false;
    $("#error-home").hidden = true;
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

  /** Go to the home screen or a room, first reloading in the user's language if needed. */
  enter(user) {
    if (user.languageChosen && this.reloadInLanguage(user.language)) return;
    this.renderHome(user);
    this.connect();
    if (!this.startParamUsed) {
      this.startParamUsed = true;
      const param = getStartParam();
      const target = parseRoomStartParam(param);
      if (target && !roomFromLocation()) {
        this.openRoom(target.code, target.invite, { push: true, replace: true });
        return;
      }
      const screen = parseScreenStartParam(param);
      if (screen && !roomFromLocation()) {
        window.history.replaceState(null, "", appUrl(SCREEN_PATHS[screen]));
      }
    }
    this.route();
  }

  /** Show what the address says: a room (/app/room/<code>), the wallet or the home screen. */
  route() {
    if (!this.session.user) return;
    const target = roomFromLocation();
    if (target) this.openRoom(target.code, target.invite);
    else if (screenFromLocation() === "wallet") this.showWallet();
    else this.showHome();
  }

  /** A tab (or the gift picker's "Buy coins"): the screen's address in history, then the screen. */
  goTo(screen, { fromRoom = false } = {}) {
    const url = appUrl(SCREEN_PATHS[screen] ?? "/app");
    window.history.pushState({ screen, pushed: true, fromRoom }, "", url);
    this.route();
  }

  showWallet() {
    this.showScreen("wallet");
    document.title = `${t("tabWallet")} · ${t("appName")}`;
    // Opened from a room: Telegram's back button returns there (a tab has no "back" otherwise).
    if (window.history.state?.fromRoom) this.hideBackButton = showBackButton(() => window.history.back());
    this.walletPage.show({ connection: this.connection });
  }

  showHome() {
    if (roomFromLocation() || screenFromLocation() !== "rooms") {
      window.history.replaceState(null, "", appUrl("/app"));
    }
    document.title = t("appName");
    this.showScreen("home");
    this.roomsList.refresh();
    if (hasMainButton()) {
      $("#create-room-open").hidden = true;
      this.hideMainButton = showMainButton(t("createRoom"), () => this.showCreate());
    }
  }

  showCreate() {
    haptic("light");
    this.createForm.reset();
    this.showScreen("create");
    this.hideBackButton = showBackButton(() => this.showHome());
    if (hasMainButton()) {
      $("#create-submit").hidden = true;
      $("#create-cancel").hidden = true;
      this.hideMainButton = showMainButton(t("createRoom"), () => this.createForm.form.requestSubmit());
    }
    this.createForm.focus();
  }

  /** Open a room by code; `push` puts /app/room/<code> in the address (and history). */
  async openRoom(code, invite, { push = false, replace = false } = {}) {
    if (push) {
      const url = appUrl(roomPath(code), invite ? { invite } : {});
      if (replace) window.history.replaceState({ room: code }, "", url);
      else window.history.pushState({ room: code, pushed: true }, "", url);
    }
    this.roomView.close();
    this.showScreen("loading");
    $('[data-screen="loading"] .hint').textContent = t("openingRoom");
    this.roomView.attach({ connection: this.connection, me: this.session.user });
    try {
      await this.roomView.open({ code, invite });
    } catch (error) {
      console.warn("vmeste: cannot open room", error);
      haptic("error");
      this.showRoomError(error);
      return;
    }
    this.showScreen("room");
  }

  /** A room that could not be opened: why (as the server said), and the way back to the list. */
  showRoomError(error) {
    this.showError(t("roomOpenFailed"), messageFor(error));
    $("#error-use-email").hidden = true;
    $("#error-home").hidden = false;
    // Kicked, private, gone: the same request would fail the same way.
    $("#error-retry").hidden = FINAL_ROOM_ERRORS.has(error?.code);
    this.hideBackButton = showBackButton(() => this.showHome());
  }

  /** The room page was left (back button, leave, closed, kicked): back to the list. */
  leaveRoomPage() {
    // Opened from the list: step back in history (so the browser's back stays in step).
    if (window.history.state?.pushed) window.history.back();
    else this.showHome();
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
    renderInto($("#home-greeting"), "greeting", { name: h("strong", {}, user.displayName) });
    const handle = user.username ?? user.telegramUsername;
    $("#home-handle").textContent = handle ? `@${handle}` : "";
    $("#home-handle").hidden = !handle;
    fillAvatar($("#home-avatar"), user);
    for (const input of document.querySelectorAll("[data-language-switch] input")) {
      input.checked = input.value === config.locale;
    }
    $("#home-account").hidden = this.session.viaTelegram;
    $("#home-error").textContent = "";
  }

  connect() {
    this.connection?.close();
    const connection = new Connection(() => this.session.token, {
      // Called when the server ended the socket because its token expired.
      renew: () =>
        this.session.tokenExpired(1000) ? this.session.refresh() : Promise.resolve(this.session.token),
    });
    this.connection = connection;
    connection.addEventListener("sessionended", () => this.sessionEnded());
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
    this.invites.watch(connection);
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

  /**
   * The server ended this session (signed out everywhere, or the token cannot be renewed). In a
   * browser: the sign-in forms. Inside Telegram the account is Telegram's: open again, which
   * signs in with initData (at most once a minute, should the server keep refusing).
   */
  sessionEnded() {
    if (this.session.viaTelegram) {
      let last = 0;
      try {
        last = Number(sessionStorage.getItem("vmeste.sessionEndedAt")) || 0;
        sessionStorage.setItem("vmeste.sessionEndedAt", String(Date.now()));
      } catch {
        /* no storage: reload anyway */
      }
      if (Date.now() - last > 60_000) {
        window.location.reload();
        return;
      }
    }
    this.signOut();
  }

  /** Every token so far stops working and every socket of this account closes (all devices). */
  async signOutEverywhere() {
    try {
      await this.session.signOutEverywhere();
    } catch (error) {
      $("#home-error").textContent = messageFor(error);
      return;
    }
    this.signOut();
  }

  signOut() {
    this.invites.watch(null);
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
