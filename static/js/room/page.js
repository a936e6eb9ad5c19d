// The room page: opens a room with one socket round trip (room:join: membership, then the
// snapshot {room, queue, playback, participants, messages}), keeps the state the widgets share
// (room, queue, participants, my role) and routes the room's events to them:
//
//   player.js        the player, the SyncController and the playback controls
//   participants.js  who is here, with the host's and moderators' actions
//   queue.js         what plays next
//   controls.js      the host's settings and closing the room
//   chat.js          messages (reactions.js and replay.js float the emoji)
//   gifts.js         the gift picker (gift:send); ../gift-fx.js shows every gift:sent
//
// What my role may do comes from the server (room.permissions, see ../permissions.js).
// Echo suppression (docs/rooms-protocol.md): the server does not send us the room:state our own
// command caused; the command's ack carries that state and is applied like any other.

import { ApiError } from "../api.js";
import { messageFor } from "../errors.js";
import { GiftShow } from "../gift-fx.js";
import { t } from "../i18n.js";
import { roomLink, telegramShareUrl } from "../links.js";
import { Action, actsOn, can } from "../permissions.js";
import { Reactions } from "../reactions.js";
import { ReactionReplay } from "../replay.js";
import {
  confirmAction,
  haptic,
  isInsideTelegram,
  openTelegramLink,
  shareMessage,
  showBackButton,
} from "../telegram.js";
import { copyText, toast } from "../ui.js";
import { ChatView } from "./chat.js";
import { HostControls } from "./controls.js";
import { GiftPicker } from "./gifts.js";
import { Participants } from "./participants.js";
import { PlayerPanel } from "./player.js";
import { QueuePanel } from "./queue.js";

const UI_TICK_MS = 250;
const UNWATCH_TIMEOUT_MS = 1500; // room:unwatch is a courtesy: never wait long for its ack
const CONNECT_TIMEOUT_MS = 15000; // opening a room waits this long for the socket
/** Join errors after which trying again cannot help: the page goes back to the list. */
const FINAL_JOIN_ERRORS = new Set(["forbidden", "not_found", "validation_error"]);
/** Join errors of a backend that is briefly away (Redis, the database): join again shortly. */
const RETRY_JOIN_ERRORS = new Set(["unavailable", "database_unavailable"]);
const REJOIN_RETRY_MS = 2000;

/** A socket error ({code, message, details}) as an ApiError, like the REST ones. */
function apiError(error) {
  if (error instanceof ApiError) return error;
  return new ApiError({ code: error?.code ?? "internal_error", message: error?.message, details: error?.details });
}

/** Resolves once `connection` is connected; rejects (network_error) when it goes offline. */
function connected(connection, timeoutMs = CONNECT_TIMEOUT_MS) {
  if (connection.state === "connected") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error) => {
      clearTimeout(timer);
      connection.removeEventListener("statechange", check);
      if (error) reject(error);
      else resolve();
    };
    const check = () => {
      if (connection.state === "connected") done();
      else if (connection.state === "offline") done(new ApiError({ code: "network_error" }));
    };
    const timer = setTimeout(() => done(new ApiError({ code: "network_error" })), timeoutMs);
    connection.addEventListener("statechange", check);
    check();
  });
}

export class RoomView {
  constructor(root, { api, onExit, onOpenWallet = () => {} }) {
    this.root = root;
    this.api = api;
    this.connection = null; // set by attach() before open()
    this.me = null;
    this.onExit = onExit;
    this.room = null;
    this.invite = null;
    this.queue = [];
    this.participants = new Map(); // user id → {user, role}
    this.offs = [];
    this.timer = null;
    this.hideBack = () => {};
    this.$ = (selector) => root.querySelector(selector);

    this.playerPanel = new PlayerPanel(this);
    this.people = new Participants(this);
    this.queuePanel = new QueuePanel(this);
    this.hostControls = new HostControls(this);
    this.giftShow = new GiftShow(root.querySelector("#gift-layer"));
    this.gifts = new GiftPicker(this, {
      onOpenWallet,
      onSent: (sent) => this.giftShow.show(sent),
    });
    this.chat = new ChatView(root, {
      giftName: (id) => this.gifts.catalogue.get(id)?.name ?? null,
      me: null,
      send: (text) => this.command("chat:send", { text }),
      remove: (messageId) => this.command("chat:delete", { messageId }),
      canDelete: (message) => this.mayDelete(message),
    });
    this.reactions = new Reactions(root, {
      // With the item on screen: should the room have moved on, nothing is stored.
      send: (emoji) => this.command("reaction:send", this.playerPanel.reactionPoint(emoji)),
    });
    this.replay = new ReactionReplay({ api, reactions: this.reactions });
    this.bind();
  }

  // --- state the widgets read ---------------------------------------------------------------

  /** The player adapter on screen (null while loading or when nothing plays). */
  get player() {
    return this.playerPanel.player;
  }

  get playback() {
    return this.playerPanel.playback;
  }

  get myRole() {
    return this.room?.myRole ?? null;
  }

  /** Whether my role may take `action` here now (../permissions.js; Action.* names). */
  can(action) {
    return can(this.room, this.myRole, action);
  }

  /** Whether my role outranks `role` (may kick, delete messages of). */
  actsOn(role) {
    return actsOn(this.room, this.myRole, role);
  }

  /** May I delete `message`: my own always; system lines and others' as my role allows. */
  mayDelete(message) {
    if (!this.room || !this.me) return false;
    const authorId = message.user?.id ?? null;
    if (authorId === this.me.id) return true;
    if (!this.can(Action.DELETE_MESSAGE)) return false;
    if (authorId === null) return true; // a system message
    if (authorId === this.room.host?.id) return false;
    return this.actsOn(this.participants.get(authorId)?.role ?? "member");
  }

  // --- opening and closing ------------------------------------------------------------------

  /** The signed-in user and their socket (both change on sign-out and sign-in). */
  attach({ connection, me }) {
    this.connection = connection;
    this.me = me;
    this.chat.me = me;
  }

  /**
   * Join and show the room `code` (a code or an id): one room:join once the socket is up.
   * Rejects with an ApiError (not_found, forbidden with details.reason, room_full, network...).
   */
  async open({ code, invite = null }) {
    this.invite = invite;
    await connected(this.connection);
    // The gift catalogue names the gifts of the chat's gift lines (never fails: empty without).
    const [snapshot] = await Promise.all([this.join(code), this.gifts.load()]);
    this.applySnapshot(snapshot);
    this.listen();
    this.hideBack = showBackButton(() => this.exit());
    this.timer = setInterval(() => this.playerPanel.tick(), UI_TICK_MS);
  }

  /** room:join → the snapshot; throws an ApiError. */
  async join(roomId) {
    const rtt = this.connection.clockRtt;
    try {
      const snapshot = await this.connection.request("room:join", {
        roomId,
        ...(this.invite ? { inviteCode: this.invite } : {}),
        ...(rtt !== null ? { rtt: Math.round(rtt) } : {}),
      });
      // Disconnected while joining: the server answers {} (the next connection joins again).
      if (!snapshot.room) throw new ApiError({ code: "network_error" });
      return snapshot;
    } catch (error) {
      throw apiError(error);
    }
  }

  /** After a reconnection: join again for a fresh snapshot. */
  async rejoin() {
    if (!this.room) return;
    const roomId = this.room.id;
    try {
      this.applySnapshot(await this.join(roomId));
    } catch (error) {
      console.warn("vmeste: room:join failed", error);
      if (FINAL_JOIN_ERRORS.has(error.code)) {
        this.exit(messageFor(error), { unwatch: false });
      } else if (RETRY_JOIN_ERRORS.has(error.code)) {
        // Still on this room's page: join again (the snapshot resyncs everything).
        setTimeout(() => this.room?.id === roomId && this.rejoin(), REJOIN_RETRY_MS);
      } else if (error.code !== "network_error") {
        toast(messageFor(error));
      }
    }
  }

  applySnapshot({ room, queue, playback, participants, messages }) {
    this.room = { ...this.room, ...room };
    this.queue = queue ?? [];
    this.participants = new Map((participants ?? []).map((p) => [p.user.id, p]));
    this.chat.reset(messages ?? []);
    this.renderAll();
    this.playerPanel.applyPlayback(playback, { force: true });
  }

  listen() {
    const on = (name, handler) => {
      this.offs.push(
        this.connection.on(name, (payload) => {
          if (this.room && payload?.roomId === this.room.id) handler(payload);
        }),
      );
    };
    on("room:state", ({ playback }) => this.playerPanel.applyPlayback(playback));
    on("queue:updated", ({ queue }) => this.setQueue(queue));
    on("participant:joined", ({ user, role }) => {
      this.participants.set(user.id, { user, role, online: true });
      this.renderPeople();
    });
    on("participant:left", ({ userId }) => {
      this.participants.delete(userId);
      this.renderPeople();
    });
    on("participant:role", ({ userId, role }) => this.setRole(userId, role));
    on("room:updated", ({ roomId, ...changes }) => {
      // The permissions come along (the control mode changes what members may do).
      this.room = { ...this.room, ...changes };
      this.renderAll();
    });
    on("chat:message", (message) => this.chat.add(message));
    on("chat:deleted", ({ messageId }) => this.chat.markDeleted(messageId));
    on("reaction", (reaction) => this.reactions.show(reaction));
    on("gift:sent", (sent) => this.giftShow.show(sent));
    // Mine, whatever the room: the picker's balance.
    this.offs.push(this.connection.on("wallet:updated", (balance) => this.gifts.setBalance(balance)));
    on("room:closed", () => this.exit(t("roomClosed"), { unwatch: false }));
    on("room:kicked", () => this.exit(t("youWereRemoved"), { unwatch: false }));
    const reportRtt = () => {
      if (this.room && this.connection.clockRtt !== null) {
        const rtt = Math.round(this.connection.clockRtt);
        this.connection.request("presence:rtt", { roomId: this.room.id, rtt }).catch(() => {});
      }
    };
    this.listenTo("clocksync", reportRtt);
    this.listenTo("connect", () => this.rejoin());
  }

  listenTo(type, handler) {
    this.connection.addEventListener(type, handler);
    this.offs.push(() => this.connection.removeEventListener(type, handler));
  }

  /** participant:role: someone's role changed (a handover moves "host" from one to another). */
  setRole(userId, role) {
    const participant = this.participants.get(userId);
    if (participant) participant.role = role;
    if (userId === this.me.id) this.room.myRole = role;
    if (role === "host") {
      this.room.host = participant?.user ?? this.room.host;
      for (const other of this.participants.values()) {
        if (other.user.id !== userId && other.role === "host") other.role = "member";
      }
      if (userId !== this.me.id && this.room.myRole === "host") this.room.myRole = "member";
    }
    this.renderAll();
  }

  /** A new queue (an ack or queue:updated). */
  setQueue(queue) {
    if (!queue) return;
    this.queue = queue;
    this.queuePanel.render();
    this.playerPanel.queueChanged();
  }

  /**
   * Leave the page (not the room): stop the player and listeners. `unwatch` tells the server
   * this connection no longer watches (room:unwatch: presence drops, membership stays); not
   * waited for, so navigation never hangs on it.
   */
  close({ unwatch = true } = {}) {
    if (!this.room) return;
    if (unwatch) {
      this.connection
        ?.request("room:unwatch", { roomId: this.room.id }, { timeout: UNWATCH_TIMEOUT_MS })
        .catch(() => {});
    }
    for (const off of this.offs) off();
    this.offs = [];
    clearInterval(this.timer);
    this.gifts.close();
    this.giftShow.clear();
    this.hideBack();
    this.hideBack = () => {};
    this.playerPanel.reset();
    // Not room:leave: that ends the membership. Going back to the list keeps the room in
    // "My rooms"; only the "Leave the room" button leaves it.
    this.room = null;
  }

  exit(message, { unwatch = true } = {}) {
    this.close({ unwatch });
    if (message) toast(message);
    this.onExit(message);
  }

  // --- commands -----------------------------------------------------------------------------

  /** A socket command for this room; resolves to the ack (errors are thrown as ApiError). */
  async command(event, payload = {}) {
    try {
      return await this.connection.request(event, { roomId: this.room.id, ...payload });
    } catch (error) {
      throw apiError(error);
    }
  }

  /** A REST call for a host action; its effects come back as socket events. */
  async rest(method, path, body) {
    try {
      const result = await this.api.request(method, path, body);
      haptic("success");
      return result;
    } catch (error) {
      haptic("error");
      toast(messageFor(error));
      return null;
    }
  }

  // --- rendering ----------------------------------------------------------------------------

  renderAll() {
    this.renderHeader();
    this.playerPanel.render();
    this.renderPeople();
    this.queuePanel.render();
    this.hostControls.render();
  }

  renderPeople() {
    this.people.render();
    this.gifts.refresh();
    if (this.room) this.renderHeader();
    this.chat.updatePermissions(); // who may delete whose messages follows the roles
  }

  renderHeader() {
    const { room } = this;
    this.$("#room-title").textContent = room.title;
    document.title = `${room.title} · ${t("appName")}`;
    const online = this.participants.size || room.memberCount || 1;
    const parts = [t("watchingCount", { count: online })];
    if (room.visibility === "private") parts.push(t("privateRoom"));
    if (room.slowModeSeconds) parts.push(t("slowModeOn", { seconds: room.slowModeSeconds }));
    this.$("#room-meta").textContent = parts.join(" · ");
  }

  bind() {
    const back = this.$("#room-back");
    back.hidden = isInsideTelegram(); // Telegram's own back button does it there
    back.addEventListener("click", () => {
      haptic("light");
      this.exit();
    });
    const tabs = [...this.root.querySelectorAll(".room-tabs [role=tab]")];
    for (const tab of tabs) {
      tab.addEventListener("click", () => {
        haptic("selection");
        for (const other of tabs) {
          const selected = other === tab;
          other.setAttribute("aria-selected", String(selected));
          other.tabIndex = selected ? 0 : -1;
          this.$(`#${other.getAttribute("aria-controls")}`).hidden = !selected;
        }
      });
    }
    this.$("#room-share").addEventListener("click", () => this.share());
    this.$("#room-leave").addEventListener("click", () => this.leave());
  }

  // --- sharing and leaving ------------------------------------------------------------------

  async share() {
    haptic("light");
    const link = roomLink(this.room);
    if (isInsideTelegram()) {
      // A prepared inline message (the bot saves it) opens Telegram's own share sheet.
      try {
        const { id } = await this.api.post(`/api/rooms/${this.room.id}/share`, {});
        if (id && shareMessage(id)) return;
      } catch (error) {
        console.info("vmeste: no prepared share message", error);
      }
      const text = t("shareText", { title: this.room.title });
      if (openTelegramLink(telegramShareUrl(link, text))) return;
    }
    const copied = await copyText(link);
    toast(copied ? t("linkCopied") : link);
  }

  async leave() {
    const host = this.myRole === "host";
    if (!(await confirmAction(host ? t("leaveAsHostConfirm") : t("leaveConfirm")))) return;
    const result = await this.rest("POST", `/api/rooms/${this.room.id}/leave`);
    if (result) this.exit(undefined, { unwatch: false });
  }
}
